// Deployment service: what a new per-deployment HTTP service needs, and only
// that. It creates the Cloud Map service `<deploymentId>` in the namespace
// (SRV records: bridge networking gives dynamic host ports) and an ECS
// service whose tasks ECS registers into it. Routers find it at
// `/services/<deploymentId>/...` by resolving `<deploymentId>.<namespace>`,
// so adding a deployment touches neither the ALB nor its listener.
import { Construct } from 'constructs'
import { Duration, Tags } from 'aws-cdk-lib'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery'
import { DEPLOYMENT_TAG } from '../../../router/src/deployments/control.js'

/** A deployment id is one DNS label: it becomes `<id>.<namespace>`. */
const DEPLOYMENT_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/** Props of {@link DeploymentService}. */
export interface DeploymentServiceProps {
  /** Deployment id; the Cloud Map service name. One DNS label. */
  readonly deploymentId: string
  /** Cluster to run in. */
  readonly cluster: ecs.ICluster
  /** Capacity provider (workload pool) to place tasks on. */
  readonly capacityProviderName: string
  /** Namespace the Cloud Map service `<deploymentId>` is created in. */
  readonly namespace: servicediscovery.INamespace
  /** Image of the deployment. */
  readonly image: ecs.ContainerImage
  /** Port the container listens on. */
  readonly containerPort: number
  /** Number of tasks. */
  readonly desiredCount: number
  /** Log group; the stream prefix is the deployment id. */
  readonly logGroup: logs.ILogGroup
  /** TTL of the SRV records, seconds. Default 10. */
  readonly dnsTtlSeconds?: number
  /** Extra environment of the container. */
  readonly environment?: Readonly<Record<string, string>>
  /** CPU units per task. Default 256. */
  readonly cpu?: number
  /** Hard memory limit per task, MiB. Default 512. */
  readonly memoryLimitMiB?: number
}

/** One per-deployment HTTP service, discoverable as `<deploymentId>.<namespace>` (SRV). */
export class DeploymentService extends Construct {
  /** The ECS service. */
  readonly service: ecs.Ec2Service
  /** The Cloud Map service `<deploymentId>` that ECS registers tasks into. */
  readonly cloudMapService: servicediscovery.IService
  /** The deployment id. */
  readonly deploymentId: string

  constructor(scope: Construct, id: string, props: DeploymentServiceProps) {
    super(scope, id)
    if (!DEPLOYMENT_ID.test(props.deploymentId)) {
      throw new Error(`DeploymentService: deploymentId must be one DNS label (lowercase letters, digits, '-', at most 63 characters); got ${JSON.stringify(props.deploymentId)}`)
    }
    this.deploymentId = props.deploymentId

    const taskDefinition = new ecs.Ec2TaskDefinition(this, 'TaskDefinition', { networkMode: ecs.NetworkMode.BRIDGE })
    // Image pulls from private ECR (and log/secret access) go through the execution role.
    taskDefinition.obtainExecutionRole().addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonECSTaskExecutionRolePolicy'))
    const container = taskDefinition.addContainer('app', {
      image: props.image,
      essential: true,
      cpu: props.cpu ?? 256,
      memoryLimitMiB: props.memoryLimitMiB ?? 512,
      environment: { PORT: String(props.containerPort), DEPLOYMENT_ID: props.deploymentId, ...props.environment },
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: props.deploymentId }),
    })
    container.addPortMappings({ containerPort: props.containerPort, hostPort: 0, protocol: ecs.Protocol.TCP })

    this.service = new ecs.Ec2Service(this, 'Service', {
      cluster: props.cluster,
      taskDefinition,
      desiredCount: props.desiredCount,
      capacityProviderStrategies: [{ capacityProvider: props.capacityProviderName, weight: 1 }],
      placementStrategies: [ecs.PlacementStrategy.spreadAcross('attribute:ecs.availability-zone')],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      cloudMapOptions: {
        cloudMapNamespace: props.namespace,
        name: props.deploymentId,
        dnsRecordType: servicediscovery.DnsRecordType.SRV,
        dnsTtl: Duration.seconds(props.dnsTtlSeconds ?? 10),
        container,
        containerPort: props.containerPort,
      },
    })
    const cloudMapService = this.service.cloudMapService
    if (cloudMapService === undefined) throw new Error('DeploymentService: ECS did not create the Cloud Map service')
    this.cloudMapService = cloudMapService
    Tags.of(cloudMapService).add(DEPLOYMENT_TAG, props.namespace.namespaceName)
  }
}
