// Router service: the edge router tier on ECS EC2 (bridge networking, dynamic
// host ports). Scales 2..20 on CPU, and its task role may only look targets
// up in Cloud Map. The stack registers it in the ALB's router target group
// (`loadBalancerTarget()`), with the drain timing it shares with the ALB.
import { Construct } from 'constructs'
import { Duration, Stack } from 'aws-cdk-lib'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager'
import { MAX_STOP_TIMEOUT_SECONDS, STOP_TIMEOUT_MARGIN_SECONDS, drainHttpTimeoutSeconds, routerStopTimeoutSeconds } from '../router-drain.js'


/** Props of {@link RouterService}. */
export interface RouterServiceProps {
  /** Cluster to run in. */
  readonly cluster: ecs.ICluster
  /** Capacity provider (router pool) to place tasks on. */
  readonly capacityProviderName: string
  /** Router image. */
  readonly image: ecs.ContainerImage
  /** Cloud Map namespace name (`CLOUDMAP_NAMESPACE`). */
  readonly namespaceName: string
  /** Cloud Map service name of the media nodes (`MEDIA_SERVICE`). */
  readonly mediaServiceName: string
  /** Discovery mode (`DISCOVERY_MODE`). Default `dns`. */
  readonly discoveryMode?: 'dns' | 'cloudmap'
  /** Resolver(s) for `DNS_SERVERS`. Default the Amazon-provided VPC resolver. */
  readonly dnsServers?: readonly string[]
  /** Log group for the container's stdout/stderr. */
  readonly logGroup: logs.ILogGroup
  /** Secret holding `ADMIN_TOKEN` (bearer token of the admin port). */
  readonly adminToken: secretsmanager.ISecret
  /** Seconds `/health` answers 503 before the listener stops accepting (`DRAIN_DELAY_MS`). */
  readonly drainDelaySeconds: number
  /** Seconds open connections get after that (`DRAIN_TIMEOUT_MS`). */
  readonly drainTimeoutSeconds: number
  /** Minimum task count (>= 2). */
  readonly minTasks: number
  /** Maximum task count. */
  readonly maxTasks: number
  /** CPU utilisation target of the scaling policy, percent. Default 60. */
  readonly cpuTargetPercent?: number
  /** CPU units per task. Default 512. */
  readonly cpu?: number
  /** Hard memory limit per task, MiB. Default 1024. */
  readonly memoryLimitMiB?: number
}

/** The router tier: ECS EC2 service behind the ALB's only action. */
export class RouterService extends Construct {
  /** Main listener port inside the container. */
  static readonly PORT = 8080
  /** Admin (metrics, /admin) port inside the container; not exposed to the ALB. */
  static readonly ADMIN_PORT = 9090
  /** The ECS service. */
  readonly service: ecs.Ec2Service
  /** Task definition (bridge networking). */
  readonly taskDefinition: ecs.Ec2TaskDefinition
  /** Task role: only servicediscovery:DiscoverInstances / DiscoverInstancesRevision. */
  readonly taskRole: iam.Role
  /** The router container. */
  readonly container: ecs.ContainerDefinition

  /** The router container's main port as an ALB target (instance + dynamic host port). */
  loadBalancerTarget(): ecs.IEcsLoadBalancerTarget {
    return this.service.loadBalancerTarget({ containerName: this.container.containerName, containerPort: RouterService.PORT })
  }

  constructor(scope: Construct, id: string, props: RouterServiceProps) {
    super(scope, id)
    const { drainDelaySeconds, drainTimeoutSeconds } = props
    const stopTimeoutSeconds = routerStopTimeoutSeconds(drainDelaySeconds, drainTimeoutSeconds)
    if (stopTimeoutSeconds > MAX_STOP_TIMEOUT_SECONDS) {
      throw new Error(`RouterService: drainDelaySeconds + min(30, drainTimeoutSeconds) + drainTimeoutSeconds + ${STOP_TIMEOUT_MARGIN_SECONDS} must be <= ${MAX_STOP_TIMEOUT_SECONDS}; got ${stopTimeoutSeconds}`)
    }
    if (props.minTasks < 2 || props.maxTasks < props.minTasks) throw new Error(`RouterService: need 2 <= minTasks <= maxTasks; got ${props.minTasks}..${props.maxTasks}`)

    // DiscoverInstances and DiscoverInstancesRevision have no resource type in
    // the Service Authorization Reference, so Resource must be "*". The
    // servicediscovery:NamespaceName condition key is documented for
    // DiscoverInstances; it narrows that action to our namespace.
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Edge router tasks: Cloud Map lookups only',
      inlinePolicies: {
        CloudMapDiscovery: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'DiscoverInstancesInNamespace',
              actions: ['servicediscovery:DiscoverInstances'],
              resources: ['*'],
              conditions: { StringEquals: { 'servicediscovery:NamespaceName': props.namespaceName } },
            }),
            new iam.PolicyStatement({
              sid: 'DiscoverInstancesRevision',
              actions: ['servicediscovery:DiscoverInstancesRevision'],
              resources: ['*'],
            }),
          ],
        }),
      },
    })

    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'TaskDefinition', {
      networkMode: ecs.NetworkMode.BRIDGE,
      taskRole: this.taskRole,
    })

    // Image pulls from private ECR (and log/secret access) go through the execution role.
    this.taskDefinition.obtainExecutionRole().addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonECSTaskExecutionRolePolicy'))
    this.container = this.taskDefinition.addContainer('router', {
      image: props.image,
      essential: true,
      cpu: props.cpu ?? 512,
      memoryLimitMiB: props.memoryLimitMiB ?? 1024,
      stopTimeout: Duration.seconds(stopTimeoutSeconds),
      environment: {
        NODE_ENV: 'production',
        PORT: String(RouterService.PORT),
        ADMIN_PORT: String(RouterService.ADMIN_PORT),
        CLOUDMAP_NAMESPACE: props.namespaceName,
        CLOUDMAP_REGION: Stack.of(this).region,
        MEDIA_SERVICE: props.mediaServiceName,
        DISCOVERY_MODE: props.discoveryMode ?? 'dns',
        DNS_SERVERS: (props.dnsServers ?? ['169.254.169.253']).join(','),
        DRAIN_DELAY_MS: String(drainDelaySeconds * 1000),
        DRAIN_TIMEOUT_MS: String(drainTimeoutSeconds * 1000),
        DRAIN_HTTP_TIMEOUT_MS: String(drainHttpTimeoutSeconds(drainTimeoutSeconds) * 1000),
      },
      secrets: { ADMIN_TOKEN: ecs.Secret.fromSecretsManager(props.adminToken) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: 'router' }),
      healthCheck: {
        command: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${RouterService.PORT}/health').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))`],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(15),
      },
      // File descriptors: one per client connection plus one per upstream.
      ulimits: [{ name: ecs.UlimitName.NOFILE, softLimit: 65536, hardLimit: 65536 }],
    })
    this.container.addPortMappings({ containerPort: RouterService.PORT, hostPort: 0, protocol: ecs.Protocol.TCP, name: 'http' })

    this.service = new ecs.Ec2Service(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.minTasks,
      capacityProviderStrategies: [{ capacityProvider: props.capacityProviderName, weight: 1 }],
      placementStrategies: [ecs.PlacementStrategy.spreadAcross('attribute:ecs.availability-zone'), ecs.PlacementStrategy.spreadAcrossInstances()],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: Duration.seconds(30),
    })

    const scaling = this.service.autoScaleTaskCount({ minCapacity: props.minTasks, maxCapacity: props.maxTasks })
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.cpuTargetPercent ?? 60,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    })
  }
}
