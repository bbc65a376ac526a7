// Router service construct: EC2 launch type, bridge networking with dynamic
// host ports, 2..20 tasks on CPU target tracking, ALB registration, drain
// timing (stopTimeout covers the router's whole drain, the drain delay covers
// the ALB health check), and a task role limited to two Cloud Map actions —
// unless the dashboard's deployment control is on: then exactly the registry
// writes, scoped by the tags of the registry and deployment services.
import t from 'tap'
import { App, Stack } from 'aws-cdk-lib'
import { Match } from 'aws-cdk-lib/assertions'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager'
import { Template } from 'aws-cdk-lib/assertions'
import { RouterService } from '../../infra/aws/constructs/router-service.js'
import { DEPLOYMENT_TAG, REGISTRY_TAG } from '../../router/src/deployments/control.js'
import { EdgeRouterStack } from '../../infra/aws/stacks/edge-router-stack.js'
import { drainHardLimitMs } from '../../router/src/lifecycle/drain.js'
import { actionsOf, containerOf, envOf, getAttId, onlyResource, resourcesOf, statementsOfRole, synthStack, testConfig } from './fixtures/stack.js'

// GIVEN the dev stack
const { template, config } = synthStack('dev')
const taskDef = onlyResource(template, 'AWS::ECS::TaskDefinition', { ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'router' })]) })
const container = containerOf(taskDef)
const service = onlyResource(template, 'AWS::ECS::Service', { TaskDefinition: { Ref: taskDef.id } })

t.test('EC2 launch type, bridge networking, dynamic host port', async (t) => {
  t.equal(taskDef.Properties.NetworkMode, 'bridge')
  t.same(taskDef.Properties.RequiresCompatibilities, ['EC2'])
  t.same(container.PortMappings, [{ ContainerPort: 8080, HostPort: 0, Protocol: 'tcp', Name: 'http' }])
  const strategy = service.Properties.CapacityProviderStrategy as Array<{ CapacityProvider: { Ref: string } }>
  t.equal(strategy.length, 1)
  t.match(strategy[0]?.CapacityProvider.Ref, /RouterCapacityProvider/, 'placed on the router EC2 capacity provider')
  t.equal(service.Properties.LaunchType, undefined, 'capacity provider strategy (EC2 ASG) instead of a launch type')
})

t.test('registered in the ALB router target group on the container port', async (t) => {
  const tg = onlyResource(template, 'AWS::ElasticLoadBalancingV2::TargetGroup')
  t.same(service.Properties.LoadBalancers, [{ ContainerName: 'router', ContainerPort: 8080, TargetGroupArn: { Ref: tg.id } }])
})

t.test('2..20 tasks, CPU target tracking', async (t) => {
  const target = onlyResource(template, 'AWS::ApplicationAutoScaling::ScalableTarget')
  t.equal(target.Properties.MinCapacity, 2)
  t.equal(target.Properties.MaxCapacity, 20)
  t.equal(target.Properties.ScalableDimension, 'ecs:service:DesiredCount')
  const policy = onlyResource(template, 'AWS::ApplicationAutoScaling::ScalingPolicy')
  t.equal(policy.Properties.PolicyType, 'TargetTrackingScaling')
  t.match(policy.Properties.TargetTrackingScalingPolicyConfiguration, { PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } })
  t.equal(service.Properties.DesiredCount, 2)
})

t.test('environment follows the router contract; the whole drain fits inside stopTimeout', async (t) => {
  const env = envOf(container)
  t.match(env, { PORT: '8080', ADMIN_PORT: '9090', CLOUDMAP_NAMESPACE: config.namespaceName, DISCOVERY_MODE: 'dns', MEDIA_SERVICE: 'media' })
  t.same(env.CLOUDMAP_REGION, { Ref: 'AWS::Region' })
  t.ok(typeof env.DNS_SERVERS === 'string' && env.DNS_SERVERS.length > 0)
  t.equal(Number(env.DRAIN_DELAY_MS), config.drainDelaySeconds * 1000)
  t.equal(Number(env.DRAIN_TIMEOUT_MS), config.drainTimeoutSeconds * 1000)
  t.ok(Number(env.DRAIN_HTTP_TIMEOUT_MS) <= 30_000, 'in-flight HTTP gets at most 30 s')
  // The router waits delay, then in-flight HTTP, then WebSockets, and exits 1 at its own hard limit after that.
  const hardLimitMs = drainHardLimitMs({ delayMs: Number(env.DRAIN_DELAY_MS), httpTimeoutMs: Number(env.DRAIN_HTTP_TIMEOUT_MS), timeoutMs: Number(env.DRAIN_TIMEOUT_MS) })
  const stop = Number(container.StopTimeout)
  t.ok(stop * 1000 >= hardLimitMs, `stopTimeout ${stop} s covers the router's drain hard limit ${hardLimitMs / 1000} s: SIGKILL never cuts a drain short`)
  t.ok(stop <= 120, 'stopTimeout <= 120 s')
  const secrets = container.Secrets as Array<{ Name: string }>
  t.same(secrets.map((s) => s.Name), ['ADMIN_TOKEN'], 'admin token comes from Secrets Manager, not the image')
  t.match(JSON.stringify(container.HealthCheck), /\/health/)
})

t.test('the drain delay covers the ALB health check: /health 503 is seen before the router stops accepting', async (t) => {
  // GIVEN the router target group's health check, as synthesized
  const tg = onlyResource(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').Properties
  const interval = Number(tg.HealthCheckIntervalSeconds)
  const unhealthy = Number(tg.UnhealthyThresholdCount)
  const timeout = Number(tg.HealthCheckTimeoutSeconds)
  t.ok(interval > 0 && unhealthy > 0 && timeout > 0, `interval ${interval} s, unhealthy threshold ${unhealthy}, timeout ${timeout} s`)
  // THEN the router keeps serving (with /health 503) for at least interval × threshold + one check's timeout
  const delayMs = Number(envOf(container).DRAIN_DELAY_MS)
  t.ok(delayMs >= (interval * unhealthy + timeout) * 1000, `DRAIN_DELAY_MS ${delayMs} >= (${interval} × ${unhealthy} + ${timeout}) s`)
})

t.test('a drain delay shorter than the ALB needs is refused at synth', async (t) => {
  const config = testConfig('dev', { drainDelaySeconds: 20 })
  t.throws(() => new EdgeRouterStack(new App(), 'Short', { config }), /drainDelaySeconds \(20\) must be >= 25/)
})

t.test('task role: exactly servicediscovery:DiscoverInstances and DiscoverInstancesRevision, nothing else', async (t) => {
  const roleId = getAttId(taskDef.Properties.TaskRoleArn)
  const statements = statementsOfRole(template, roleId)
  const actions = statements.flatMap(actionsOf).sort()
  t.same(actions, ['servicediscovery:DiscoverInstances', 'servicediscovery:DiscoverInstancesRevision'])
  for (const s of statements) {
    t.equal(s.Effect, 'Allow')
    // No resource-level permissions exist for these actions: "*" is the only valid Resource.
    t.equal(s.Resource, '*')
  }
  const discover = statements.find((s) => actionsOf(s).includes('servicediscovery:DiscoverInstances'))
  t.same(discover?.Condition, { StringEquals: { 'servicediscovery:NamespaceName': config.namespaceName } })
})

t.test('deployment control off (the default): no DEPLOYMENT_CONTROL, no write rights', async (t) => {
  t.equal(envOf(container).DEPLOYMENT_CONTROL, undefined)
  t.equal(config.routerDeploymentControl, false)
})

/** The router task role's statements by Sid, and the container's environment, of a template. */
function routerOf(tpl: Template): { statements: Map<string, ReturnType<typeof statementsOfRole>[number]>; env: Record<string, unknown> } {
  const td = onlyResource(tpl, 'AWS::ECS::TaskDefinition', { ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'router' })]) })
  const statements = new Map(statementsOfRole(tpl, getAttId(td.Properties.TaskRoleArn)).map((s) => [s.Sid ?? '', s]))
  return { statements, env: envOf(containerOf(td)) }
}

t.test('deployment control on: the registry writes and nothing more, scoped by tags', async (t) => {
  // GIVEN a RouterService with deploymentControl, in a small stack of its own
  const stack = new Stack(new App(), 'Dc', { env: { account: '111111111111', region: 'eu-west-1' } })
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 })
  const cluster = new ecs.Cluster(stack, 'C', { vpc })
  cluster.addCapacity('Ec2', { instanceType: new ec2.InstanceType('t3.micro') })
  new RouterService(stack, 'Router', {
    cluster,
    capacityProviderName: 'cp',
    image: ecs.ContainerImage.fromRegistry('x'),
    namespaceName: 'x.internal',
    mediaServiceName: 'media',
    logGroup: new logs.LogGroup(stack, 'L'),
    adminToken: new secretsmanager.Secret(stack, 'S'),
    drainDelaySeconds: 25,
    drainTimeoutSeconds: 55,
    minTasks: 2,
    maxTasks: 20,
    deploymentControl: { namespaceArn: 'arn:aws:servicediscovery:eu-west-1:111111111111:namespace/ns-1', hostedZoneArn: 'arn:aws:route53:::hostedzone/Z1' },
  })
  // WHEN synthesized
  const { statements, env } = routerOf(Template.fromStack(stack))
  // THEN the router is told, and its role gets exactly these statements
  t.equal(env.DEPLOYMENT_CONTROL, 'true')
  // Every service of this account and region (the partition stays a reference): the tag condition narrows it.
  const services = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':servicediscovery:eu-west-1:111111111111:service/*']] }
  t.same([...statements.keys()].sort(), ['DiscoverInstancesInNamespace', 'DiscoverInstancesRevision', 'FindRegistryAndDeploymentServices', 'FollowRegistryOperations', 'MarkDeploymentInstancesDraining', 'WriteAppRegistries', 'WriteRecordsInNamespaceZone'])
  const s = (sid: string) => statements.get(sid)
  t.same(actionsOf(s('FindRegistryAndDeploymentServices') ?? { Effect: '', Action: [], Resource: '' }).sort(), ['servicediscovery:ListNamespaces', 'servicediscovery:ListServices'])
  t.equal(s('FindRegistryAndDeploymentServices')?.Resource, '*', 'no resource type exists for the List actions')
  t.match(s('WriteAppRegistries'), {
    Effect: 'Allow',
    Action: ['servicediscovery:ListInstances', 'servicediscovery:RegisterInstance', 'servicediscovery:DeregisterInstance'],
    Resource: services,
    Condition: { StringEquals: { [`aws:ResourceTag/${REGISTRY_TAG}`]: 'x.internal' } },
  }, 'markers added, removed and listed only in services tagged as registries of this namespace')
  t.match(s('MarkDeploymentInstancesDraining'), {
    Action: 'servicediscovery:RegisterInstance',
    Resource: services,
    Condition: { StringEquals: { [`aws:ResourceTag/${DEPLOYMENT_TAG}`]: 'x.internal' } },
  }, 'deployments of this namespace: re-register only (no deregistration)')
  t.same(s('FollowRegistryOperations')?.Resource, ['arn:aws:servicediscovery:eu-west-1:111111111111:namespace/ns-1', services])
  t.same(s('WriteRecordsInNamespaceZone'), { Sid: 'WriteRecordsInNamespaceZone', Effect: 'Allow', Action: 'route53:ChangeResourceRecordSets', Resource: 'arn:aws:route53:::hostedzone/Z1' })
  const all = [...statements.values()].flatMap(actionsOf)
  t.notOk(all.some((a) => /CreateService|DeleteService|UpdateService|\*$/.test(a)), `no service creation, deletion or wildcard action (${all.join(', ')})`)
})

t.test('the stack turns it on from the routerDeploymentControl context, on its own namespace and zone', async (t) => {
  // GIVEN the dev stack with routerDeploymentControl (the template deployment-service.test.ts synthesizes too)
  const on = synthStack('dev', { deployments: [], routerDeploymentControl: true })
  const { statements, env } = routerOf(on.template)
  t.equal(env.DEPLOYMENT_CONTROL, 'true')
  t.match(statements.get('WriteAppRegistries')?.Condition, { StringEquals: { [`aws:ResourceTag/${REGISTRY_TAG}`]: on.config.namespaceName } })
  const ns = onlyResource(on.template, 'AWS::ServiceDiscovery::PrivateDnsNamespace')
  t.match(JSON.stringify(statements.get('FollowRegistryOperations')?.Resource), ns.id, "GetOperation on the stack's namespace")
  t.match(JSON.stringify(statements.get('WriteRecordsInNamespaceZone')?.Resource), /HostedZoneId/, "Route 53 on the namespace's hosted zone")
})

t.test('execution role (image pull, logs, secret) is separate from the task role', async (t) => {
  const execId = getAttId(taskDef.Properties.ExecutionRoleArn)
  t.not(execId, getAttId(taskDef.Properties.TaskRoleArn))
  const execRole = resourcesOf(template, 'AWS::IAM::Role')[execId]
  t.match(JSON.stringify(execRole?.Properties?.ManagedPolicyArns), /AmazonECSTaskExecutionRolePolicy/)
})

t.test('router security group admits only the ALB security group', async (t) => {
  const routerSgIds = Object.keys(resourcesOf(template, 'AWS::EC2::SecurityGroup')).filter((id) => /RouterInstanceSecurityGroup/.test(id))
  t.equal(routerSgIds.length, 1)
  const routerSg = resourcesOf(template, 'AWS::EC2::SecurityGroup')[routerSgIds[0] ?? '']
  t.same(routerSg?.Properties?.SecurityGroupIngress ?? [], [], 'no inline ingress (no CIDR rules)')
  const ingress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')).filter((i) => JSON.stringify(i.Properties?.GroupId).includes(routerSgIds[0] ?? '?'))
  t.equal(ingress.length, 1)
  const albSg = getAttId((onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer').Properties.SecurityGroups as unknown[])[0])
  t.same(ingress[0]?.Properties?.SourceSecurityGroupId, { 'Fn::GetAtt': [albSg, 'GroupId'] })
  t.equal(ingress[0]?.Properties?.CidrIp, undefined)
})

t.test('rolling deployments keep full capacity and roll back on failure', async (t) => {
  t.match(service.Properties.DeploymentConfiguration, {
    MinimumHealthyPercent: 100,
    MaximumPercent: 200,
    DeploymentCircuitBreaker: { Enable: true, Rollback: true },
  })
})

t.test('a drain that cannot fit the 120 s stop timeout, or fewer than 2 tasks, is refused', async (t) => {
  const stack = new Stack(new App(), 'R')
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 })
  const cluster = new ecs.Cluster(stack, 'C', { vpc })
  const base = {
    cluster,
    capacityProviderName: 'cp',
    image: ecs.ContainerImage.fromRegistry('x'),
    namespaceName: 'x.internal',
    mediaServiceName: 'media',
    logGroup: new logs.LogGroup(stack, 'L'),
    adminToken: new secretsmanager.Secret(stack, 'S'),
    drainDelaySeconds: 25,
    drainTimeoutSeconds: 55,
    minTasks: 2,
    maxTasks: 20,
  }
  t.throws(() => new RouterService(stack, 'A', { ...base, drainTimeoutSeconds: 60 }), /<= 120; got 125/, 'in-flight HTTP counts: 25 + 30 + 60 + 10')
  t.throws(() => new RouterService(stack, 'B', { ...base, minTasks: 1 }), /minTasks/)
  t.doesNotThrow(() => new RouterService(stack, 'C2', base))
})
