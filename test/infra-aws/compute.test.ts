// Compute construct: ECS cluster on EC2 Auto Scaling group capacity providers
// with managed scaling; a router pool and a workload pool.
import t from 'tap'
import { Match } from 'aws-cdk-lib/assertions'
import { containerOf, onlyResource, resourcesOf, synthStack } from './fixtures/stack.js'

// GIVEN the dev stack
const { template, config } = synthStack('dev')

t.test('two ASG capacity providers with managed scaling, termination protection and draining', async (t) => {
  const providers = Object.values(resourcesOf(template, 'AWS::ECS::CapacityProvider'))
  t.equal(providers.length, 2)
  for (const p of providers) {
    const asgp = p.Properties?.AutoScalingGroupProvider as Record<string, Record<string, unknown> | string>
    t.match(asgp.ManagedScaling, { Status: 'ENABLED', TargetCapacity: 100 })
    t.equal(asgp.ManagedTerminationProtection, 'ENABLED')
    t.equal(asgp.ManagedDraining, 'ENABLED')
  }
})

t.test('the cluster is associated with both capacity providers', async (t) => {
  const cluster = onlyResource(template, 'AWS::ECS::Cluster')
  const assoc = onlyResource(template, 'AWS::ECS::ClusterCapacityProviderAssociations')
  t.same(assoc.Properties.Cluster, { Ref: cluster.id })
  const cps = Object.keys(resourcesOf(template, 'AWS::ECS::CapacityProvider'))
  t.same((assoc.Properties.CapacityProviders as Array<{ Ref: string }>).map((r) => r.Ref).sort(), cps.sort())
  t.match(JSON.stringify(cluster.Properties.ClusterSettings), /containerInsights/)
})

t.test('instances: ECS-optimized AMI, IMDSv2 only, agent stop timeout = the router container’s', async (t) => {
  const router = containerOf(onlyResource(template, 'AWS::ECS::TaskDefinition', { ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'router' })]) }))
  for (const lt of Object.values(resourcesOf(template, 'AWS::EC2::LaunchTemplate'))) {
    const data = lt.Properties?.LaunchTemplateData as Record<string, unknown>
    t.match(JSON.stringify(data.ImageId), /ecsoptimized/i)
    t.same(data.MetadataOptions, { HttpTokens: 'required' })
    const userData = JSON.stringify(data.UserData)
    const m = /ECS_CONTAINER_STOP_TIMEOUT=(\d+)s/.exec(userData)
    t.ok(m, 'agent stop timeout set')
    t.equal(Number(m?.[1]), Number(router.StopTimeout), 'containers without a stopTimeout get the router’s')
    t.match(userData, /ECS_CLUSTER=/)
    t.match(userData, /ECS_ENABLE_CONTAINER_METADATA=true/, 'bridge-mode tasks can read their host IP and host port')
  }
})

t.test('ASGs: new instances protected from scale-in (ECS decides), sizes per pool', async (t) => {
  const asgs = Object.entries(resourcesOf(template, 'AWS::AutoScaling::AutoScalingGroup'))
  t.equal(asgs.length, 2)
  for (const [, asg] of asgs) t.equal(asg.Properties?.NewInstancesProtectedFromScaleIn, true)
  const router = asgs.find(([id]) => /Router/.test(id))?.[1]
  t.equal(router?.Properties?.MinSize, '2', 'router pool keeps an instance per AZ')
  t.equal(router?.Properties?.MaxSize, String(config.routerMaxTasks))
})

t.test('tier isolation: workload instances accept only the router instances, routers accept only the ALB', async (t) => {
  const ingress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress'))
  t.equal(ingress.length, 2)
  const workload = ingress.find((i) => JSON.stringify(i.Properties?.GroupId).includes('WorkloadInstanceSecurityGroup'))
  t.match(JSON.stringify(workload?.Properties?.SourceSecurityGroupId), /RouterInstanceSecurityGroup/)
  t.match(workload?.Properties, { IpProtocol: 'tcp', FromPort: 32768, ToPort: 65535 })
})
