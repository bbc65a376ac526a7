// Media node service: long-lived WebSocket media nodes on ECS EC2 (bridge,
// dynamic host ports). Each node registers itself in the Cloud Map `media`
// service; its task role may register, deregister, report health and list
// instances only in that service, change records only in the namespace's
// hosted zone, and set ECS task scale-in protection only on tasks of this
// cluster. The drain wiring lives here too: SIGTERM_DRAIN_TIMEOUT_MS derived
// from the stop timeout, ADMIN_TOKEN from a Secrets Manager secret, the admin
// port left unmapped (reached through ECS Exec), and a liveness health check
// on /health.
import { Construct } from 'constructs'
import { Duration, Stack } from 'aws-cdk-lib'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as logs from 'aws-cdk-lib/aws-logs'
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager'

/**
 * Grace period between SIGTERM and SIGKILL for a media node, in seconds.
 * 120 s is the largest `stopTimeout` ECS documents (a hard cap on Fargate;
 * on EC2 the agent's ECS_CONTAINER_STOP_TIMEOUT is the default when unset).
 * Hours-long sessions cannot be waited out: scale-in protection keeps busy
 * nodes from being picked, and an operator drains a node (POST /admin/drain)
 * before removing it. On SIGTERM a node drains: it turns DRAINING in Cloud Map,
 * refuses new sockets (503) and keeps relaying on the open ones until they
 * close or SIGTERM_DRAIN_TIMEOUT_MS ({@link sigtermDrainTimeoutMs}) passes;
 * the sockets left then get 1001 "Going Away" — before SIGKILL — so clients
 * reconnect through the router to another node.
 */
export const MEDIA_NODE_STOP_TIMEOUT_SECONDS = 120

/**
 * Seconds of the stop timeout kept after the SIGTERM drain for the 1001 close
 * handshakes (CLOSE_TIMEOUT_MS, 5 s by default), releasing task protection and
 * deregistering from Cloud Map, before ECS sends SIGKILL.
 */
export const SIGTERM_DRAIN_MARGIN_SECONDS = 20

/**
 * SIGTERM_DRAIN_TIMEOUT_MS for a stop timeout: `(stopTimeoutSeconds - margin) * 1000`.
 * Throws when that is not positive (a stop timeout too short to drain at all).
 */
export function sigtermDrainTimeoutMs(stopTimeoutSeconds: number, marginSeconds = SIGTERM_DRAIN_MARGIN_SECONDS): number {
  const ms = (stopTimeoutSeconds - marginSeconds) * 1000
  if (!(ms > 0)) {
    throw new Error(`MediaNodeService: stopTimeoutSeconds (${stopTimeoutSeconds}) must exceed the ${marginSeconds} s margin kept after the SIGTERM drain`)
  }
  return ms
}

/** Props of {@link MediaNodeService}. */
export interface MediaNodeServiceProps {
  /** Cluster to run in; task protection is scoped to its tasks. */
  readonly cluster: ecs.ICluster
  /** Capacity provider (workload pool) to place tasks on. */
  readonly capacityProviderName: string
  /** Media node image. */
  readonly image: ecs.ContainerImage
  /** Cloud Map namespace name (`CLOUDMAP_NAMESPACE`). */
  readonly namespaceName: string
  /** Cloud Map service name (`CLOUDMAP_SERVICE`), normally `media`. */
  readonly cloudMapServiceName: string
  /** Cloud Map service id (`CLOUDMAP_SERVICE_ID`). */
  readonly cloudMapServiceId: string
  /** Cloud Map service ARN; registration rights are scoped to it. */
  readonly cloudMapServiceArn: string
  /** ARN of the namespace's Route 53 private hosted zone (DNS records are written there on registration). */
  readonly hostedZoneArn: string
  /** Log group for the container. */
  readonly logGroup: logs.ILogGroup
  /** Number of tasks. */
  readonly desiredCount: number
  /** CPU units per task. Default 1024. */
  readonly cpu?: number
  /** Hard memory limit per task, MiB. Default 2048. */
  readonly memoryLimitMiB?: number
  /** Seconds between SIGTERM and SIGKILL. Default {@link MEDIA_NODE_STOP_TIMEOUT_SECONDS}; at most 120, more than {@link SIGTERM_DRAIN_MARGIN_SECONDS}. */
  readonly stopTimeoutSeconds?: number
  /** Secret holding `ADMIN_TOKEN` (bearer token of the admin port's `/admin/*`). Read by the execution role at task start. */
  readonly adminToken: secretsmanager.ISecret
  /**
   * Turn on ECS Exec for the service (the only way to reach the unmapped admin
   * port, e.g. to drain a node before scale-in). Adds the `ssmmessages:*Channel`
   * actions ECS Exec needs to the task role. Default true.
   */
  readonly enableExecuteCommand?: boolean
}

/** Media nodes: self-registering in Cloud Map, protected from scale-in while busy. */
export class MediaNodeService extends Construct {
  /** Port the node listens on inside the container. */
  static readonly PORT = 8080
  /**
   * Admin port (`ADMIN_PORT`: GET /status, POST /admin/drain, POST /admin/force-close).
   * Deliberately not mapped to a host port: reachable only inside the task (ECS Exec).
   */
  static readonly ADMIN_PORT = 8081
  /** The ECS service (no ECS-managed Cloud Map registration: the node registers itself). */
  readonly service: ecs.Ec2Service
  /** Task definition (bridge networking). */
  readonly taskDefinition: ecs.Ec2TaskDefinition
  /** Task role: Cloud Map registration in one service + task protection. */
  readonly taskRole: iam.Role
  /** The node container. */
  readonly container: ecs.ContainerDefinition

  constructor(scope: Construct, id: string, props: MediaNodeServiceProps) {
    super(scope, id)
    // ECS Exec needs only the four ssmmessages actions on the task role. Without
    // this flag CDK also grants logs:CreateLogStream/PutLogEvents on "*" (any log
    // group in the account); with it, only when the cluster names an exec log group.
    // Context must be set before the first child is added.
    this.node.setContext('@aws-cdk/aws-ecs:reduceEc2FargateCloudWatchPermissions', true)
    const stopTimeoutSeconds = props.stopTimeoutSeconds ?? MEDIA_NODE_STOP_TIMEOUT_SECONDS
    if (!Number.isInteger(stopTimeoutSeconds) || stopTimeoutSeconds < 1 || stopTimeoutSeconds > 120) {
      throw new Error(`MediaNodeService: stopTimeoutSeconds must be an integer in [1, 120]; got ${stopTimeoutSeconds}`)
    }
    const drainMs = sigtermDrainTimeoutMs(stopTimeoutSeconds)

    const taskArnsOfCluster = Stack.of(this).formatArn({ service: 'ecs', resource: 'task', resourceName: `${props.cluster.clusterName}/*` })
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Media node tasks: self-registration in Cloud Map and task scale-in protection',
      inlinePolicies: {
        MediaNode: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'RegisterInMediaService',
              // ListInstances: at start-up a node removes the entries of dead nodes
              // that had its address (media-node/src/registration.ts).
              actions: ['servicediscovery:RegisterInstance', 'servicediscovery:DeregisterInstance', 'servicediscovery:UpdateInstanceCustomHealthStatus', 'servicediscovery:ListInstances'],
              resources: [props.cloudMapServiceArn],
            }),
            // Cloud Map writes the SRV/A records into the namespace's private
            // hosted zone with the caller's permissions.
            new iam.PolicyStatement({
              sid: 'WriteRecordsInNamespaceZone',
              actions: ['route53:ChangeResourceRecordSets'],
              resources: [props.hostedZoneArn],
            }),
            new iam.PolicyStatement({
              sid: 'TaskScaleInProtection',
              actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
              resources: [taskArnsOfCluster],
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
    this.container = this.taskDefinition.addContainer('media-node', {
      image: props.image,
      essential: true,
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: props.memoryLimitMiB ?? 2048,
      stopTimeout: Duration.seconds(stopTimeoutSeconds),
      environment: {
        NODE_ENV: 'production',
        PORT: String(MediaNodeService.PORT),
        ADMIN_PORT: String(MediaNodeService.ADMIN_PORT),
        CLOUDMAP_NAMESPACE: props.namespaceName,
        CLOUDMAP_SERVICE: props.cloudMapServiceName,
        CLOUDMAP_SERVICE_ID: props.cloudMapServiceId,
        AWS_REGION: Stack.of(this).region,
        // A SIGTERM drain ends (1001 to the sockets left) a margin before ECS sends SIGKILL.
        SIGTERM_DRAIN_TIMEOUT_MS: String(drainMs),
      },
      // Injected by the agent at start; CDK grants the execution role read access to the secret.
      secrets: { ADMIN_TOKEN: ecs.Secret.fromSecretsManager(props.adminToken) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: 'media-node' }),
      // Liveness, not readiness: /health is 200 while ACTIVE *and* DRAINING, so
      // ECS never replaces a node that is draining its sessions (/ready is 503 then).
      healthCheck: {
        command: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${MediaNodeService.PORT}/health').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))`],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(15),
      },
      ulimits: [{ name: ecs.UlimitName.NOFILE, softLimit: 65536, hardLimit: 65536 }],
    })
    // Only the WebSocket port is mapped; ADMIN_PORT stays inside the task.
    this.container.addPortMappings({ containerPort: MediaNodeService.PORT, hostPort: 0, protocol: ecs.Protocol.TCP, name: 'http' })

    this.service = new ecs.Ec2Service(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount,
      capacityProviderStrategies: [{ capacityProvider: props.capacityProviderName, weight: 1 }],
      placementStrategies: [ecs.PlacementStrategy.spreadAcross('attribute:ecs.availability-zone'), ecs.PlacementStrategy.spreadAcrossInstances()],
      // Start the new node before stopping an old one; busy nodes are kept by task protection.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      enableExecuteCommand: props.enableExecuteCommand ?? true,
    })
  }
}
