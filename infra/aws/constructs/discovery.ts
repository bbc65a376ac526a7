// Discovery: the Cloud Map private DNS namespace the routers resolve targets
// from, and the `media` service the media nodes register themselves into
// (SRV + A records, short TTL, custom health status set by the node).
import { Construct } from 'constructs'
import { Stack } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery'

/** Props of {@link Discovery}. */
export interface DiscoveryProps {
  /** VPC the private DNS namespace is visible in. */
  readonly vpc: ec2.IVpc
  /** Namespace name, e.g. `dev.edge.internal`. */
  readonly namespaceName: string
  /** Cloud Map service name for media nodes. */
  readonly mediaServiceName?: string
  /** TTL in seconds of the media service's DNS records; short, so the router sees churn quickly. */
  readonly mediaRecordTtlSeconds?: number
}

/** Cloud Map private DNS namespace plus the self-registered `media` service. */
export class Discovery extends Construct {
  /** The namespace; per-deployment services are created in it too. */
  readonly namespace: servicediscovery.PrivateDnsNamespace
  /** The `media` Cloud Map service (L1: the L2 cannot declare SRV and A together). */
  readonly mediaService: servicediscovery.CfnService
  /** Name of the media service. */
  readonly mediaServiceName: string

  constructor(scope: Construct, id: string, props: DiscoveryProps) {
    super(scope, id)
    this.mediaServiceName = props.mediaServiceName ?? 'media'
    const ttl = props.mediaRecordTtlSeconds ?? 10
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 60) throw new Error(`Discovery: mediaRecordTtlSeconds must be an integer in [0, 60]; got ${ttl}`)

    this.namespace = new servicediscovery.PrivateDnsNamespace(this, 'Namespace', {
      name: props.namespaceName,
      vpc: props.vpc,
      description: 'Edge router discovery: media nodes and per-deployment services',
    })

    this.mediaService = new servicediscovery.CfnService(this, 'MediaService', {
      name: this.mediaServiceName,
      namespaceId: this.namespace.namespaceId,
      description: 'Media nodes; each node registers itself (SRV for the dynamic host port, A for the host IP)',
      dnsConfig: {
        routingPolicy: 'MULTIVALUE',
        dnsRecords: [
          { type: 'SRV', ttl },
          { type: 'A', ttl },
        ],
      },
      // The node reports its own health (UpdateInstanceCustomHealthStatus);
      // Route 53 health checks are not available in private DNS namespaces.
      healthCheckCustomConfig: {},
    })
  }

  /** ARN of the media Cloud Map service (for IAM scoping). */
  get mediaServiceArn(): string {
    return this.mediaService.attrArn
  }

  /** ID of the media Cloud Map service (the node's `CLOUDMAP_SERVICE_ID`). */
  get mediaServiceId(): string {
    return this.mediaService.attrId
  }

  /** ARN of the Route 53 private hosted zone Cloud Map manages for the namespace. */
  get hostedZoneArn(): string {
    return Stack.of(this).formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: this.namespace.namespaceHostedZoneId })
  }
}
