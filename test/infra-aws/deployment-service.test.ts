// Deployment service construct: a new deployment gets its own Cloud Map
// service `<deploymentId>` (SRV) and an ECS service registered into it, and
// needs no change to the ALB.
import t from 'tap'
import { App, Stack } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery'
import { DeploymentService } from '../../infra/aws/constructs/deployment-service.js'
import { onlyResource, resourcesOf, synthStack } from './fixtures/stack.js'
import { DEPLOYMENT_TAG } from '../../router/src/deployments/control.js'

// GIVEN the dev stack with two deployments, and the same stack with none (and
// the routers' deployment control on: router-service.test.ts reads the same
// cached template, so one synth serves both)
const withDeployments = synthStack('dev')
const without = synthStack('dev', { deployments: [], routerDeploymentControl: true })

t.test('each deployment has a Cloud Map service named <deploymentId> with SRV records', async (t) => {
  for (const id of ['demo', 'checkout-v2']) {
    const svc = onlyResource(withDeployments.template, 'AWS::ServiceDiscovery::Service', { Name: id })
    const dns = svc.Properties.DnsConfig as { DnsRecords: Array<{ Type: string; TTL: number }> }
    t.same(dns.DnsRecords.map((r) => r.Type), ['SRV'], `${id}: SRV (dynamic host ports)`)
    t.ok((dns.DnsRecords[0]?.TTL ?? 999) <= 10, 'short TTL')
  }
})

t.test('each deployment’s ECS service registers into its Cloud Map service by container and port', async (t) => {
  const cm = onlyResource(withDeployments.template, 'AWS::ServiceDiscovery::Service', { Name: 'demo' })
  const svc = Object.values(resourcesOf(withDeployments.template, 'AWS::ECS::Service')).find((s) => (JSON.stringify(s.Properties?.ServiceRegistries) ?? '').includes(cm.id))
  t.ok(svc, 'an ECS service registers into the demo Cloud Map service')
  t.same(svc?.Properties?.ServiceRegistries, [{ ContainerName: 'app', ContainerPort: 3000, RegistryArn: { 'Fn::GetAtt': [cm.id, 'Arn'] } }])
  t.equal(svc?.Properties?.DesiredCount, 2)
  t.equal(svc?.Properties?.LoadBalancers, undefined, 'not behind the ALB: the routers reach it')
})

t.test('each deployment’s Cloud Map service is tagged as a deployment of the namespace (routers may drain it)', async (t) => {
  for (const id of ['demo', 'checkout-v2']) {
    const svc = onlyResource(withDeployments.template, 'AWS::ServiceDiscovery::Service', { Name: id })
    t.match(svc.Properties.Tags, [{ Key: DEPLOYMENT_TAG, Value: withDeployments.config.namespaceName }], id)
  }
  const media = onlyResource(withDeployments.template, 'AWS::ServiceDiscovery::Service', { Name: 'media' })
  t.notOk(JSON.stringify(media.Properties.Tags ?? []).includes(DEPLOYMENT_TAG), 'the media service is not a deployment')
})

t.test('adding deployments changes nothing on the ALB', async (t) => {
  for (const type of ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::ElasticLoadBalancingV2::Listener', 'AWS::ElasticLoadBalancingV2::ListenerRule', 'AWS::ElasticLoadBalancingV2::TargetGroup']) {
    t.same(resourcesOf(withDeployments.template, type), resourcesOf(without.template, type), `${type} identical with and without deployments`)
  }
  t.equal(Object.keys(resourcesOf(withDeployments.template, 'AWS::ServiceDiscovery::Service')).length - Object.keys(resourcesOf(without.template, 'AWS::ServiceDiscovery::Service')).length, 2)
})

t.test('a deployment id that is not a DNS label is refused', async (t) => {
  const stack = new Stack(new App(), 'D')
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 })
  const cluster = new ecs.Cluster(stack, 'C', { vpc })
  const namespace = new servicediscovery.PrivateDnsNamespace(stack, 'N', { name: 'x.internal', vpc })
  const logGroup = new logs.LogGroup(stack, 'L')
  const make = (deploymentId: string) => new DeploymentService(stack, `S-${deploymentId}`, {
    deploymentId, cluster, capacityProviderName: 'cp', namespace, image: ecs.ContainerImage.fromRegistry('x'), containerPort: 80, desiredCount: 1, logGroup,
  })
  t.throws(() => make('Bad_Id'), /DNS label/)
  t.throws(() => make('-x'), /DNS label/)
  t.doesNotThrow(() => make('ok-1'))
})
