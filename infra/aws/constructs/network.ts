// Network: the VPC. Two AZs, public subnets for the ALB only, private subnets
// (egress through NAT) for the ECS container instances. Nothing else.
import { Construct } from 'constructs'
import * as ec2 from 'aws-cdk-lib/aws-ec2'

/** Props of {@link Network}. */
export interface NetworkProps {
  /** IPv4 CIDR of the VPC, e.g. `10.40.0.0/16`. */
  readonly cidr: string
  /** NAT gateways: 1 (one AZ, cheaper) or 2 (one per AZ). */
  readonly natGateways: number
  /**
   * Explicit AZ names. Needed when the stack has a fixed account/region, so
   * synth never has to look AZs up; omit for an environment-agnostic stack.
   */
  readonly availabilityZones?: readonly string[]
}

/** A two-AZ VPC: public subnets (ALB) and private subnets with NAT egress (tasks). */
export class Network extends Construct {
  /** The VPC. */
  readonly vpc: ec2.Vpc
  /** Subnets for the internet-facing load balancer. */
  readonly publicSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PUBLIC }
  /** Subnets for ECS container instances; no public IPs are assigned there. */
  readonly privateSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id)
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      ...(props.availabilityZones ? { availabilityZones: [...props.availabilityZones] } : { maxAzs: 2 }),
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      enableDnsHostnames: true,
      enableDnsSupport: true,
    })
  }
}
