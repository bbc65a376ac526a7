// Router service: the edge router tier on ECS EC2 (bridge networking, dynamic
// host ports). Scales 2..20 on CPU, and its task role may only look targets
// up in Cloud Map — unless `deploymentControl` is given: then the admin
// dashboard may switch and drain blue/green deployments (DEPLOYMENT_CONTROL),
// and the role may write the app registries and mark deployment instances
// DRAINING in its namespace, scoped by the tags those services carry. The
// stack registers it in the ALB's router target group (`loadBalancerTarget()`),
// with the drain timing it shares with the ALB.
import { Construct } from 'constructs'
import { Duration, Stack } from 'aws-cdk-lib'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager'
import { MAX_STOP_TIMEOUT_SECONDS, STOP_TIMEOUT_MARGIN_SECONDS, drainHttpTimeoutSeconds, routerStopTimeoutSeconds } from '../router-drain.js'
import { DEPLOYMENT_TAG, REGISTRY_TAG } from '../../../router/src/deployments/control.js'


/** What the router needs to write blue/green app registries (the dashboard's deployment actions). */
export interface RouterDeploymentControlProps {
  /** ARN of the Cloud Map namespace (GetOperation is authorized on it). */
  readonly namespaceArn: string
  /** ARN of the namespace's private hosted zone: Cloud Map writes the markers' records with the caller's rights. */
  readonly hostedZoneArn: string
}

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
  /**
   * Let the admin dashboard switch and drain deployments of blue/green apps
   * (`DEPLOYMENT_CONTROL=true` and the IAM rights for it). Default: off, and the
   * role stays read-only.
   */
  readonly deploymentControl?: RouterDeploymentControlProps
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
  /** Task role: Cloud Map lookups; with `deploymentControl`, also the registry writes. */
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
        ...(props.deploymentControl !== undefined ? { DeploymentControl: deploymentControlPolicy(this, props.namespaceName, props.deploymentControl) } : {}),
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
        ...(props.deploymentControl !== undefined ? { DEPLOYMENT_CONTROL: 'true' } : {}),
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

/**
 * The writes of router/src/deployments/registry.ts, least privilege. Cloud
 * Map authorizes RegisterInstance, DeregisterInstance and ListInstances on a
 * service ARN, which carries the service's id, not its name, and offers no
 * service-name condition for them (Service Authorization Reference); app
 * registries are created at run time (`npm run deployments`), so their ids
 * are unknown here. The services are therefore matched by the tags they are
 * created with (`aws:ResourceTag`, which these actions support): a registry
 * (`REGISTRY_TAG`) may get markers added, removed and listed; a deployment
 * (`DEPLOYMENT_TAG`) may only have its instances re-registered (drain marks
 * them DRAINING, a switch back clears it). ListNamespaces and ListServices
 * have no resource type ("*"); GetOperation needs the namespace (and is
 * given the services too: the reference lists both resource types for it).
 */
function deploymentControlPolicy(scope: Construct, namespaceName: string, p: RouterDeploymentControlProps): iam.PolicyDocument {
  const services = Stack.of(scope).formatArn({ service: 'servicediscovery', resource: 'service', resourceName: '*' })
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'FindRegistryAndDeploymentServices',
        actions: ['servicediscovery:ListNamespaces', 'servicediscovery:ListServices'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'WriteAppRegistries',
        actions: ['servicediscovery:ListInstances', 'servicediscovery:RegisterInstance', 'servicediscovery:DeregisterInstance'],
        resources: [services],
        conditions: { StringEquals: { [`aws:ResourceTag/${REGISTRY_TAG}`]: namespaceName } },
      }),
      new iam.PolicyStatement({
        sid: 'MarkDeploymentInstancesDraining',
        actions: ['servicediscovery:RegisterInstance'],
        resources: [services],
        conditions: { StringEquals: { [`aws:ResourceTag/${DEPLOYMENT_TAG}`]: namespaceName } },
      }),
      new iam.PolicyStatement({
        sid: 'FollowRegistryOperations',
        actions: ['servicediscovery:GetOperation'],
        resources: [p.namespaceArn, services],
      }),
      // Cloud Map writes the markers' SRV records into the namespace's zone with the caller's rights.
      new iam.PolicyStatement({
        sid: 'WriteRecordsInNamespaceZone',
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [p.hostedZoneArn],
      }),
    ],
  })
}
