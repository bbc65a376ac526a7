// Media node service construct: self-registration rights scoped to the media
// Cloud Map service and the namespace's hosted zone, task protection scoped to
// this cluster's tasks, documented stop timeout, no ECS-managed registration;
// drain wiring: SIGTERM_DRAIN_TIMEOUT_MS below the stop timeout, ADMIN_TOKEN
// from a generated secret, the admin port unmapped (ECS Exec), /health as the
// container health check.
import t from 'tap'
import { Match } from 'aws-cdk-lib/assertions'
import { MEDIA_NODE_STOP_TIMEOUT_SECONDS, MediaNodeService, SIGTERM_DRAIN_MARGIN_SECONDS, sigtermDrainTimeoutMs } from '../../infra/aws/constructs/media-node-service.js'
import { actionsOf, containerOf, envOf, getAttId, onlyResource, resourcesOf, statementsOfRole, synthStack } from './fixtures/stack.js'
import type { Statement } from './fixtures/stack.js'

// GIVEN the dev stack
const { template, config } = synthStack('dev')
const taskDef = onlyResource(template, 'AWS::ECS::TaskDefinition', { ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'media-node' })]) })
const container = containerOf(taskDef)
const service = onlyResource(template, 'AWS::ECS::Service', { TaskDefinition: { Ref: taskDef.id } })
const mediaCloudMap = onlyResource(template, 'AWS::ServiceDiscovery::Service', { Name: 'media' })
const statements = statementsOfRole(template, getAttId(taskDef.Properties.TaskRoleArn))
const bySid = (sid: string) => statements.find((s) => s.Sid === sid)
const ECS_EXEC_ACTIONS = ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel']
const isEcsExec = (s: Statement) => actionsOf(s).every((a) => a.startsWith('ssmmessages:'))

t.test('registration actions are scoped to the media Cloud Map service only', async (t) => {
  const reg = bySid('RegisterInMediaService')
  t.same(actionsOf(reg ?? { Effect: '', Action: [], Resource: null }).sort(), [
    'servicediscovery:DeregisterInstance',
    'servicediscovery:ListInstances',
    'servicediscovery:RegisterInstance',
    'servicediscovery:UpdateInstanceCustomHealthStatus',
  ])
  t.same(reg?.Resource, { 'Fn::GetAtt': [mediaCloudMap.id, 'Arn'] })
})

t.test('DNS-namespace registration: ChangeResourceRecordSets only in the namespace hosted zone', async (t) => {
  const r53 = bySid('WriteRecordsInNamespaceZone')
  t.same(actionsOf(r53 ?? { Effect: '', Action: [], Resource: null }), ['route53:ChangeResourceRecordSets'])
  const arn = JSON.stringify(r53?.Resource)
  t.match(arn, /:route53:::hostedzone\//)
  t.match(arn, /HostedZoneId/)
})

t.test('task scale-in protection on this cluster’s tasks only', async (t) => {
  const tp = bySid('TaskScaleInProtection')
  t.same(actionsOf(tp ?? { Effect: '', Action: [], Resource: null }).sort(), ['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection'])
  const arn = JSON.stringify(tp?.Resource)
  t.match(arn, /:task\//)
  t.match(arn, new RegExp(onlyResource(template, 'AWS::ECS::Cluster').id))
})

t.test('nothing else, and no wildcard resources except the ECS Exec channel actions', async (t) => {
  // GIVEN the task role's statements WHEN the ECS Exec one is set aside
  const scoped = statements.filter((s) => !isEcsExec(s))
  const exec = statements.filter(isEcsExec)
  // THEN three scoped statements and exactly the four ssmmessages actions (they have no resource type)
  t.equal(scoped.length, 3)
  for (const s of scoped) {
    t.equal(s.Effect, 'Allow')
    t.not(s.Resource, '*')
  }
  t.equal(exec.length, 1)
  t.same(actionsOf(exec[0] ?? { Effect: '', Action: [], Resource: null }).sort(), ECS_EXEC_ACTIONS)
  t.notOk(statements.some((s) => actionsOf(s).some((a) => a.startsWith('logs:'))), 'no logs:* on "*" (ECS Exec without a CloudWatch exec log group)')
})

t.test('SIGTERM drain ends before SIGKILL: SIGTERM_DRAIN_TIMEOUT_MS = (stopTimeout - margin) s, below stopTimeout', async (t) => {
  // GIVEN the container's environment and stop timeout
  const env = envOf(container)
  const stopTimeout = container.StopTimeout
  // THEN the drain timeout is there, positive, and leaves the margin before SIGKILL
  t.type(env.SIGTERM_DRAIN_TIMEOUT_MS, 'string')
  const drainMs = Number(env.SIGTERM_DRAIN_TIMEOUT_MS)
  t.ok(Number.isInteger(drainMs) && drainMs > 0, `positive whole ms: ${String(env.SIGTERM_DRAIN_TIMEOUT_MS)}`)
  t.type(stopTimeout, 'number')
  t.ok(drainMs < Number(stopTimeout) * 1000, `${drainMs} < ${String(stopTimeout)} s`)
  t.equal(drainMs, (Number(stopTimeout) - SIGTERM_DRAIN_MARGIN_SECONDS) * 1000)
  t.equal(drainMs, 100_000, '100 s for the 120 s stop timeout')
})

t.test('sigtermDrainTimeoutMs refuses a stop timeout that leaves no drain', async (t) => {
  t.equal(sigtermDrainTimeoutMs(120), 100_000)
  t.equal(sigtermDrainTimeoutMs(21), 1_000)
  t.throws(() => sigtermDrainTimeoutMs(20), /stopTimeoutSeconds \(20\) must exceed the 20 s margin/)
  t.throws(() => sigtermDrainTimeoutMs(5), /must exceed/)
})

t.test('ADMIN_TOKEN comes from a generated Secrets Manager secret (Secrets, not Environment), readable by the execution role', async (t) => {
  // GIVEN the container definition
  const env = envOf(container)
  const secrets = (container.Secrets ?? []) as Array<{ Name: string; ValueFrom: unknown }>
  // THEN the token is a secret reference, never a plain value
  t.notOk('ADMIN_TOKEN' in env, 'not in Environment')
  const token = secrets.find((s) => s.Name === 'ADMIN_TOKEN')
  const secretId = (token?.ValueFrom as { Ref?: unknown } | undefined)?.Ref
  t.type(secretId, 'string', 'ValueFrom is a Ref to a secret in the stack')
  const secret = resourcesOf(template, 'AWS::SecretsManager::Secret')[String(secretId)]
  t.ok(secret, 'the Ref is an AWS::SecretsManager::Secret')
  t.match(secret?.Properties, { GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true } }, 'generated by the stack')
  // AND it is not the router's token
  const router = onlyResource(template, 'AWS::ECS::TaskDefinition', { ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'router' })]) })
  const routerSecrets = (containerOf(router).Secrets ?? []) as Array<{ Name: string; ValueFrom: unknown }>
  t.notSame(routerSecrets.find((s) => s.Name === 'ADMIN_TOKEN')?.ValueFrom, token?.ValueFrom, 'a token of its own')
  // AND the execution role (which injects secrets at task start) may read exactly that secret
  const execStatements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => ((p.Properties?.Roles ?? []) as Array<{ Ref?: string }>).some((r) => r.Ref === getAttId(taskDef.Properties.ExecutionRoleArn)))
    .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement)
  const read = execStatements.find((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'))
  t.same(read?.Resource, { Ref: secretId })
})

t.test('admin port 8081: set in the environment, no port mapping (reachable only inside the task)', async (t) => {
  t.equal(MediaNodeService.ADMIN_PORT, 8081)
  t.equal(envOf(container).ADMIN_PORT, '8081')
  const mappings = (container.PortMappings ?? []) as Array<{ ContainerPort: number; HostPort?: number }>
  t.notOk(mappings.some((m) => m.ContainerPort === 8081 || m.HostPort === 8081), 'no mapping for 8081')
  t.same(mappings.map((m) => m.ContainerPort), [8080], 'only the WebSocket port')
})

t.test('ECS Exec is on for the service (the way to reach the admin port)', async (t) => {
  t.equal(service.Properties.EnableExecuteCommand, true)
})

t.test('container health check is liveness (/health: 200 while ACTIVE or DRAINING), not readiness (/ready)', async (t) => {
  // GIVEN the container health check
  const check = container.HealthCheck as { Command: string[] } | undefined
  const command = (check?.Command ?? []).join(' ')
  // THEN it requests /health on the main port and never /ready
  t.equal(check?.Command[0], 'CMD')
  t.match(command, /http:\/\/127\.0\.0\.1:8080\/health'/)
  t.notMatch(command, /\/ready/)
})

t.test('stop timeout: the documented 120 s maximum', async (t) => {
  t.equal(MEDIA_NODE_STOP_TIMEOUT_SECONDS, 120)
  t.equal(container.StopTimeout, MEDIA_NODE_STOP_TIMEOUT_SECONDS)
})

t.test('environment tells the node where to register; bridge mode, dynamic host port', async (t) => {
  const env = envOf(container)
  t.match(env, { PORT: '8080', CLOUDMAP_NAMESPACE: config.namespaceName, CLOUDMAP_SERVICE: 'media' })
  t.same(env.CLOUDMAP_SERVICE_ID, { 'Fn::GetAtt': [mediaCloudMap.id, 'Id'] })
  t.same(env.AWS_REGION, { Ref: 'AWS::Region' })
  t.equal(taskDef.Properties.NetworkMode, 'bridge')
  t.same(container.PortMappings, [{ ContainerPort: 8080, HostPort: 0, Protocol: 'tcp', Name: 'http' }])
})

t.test('ECS does not register media tasks itself (the node does), and they are not behind the ALB', async (t) => {
  t.equal(service.Properties.ServiceRegistries, undefined)
  t.equal(service.Properties.LoadBalancers, undefined)
  t.equal(service.Properties.DesiredCount, config.mediaNodeTasks)
  const strategy = service.Properties.CapacityProviderStrategy as Array<{ CapacityProvider: { Ref: string } }>
  t.match(strategy[0]?.CapacityProvider.Ref, /WorkloadCapacityProvider/)
})
