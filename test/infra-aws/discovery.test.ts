// Discovery construct: Cloud Map private DNS namespace and the `media`
// service with SRV + A records, short TTL and custom health status.
import t from 'tap'
import { App, Stack } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import { Discovery } from '../../infra/aws/constructs/discovery.js'
import { onlyResource, resourcesOf, synthStack } from './fixtures/stack.js'

// GIVEN the dev stack
const { template, config } = synthStack('dev')

t.test('private DNS namespace named from config, in the stack VPC', async (t) => {
  const ns = onlyResource(template, 'AWS::ServiceDiscovery::PrivateDnsNamespace')
  t.equal(ns.Properties.Name, config.namespaceName)
  t.same(ns.Properties.Vpc, { Ref: onlyResource(template, 'AWS::EC2::VPC').id })
})

t.test('media service: SRV and A records, short TTL, multivalue', async (t) => {
  const media = onlyResource(template, 'AWS::ServiceDiscovery::Service', { Name: 'media' })
  const dns = media.Properties.DnsConfig as { RoutingPolicy: string; DnsRecords: Array<{ Type: string; TTL: number }> }
  t.same(dns.DnsRecords.map((r) => r.Type).sort(), ['A', 'SRV'])
  for (const r of dns.DnsRecords) t.ok(r.TTL > 0 && r.TTL <= 10, `TTL ${r.TTL} is short`)
  t.equal(dns.RoutingPolicy, 'MULTIVALUE')
  t.match(JSON.stringify(media.Properties.NamespaceId), /DiscoveryNamespace/)
})

t.test('media service health: custom (reported by the node), no Route 53 health check', async (t) => {
  const media = onlyResource(template, 'AWS::ServiceDiscovery::Service', { Name: 'media' })
  t.ok(media.Properties.HealthCheckCustomConfig !== undefined, 'custom health config present')
  t.equal(media.Properties.HealthCheckConfig, undefined)
})

t.test('per-deployment services live in the same namespace', async (t) => {
  const services = Object.values(resourcesOf(template, 'AWS::ServiceDiscovery::Service'))
  t.same(services.map((s) => s.Properties?.Name).sort(), ['checkout-v2', 'demo', 'media'])
  for (const s of services) t.same(s.Properties?.NamespaceId, { 'Fn::GetAtt': [onlyResource(template, 'AWS::ServiceDiscovery::PrivateDnsNamespace').id, 'Id'] })
})

t.test('TTL outside 0..60 is refused', async (t) => {
  const stack = new Stack(new App(), 'D')
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 })
  t.throws(() => new Discovery(stack, 'D', { vpc, namespaceName: 'x.internal', mediaRecordTtlSeconds: 300 }), /TTL|mediaRecordTtlSeconds/)
})
