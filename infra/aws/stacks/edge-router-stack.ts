// EdgeRouterStack: one environment (dev, stg or prod). Builds each concern's
// construct and does all the cross-wiring between them: security group rules,
// the router's registration in the ALB target group, drain timing shared by
// the ALB and the router, Cloud Map ids handed to the media nodes and the
// stopped-task reaper, alarm actions, outputs.
import type { Construct } from 'constructs'
import { CfnOutput, Stack, Tags } from 'aws-cdk-lib'
import type { StackProps } from 'aws-cdk-lib'
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager'
import type { EnvironmentConfig } from '../config.js'
import { Compute, DYNAMIC_HOST_PORTS } from '../constructs/compute.js'
import { DeploymentService } from '../constructs/deployment-service.js'
import { Discovery } from '../constructs/discovery.js'
import { Edge, albMarksUnhealthyWithinSeconds } from '../constructs/edge.js'
import { MediaNodeService } from '../constructs/media-node-service.js'
import { Network } from '../constructs/network.js'
import { Observability, toRetentionDays } from '../constructs/observability.js'
import { RouterService } from '../constructs/router-service.js'
import { StoppedTaskReaper } from '../constructs/stopped-task-reaper.js'
import { routerStopTimeoutSeconds } from '../router-drain.js'

/** Props of {@link EdgeRouterStack}. */
export interface EdgeRouterStackProps extends StackProps {
  /** Validated configuration of the environment. */
  readonly config: EnvironmentConfig
}

/** The whole edge router environment. */
export class EdgeRouterStack extends Stack {
  /** VPC. */
  readonly network: Network
  /** Cluster and capacity. */
  readonly compute: Compute
  /** Cloud Map namespace and media service. */
  readonly discovery: Discovery
  /** ALB, listeners, router target group. */
  readonly edge: Edge
  /** Logs, alarms, topic. */
  readonly observability: Observability
  /** Router tier. */
  readonly router: RouterService
  /** Media nodes. */
  readonly mediaNodes: MediaNodeService
  /** Deregisters stopped media node tasks from Cloud Map (a killed node cannot). */
  readonly reaper: StoppedTaskReaper
  /** Per-deployment services, by deployment id. */
  readonly deployments: ReadonlyMap<string, DeploymentService>

  constructor(scope: Construct, id: string, props: EdgeRouterStackProps) {
    super(scope, id, props)
    const { config } = props
    Tags.of(this).add('project', 'ecs-edge-router')
    Tags.of(this).add('environment', config.name)

    this.network = new Network(this, 'Network', {
      cidr: config.vpcCidr,
      natGateways: config.natGateways,
      ...(config.availabilityZones ? { availabilityZones: config.availabilityZones } : {}),
    })
    const { vpc } = this.network

    // The router keeps serving for drainDelaySeconds after SIGTERM with /health
    // 503: long enough for the ALB's health check to mark it unhealthy first.
    if (config.drainDelaySeconds < albMarksUnhealthyWithinSeconds()) {
      throw new Error(`drainDelaySeconds (${config.drainDelaySeconds}) must be >= ${albMarksUnhealthyWithinSeconds()}: the router target group's health check (interval × unhealthy threshold + timeout) must see /health 503 before the router stops accepting`)
    }
    const drainSeconds = config.drainDelaySeconds + config.drainTimeoutSeconds
    this.compute = new Compute(this, 'Compute', {
      vpc,
      subnets: this.network.privateSubnets,
      router: { instanceType: config.routerInstanceType, minCapacity: 2, maxCapacity: Math.max(2, config.routerMaxTasks) },
      workload: { instanceType: config.workloadInstanceType, minCapacity: 1, maxCapacity: 50 },
      agentStopTimeoutSeconds: routerStopTimeoutSeconds(config.drainDelaySeconds, config.drainTimeoutSeconds),
    })

    this.discovery = new Discovery(this, 'Discovery', { vpc, namespaceName: config.namespaceName })

    this.edge = new Edge(this, 'Edge', {
      vpc,
      subnets: this.network.publicSubnets,
      certificateArn: config.certificateArn,
      idleTimeoutSeconds: config.idleTimeoutSeconds,
      routerPort: RouterService.PORT,
      healthCheckPath: '/health',
      // ECS stops a task only after its target has drained: ALB stops sending new
      // requests, then SIGTERM starts the router's own drain. Same total both sides.
      deregistrationDelaySeconds: drainSeconds,
      ...(config.wafWebAclArn ? { wafWebAclArn: config.wafWebAclArn } : {}),
      deletionProtection: config.name === 'prod',
    })

    this.observability = new Observability(this, 'Observability', {
      loadBalancer: this.edge.loadBalancer,
      routerTargetGroup: this.edge.routerTargetGroup,
      logRetentionDays: config.logRetentionDays,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
      retainLogs: config.name === 'prod',
    })

    // Security groups. Bridge-mode tasks use their instance's group:
    // ALB -> router instances on the dynamic host ports, and nothing else in;
    // router instances -> workload instances on the dynamic host ports.
    const { routerPool, workloadPool } = this.compute
    routerPool.securityGroup.connections.allowFrom(this.edge.securityGroup, DYNAMIC_HOST_PORTS, 'ALB to router tasks (dynamic host ports)')
    workloadPool.securityGroup.connections.allowFrom(routerPool.securityGroup, DYNAMIC_HOST_PORTS, 'Routers to media nodes and deployments (dynamic host ports)')

    const adminToken = new secretsmanager.Secret(this, 'RouterAdminToken', {
      description: 'Bearer token of the router admin port (ADMIN_TOKEN)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    })

    this.router = new RouterService(this, 'Router', {
      cluster: this.compute.cluster,
      capacityProviderName: routerPool.capacityProvider.capacityProviderName,
      image: ecs.ContainerImage.fromRegistry(config.routerImage),
      namespaceName: config.namespaceName,
      mediaServiceName: this.discovery.mediaServiceName,
      logGroup: this.observability.routerLogGroup,
      adminToken,
      drainDelaySeconds: config.drainDelaySeconds,
      drainTimeoutSeconds: config.drainTimeoutSeconds,
      minTasks: config.routerMinTasks,
      maxTasks: config.routerMaxTasks,
      ...(config.routerDeploymentControl ? { deploymentControl: { namespaceArn: this.discovery.namespace.namespaceArn, hostedZoneArn: this.discovery.hostedZoneArn } } : {}),
    })

    // The ALB's only action forwards here: routers register by instance + dynamic host port.
    this.edge.routerTargetGroup.addTarget(this.router.loadBalancerTarget())

    // A token of its own: a leaked router token must not drain media nodes, and the other way round.
    const mediaNodeAdminToken = new secretsmanager.Secret(this, 'MediaNodeAdminToken', {
      description: 'Bearer token of the media node admin port (ADMIN_TOKEN: POST /admin/drain, /admin/force-close)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    })

    this.mediaNodes = new MediaNodeService(this, 'MediaNodes', {
      cluster: this.compute.cluster,
      capacityProviderName: workloadPool.capacityProvider.capacityProviderName,
      image: ecs.ContainerImage.fromRegistry(config.mediaNodeImage),
      namespaceName: config.namespaceName,
      cloudMapServiceName: this.discovery.mediaServiceName,
      cloudMapServiceId: this.discovery.mediaServiceId,
      cloudMapServiceArn: this.discovery.mediaServiceArn,
      hostedZoneArn: this.discovery.hostedZoneArn,
      logGroup: this.observability.mediaNodeLogGroup,
      desiredCount: config.mediaNodeTasks,
      adminToken: mediaNodeAdminToken,
    })

    // A node that is SIGKILLed, OOM-killed or loses its host never deregisters;
    // its custom-health entry would stay HEALTHY for good. ECS's STOPPED event
    // for its task removes it.
    this.reaper = new StoppedTaskReaper(this, 'StoppedTaskReaper', {
      service: this.mediaNodes.service,
      cloudMapServiceId: this.discovery.mediaServiceId,
      cloudMapServiceArn: this.discovery.mediaServiceArn,
      hostedZoneArn: this.discovery.hostedZoneArn,
      logRetention: toRetentionDays(config.logRetentionDays),
      retain: config.name === 'prod',
    })
    const alarmAction = new cwActions.SnsAction(this.observability.alarmTopic)
    this.reaper.deadLetterAlarm.addAlarmAction(alarmAction)
    this.reaper.deadLetterAlarm.addOkAction(alarmAction)

    const deployments = new Map<string, DeploymentService>()
    for (const d of config.deployments) {
      deployments.set(d.id, new DeploymentService(this, `Deployment-${d.id}`, {
        deploymentId: d.id,
        cluster: this.compute.cluster,
        capacityProviderName: workloadPool.capacityProvider.capacityProviderName,
        namespace: this.discovery.namespace,
        image: ecs.ContainerImage.fromRegistry(d.image),
        containerPort: d.containerPort,
        desiredCount: d.desiredCount,
        logGroup: this.observability.deploymentLogGroup,
      }))
    }
    this.deployments = deployments

    new CfnOutput(this, 'LoadBalancerDnsName', { value: this.edge.loadBalancer.loadBalancerDnsName, description: 'Point the public hostname (CNAME/alias) here' })
    new CfnOutput(this, 'ClusterName', { value: this.compute.cluster.clusterName })
    new CfnOutput(this, 'NamespaceId', { value: this.discovery.namespace.namespaceId, description: 'Cloud Map namespace for new deployments' })
    new CfnOutput(this, 'NamespaceName', { value: config.namespaceName })
    new CfnOutput(this, 'MediaServiceId', { value: this.discovery.mediaServiceId })
    new CfnOutput(this, 'MediaNodeServiceName', { value: this.mediaNodes.service.serviceName, description: 'ECS service of the media nodes (aws ecs list-tasks --service-name)' })
    new CfnOutput(this, 'MediaNodeAdminTokenArn', { value: mediaNodeAdminToken.secretArn, description: 'Secret holding the media node ADMIN_TOKEN' })
    new CfnOutput(this, 'WorkloadCapacityProvider', { value: workloadPool.capacityProvider.capacityProviderName })
    new CfnOutput(this, 'AlarmTopicArn', { value: this.observability.alarmTopic.topicArn })
  }
}
