// Media node service construct: self-registration rights scoped to the media
// Cloud Map service and the namespace's hosted zone, task protection scoped to
// this cluster's tasks, documented stop timeout, no ECS-managed registration.
import t from 'tap'
import { Match } from 'aws-cdk-lib/assertions'
import { MEDIA_NODE_STOP_TIMEOUT_SECONDS } from '../../infra/aws/constructs/media-node-service.js'
import { actionsOf, containerOf, envOf, getAttId, onlyResource, statementsOfRole, synthStack } from './fixtures/stack.js'

// GIVEN the dev stack
const { template, config } = synthStack('dev')
const taskDef = onlyResource(template, 'AWS::ECS::TaskDefinition', { ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'media-node' })]) })
const container = containerOf(taskDef)
const service = onlyResource(template, 'AWS::ECS::Service', { TaskDefinition: { Ref: taskDef.id } })
const mediaCloudMap = onlyResource(template, 'AWS::ServiceDiscovery::Service', { Name: 'media' })
const statements = statementsOfRole(template, getAttId(taskDef.Properties.TaskRoleArn))
const bySid = (sid: string) => statements.find((s) => s.Sid === sid)

t.test('registration actions are scoped to the media Cloud Map service only', async (t) => {
  const reg = bySid('RegisterInMediaService')
  t.same(actionsOf(reg ?? { Effect: '', Action: [], Resource: null }).sort(), [
    'servicediscovery:DeregisterInstance',
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

t.test('nothing else, and no wildcard resources', async (t) => {
  t.equal(statements.length, 3)
  for (const s of statements) {
    t.equal(s.Effect, 'Allow')
    t.not(s.Resource, '*')
  }
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
