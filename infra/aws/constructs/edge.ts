// Edge: the internet-facing ALB. One HTTPS listener whose only action is the
// default forward to the router target group (no listener rules, ever: the
// routers resolve targets themselves), an HTTP listener that only redirects,
// a WebSocket-friendly idle timeout and an optional WAF association.
import { Construct } from 'constructs'
import { Duration } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2'
import * as wafv2 from 'aws-cdk-lib/aws-wafv2'

/** ALB's maximum connection idle timeout, in seconds. */
export const ALB_MAX_IDLE_TIMEOUT_SECONDS = 4000

/** The router target group's health check. */
export const ROUTER_HEALTH_CHECK = { intervalSeconds: 10, timeoutSeconds: 5, healthyThresholdCount: 2, unhealthyThresholdCount: 2 } as const

/**
 * Seconds after /health turns 503 by which the ALB has marked the target
 * unhealthy: `unhealthyThresholdCount` failed checks `intervalSeconds` apart,
 * plus one check's `timeoutSeconds` for a check that was in flight when
 * /health turned. The router's drain delay must be at least this.
 */
export function albMarksUnhealthyWithinSeconds(hc: typeof ROUTER_HEALTH_CHECK = ROUTER_HEALTH_CHECK): number {
  return hc.intervalSeconds * hc.unhealthyThresholdCount + hc.timeoutSeconds
}

/** Props of {@link Edge}. */
export interface EdgeProps {
  /** VPC to place the load balancer in. */
  readonly vpc: ec2.IVpc
  /** Public subnets for the load balancer. */
  readonly subnets: ec2.SubnetSelection
  /** ACM certificate ARN for the HTTPS listener. */
  readonly certificateArn: string
  /** Idle timeout in seconds; at most 4000 (ALB's maximum). Hours-long WebSockets need a large value plus pings. */
  readonly idleTimeoutSeconds: number
  /** Port the router container listens on (the target group's port; ECS replaces it with the dynamic host port). */
  readonly routerPort: number
  /** Health check path of the router; 200 while serving, 503 while draining. */
  readonly healthCheckPath: string
  /** Deregistration delay of the router target group, in seconds; match it to the router's drain. */
  readonly deregistrationDelaySeconds: number
  /** Optional regional WAFv2 web ACL ARN to associate with the load balancer. */
  readonly wafWebAclArn?: string
  /** Turn on ALB deletion protection (prod). */
  readonly deletionProtection?: boolean
}

/** Internet-facing ALB, HTTPS listener with one default action, HTTP → HTTPS redirect. */
export class Edge extends Construct {
  /** The load balancer. */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer
  /** The load balancer's security group (80/443 from anywhere). */
  readonly securityGroup: ec2.SecurityGroup
  /** HTTPS listener; its default action forwards to {@link routerTargetGroup}. */
  readonly httpsListener: elbv2.ApplicationListener
  /** HTTP listener; redirects to HTTPS. */
  readonly httpListener: elbv2.ApplicationListener
  /** Target group of the router tier (instance targets: bridge networking, dynamic host ports). */
  readonly routerTargetGroup: elbv2.ApplicationTargetGroup

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id)
    if (!Number.isInteger(props.idleTimeoutSeconds) || props.idleTimeoutSeconds < 1 || props.idleTimeoutSeconds > ALB_MAX_IDLE_TIMEOUT_SECONDS) {
      throw new Error(`Edge: idleTimeoutSeconds must be an integer in [1, ${ALB_MAX_IDLE_TIMEOUT_SECONDS}]; got ${props.idleTimeoutSeconds}`)
    }
    if (props.deregistrationDelaySeconds < 0 || props.deregistrationDelaySeconds > 3600) {
      throw new Error(`Edge: deregistrationDelaySeconds must be in [0, 3600]; got ${props.deregistrationDelaySeconds}`)
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Edge ALB: HTTP and HTTPS from the internet',
      allowAllOutbound: false,
    })
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from the internet')
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP from the internet (redirected)')

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing: true,
      securityGroup: this.securityGroup,
      idleTimeout: Duration.seconds(props.idleTimeoutSeconds),
      http2Enabled: true,
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection ?? false,
    })

    this.routerTargetGroup = new elbv2.ApplicationTargetGroup(this, 'RouterTargetGroup', {
      vpc: props.vpc,
      targetType: elbv2.TargetType.INSTANCE,
      protocol: elbv2.ApplicationProtocol.HTTP,
      port: props.routerPort,
      deregistrationDelay: Duration.seconds(props.deregistrationDelaySeconds),
      healthCheck: {
        path: props.healthCheckPath,
        healthyHttpCodes: '200',
        interval: Duration.seconds(ROUTER_HEALTH_CHECK.intervalSeconds),
        timeout: Duration.seconds(ROUTER_HEALTH_CHECK.timeoutSeconds),
        healthyThresholdCount: ROUTER_HEALTH_CHECK.healthyThresholdCount,
        unhealthyThresholdCount: ROUTER_HEALTH_CHECK.unhealthyThresholdCount,
      },
    })

    this.httpsListener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
      defaultAction: elbv2.ListenerAction.forward([this.routerTargetGroup]),
    })

    this.httpListener = this.loadBalancer.addListener('Http', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    })

    if (props.wafWebAclArn !== undefined) {
      new wafv2.CfnWebACLAssociation(this, 'WafAssociation', {
        resourceArn: this.loadBalancer.loadBalancerArn,
        webAclArn: props.wafWebAclArn,
      })
    }
  }
}
