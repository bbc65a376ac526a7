// Compute: the ECS cluster and its EC2 capacity. Two Auto Scaling group
// capacity providers with ECS managed scaling: `router` (the edge tier, the
// only instances the ALB may reach) and `workload` (media nodes and
// per-deployment services, reachable only from the router instances).
// Bridge networking shares the instance's security group with its tasks, so
// separate pools are what lets each tier have its own ingress rules.
import { Construct } from 'constructs'
import { Duration } from 'aws-cdk-lib'
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as iam from 'aws-cdk-lib/aws-iam'

/** Host port range ECS hands out for `hostPort: 0` in bridge mode (covers old and new agent defaults). */
export const DYNAMIC_HOST_PORTS = ec2.Port.tcpRange(32768, 65535)

/** Props of one capacity pool. */
export interface CapacityPoolProps {
  /** EC2 instance type, e.g. `t3.medium`. */
  readonly instanceType: string
  /** Minimum instances in the Auto Scaling group. */
  readonly minCapacity: number
  /** Maximum instances in the Auto Scaling group. */
  readonly maxCapacity: number
  /** Managed scaling target utilisation in percent (100 = no spare instance). */
  readonly targetCapacityPercent?: number
}

/** Props of {@link Compute}. */
export interface ComputeProps {
  /** VPC of the cluster. */
  readonly vpc: ec2.IVpc
  /** Private subnets for the container instances (no public IPs). */
  readonly subnets: ec2.SubnetSelection
  /** Pool for router tasks. */
  readonly router: CapacityPoolProps
  /** Pool for media nodes and per-deployment services. */
  readonly workload: CapacityPoolProps
  /**
   * ECS agent `ECS_CONTAINER_STOP_TIMEOUT` in seconds: the default grace period
   * between SIGTERM and SIGKILL for containers that set no `stopTimeout`.
   */
  readonly agentStopTimeoutSeconds: number
}

/** One EC2 Auto Scaling group registered as an ECS capacity provider. */
export interface CapacityPool {
  /** The Auto Scaling group. */
  readonly autoScalingGroup: autoscaling.AutoScalingGroup
  /** The capacity provider (managed scaling on). */
  readonly capacityProvider: ecs.AsgCapacityProvider
  /** Security group of the instances, and so of their bridge-mode tasks. */
  readonly securityGroup: ec2.SecurityGroup
}

/** ECS cluster with two EC2 capacity providers under managed scaling. */
export class Compute extends Construct {
  /** The cluster. */
  readonly cluster: ecs.Cluster
  /** Capacity for the router tier. */
  readonly routerPool: CapacityPool
  /** Capacity for media nodes and deployments. */
  readonly workloadPool: CapacityPool

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id)
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    })
    this.routerPool = this.#addPool('Router', props, props.router)
    this.workloadPool = this.#addPool('Workload', props, props.workload)
  }

  #addPool(name: string, props: ComputeProps, pool: CapacityPoolProps): CapacityPool {
    const securityGroup = new ec2.SecurityGroup(this, `${name}InstanceSecurityGroup`, {
      vpc: props.vpc,
      description: `${name} container instances (bridge-mode tasks share this group)`,
      allowAllOutbound: true,
    })
    const role = new iam.Role(this, `${name}InstanceRole`, {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `${name} ECS container instances`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEC2ContainerServiceforEC2Role')],
    })
    const userData = ec2.UserData.forLinux()
    userData.addCommands(
      `echo ECS_CONTAINER_STOP_TIMEOUT=${props.agentStopTimeoutSeconds}s >> /etc/ecs/ecs.config`,
      // Container metadata file: carries HostPrivateIPv4Address and the host port, which a
      // bridge-mode task needs to register itself (task metadata v4 has only the bridge IP).
      'echo ECS_ENABLE_CONTAINER_METADATA=true >> /etc/ecs/ecs.config',
    )
    // A launch template (launch configurations are deprecated), IMDSv2 only, no public IP.
    const launchTemplate = new ec2.LaunchTemplate(this, `${name}LaunchTemplate`, {
      instanceType: new ec2.InstanceType(pool.instanceType),
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(),
      securityGroup,
      role,
      userData,
      requireImdsv2: true,
      associatePublicIpAddress: false,
    })
    const autoScalingGroup = new autoscaling.AutoScalingGroup(this, `${name}Asg`, {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      launchTemplate,
      minCapacity: pool.minCapacity,
      maxCapacity: pool.maxCapacity,
      // ECS managed scaling owns the size; ASG health uses EC2 status.
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(5) }),
    })
    const capacityProvider = new ecs.AsgCapacityProvider(this, `${name}CapacityProvider`, {
      autoScalingGroup,
      enableManagedScaling: true,
      enableManagedTerminationProtection: true,
      enableManagedDraining: true,
      targetCapacityPercent: pool.targetCapacityPercent ?? 100,
      machineImageType: ecs.MachineImageType.AMAZON_LINUX_2,
    })
    this.cluster.addAsgCapacityProvider(capacityProvider)
    return { autoScalingGroup, capacityProvider, securityGroup }
  }
}
