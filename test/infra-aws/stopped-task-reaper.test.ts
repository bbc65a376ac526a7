// Stopped-task reaper construct: an EventBridge rule on STOPPED task events of
// the media node service only (this cluster, `service:<name>`), targeting the
// reaper function (inline code = the handler module, Node.js 22, settings in
// its environment) with a retry policy and a dead-letter queue; the
// function's role may only deregister in the media Cloud Map service, change
// records in the namespace's zone and write its own log group; Lambda's
// asynchronous retries end in the same queue, which has an alarm on the topic.
import t from 'tap'
import { App, Stack } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as logs from 'aws-cdk-lib/aws-logs'
import { REAPER_SOURCE, StoppedTaskReaper } from '../../infra/aws/constructs/stopped-task-reaper.js'
import { inlineCommonJs } from '../../infra/aws/functions/inline-code.js'
import { REAPER_ENV } from '../../infra/aws/functions/stopped-task-reaper.js'
import { actionsOf, getAttId, onlyResource, resourcesOf, statementsOfRole, synthStack } from './fixtures/stack.js'
import type { Statement } from './fixtures/stack.js'

// GIVEN the dev stack
const { template, config } = synthStack('dev')
const rule = onlyResource(template, 'AWS::Events::Rule')
const fn = onlyResource(template, 'AWS::Lambda::Function')
const queue = onlyResource(template, 'AWS::SQS::Queue')
const cluster = onlyResource(template, 'AWS::ECS::Cluster')
const mediaCloudMap = onlyResource(template, 'AWS::ServiceDiscovery::Service', { Name: 'media' })
const mediaTaskDef = onlyResource(template, 'AWS::ECS::TaskDefinition', { ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'media-node' })]) })
const mediaService = onlyResource(template, 'AWS::ECS::Service', { TaskDefinition: { Ref: mediaTaskDef.id } })
const taskGroup = { 'Fn::Join': ['', ['service:', { 'Fn::GetAtt': [mediaService.id, 'Name'] }]] }
const clusterArn = { 'Fn::GetAtt': [cluster.id, 'Arn'] }
const queueArn = { 'Fn::GetAtt': [queue.id, 'Arn'] }

t.test('the rule matches STOPPED task state changes of the media node service in this cluster only', async (t) => {
  // WHEN the rule's pattern is read
  const pattern = rule.Properties.EventPattern
  // THEN it names ECS task state changes, this cluster's ARN, the service's group, and STOPPED
  t.same(pattern, {
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: { clusterArn: [clusterArn], group: [taskGroup], lastStatus: ['STOPPED'] },
  })
  t.equal(rule.Properties.State, 'ENABLED')
})

t.test('its one target is the reaper function, with a retry policy and the dead-letter queue', async (t) => {
  const targets = rule.Properties.Targets as Array<Record<string, unknown>>
  t.equal(targets.length, 1)
  t.same(targets[0]?.Arn, { 'Fn::GetAtt': [fn.id, 'Arn'] })
  t.same(targets[0]?.DeadLetterConfig, { Arn: queueArn })
  t.same(targets[0]?.RetryPolicy, { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 8 })
  // AND EventBridge may invoke it from this rule only
  template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', FunctionName: { 'Fn::GetAtt': [fn.id, 'Arn'] }, Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [rule.id, 'Arn'] } })
  t.equal(Object.keys(resourcesOf(template, 'AWS::Lambda::Permission')).length, 1)
})

t.test('the function: Node.js 22, the handler module inlined as index.js, settings from the stack', async (t) => {
  t.equal(fn.Properties.Runtime, 'nodejs22.x')
  t.equal(fn.Properties.Handler, 'index.handler')
  // THEN the template carries exactly the transpiled handler module (tested against the emulator)
  t.equal((fn.Properties.Code as { ZipFile?: unknown }).ZipFile, inlineCommonJs(REAPER_SOURCE))
  t.notOk('S3Bucket' in (fn.Properties.Code as object), 'no asset: synth needs no bundling and no upload')
  t.same((fn.Properties.Environment as { Variables: unknown }).Variables, {
    [REAPER_ENV.serviceId]: { 'Fn::GetAtt': [mediaCloudMap.id, 'Id'] },
    [REAPER_ENV.clusterArn]: clusterArn,
    [REAPER_ENV.taskGroup]: taskGroup,
  })
  t.same(fn.Properties.DeadLetterConfig, { TargetArn: queueArn })
})

t.test('asynchronous invocation: two Lambda retries within an hour, then the dead-letter queue', async (t) => {
  const invokeConfig = onlyResource(template, 'AWS::Lambda::EventInvokeConfig')
  t.same(invokeConfig.Properties.FunctionName, { Ref: fn.id })
  t.equal(invokeConfig.Properties.MaximumRetryAttempts, 2)
  t.equal(invokeConfig.Properties.MaximumEventAgeInSeconds, 3600)
})

t.test('least privilege: deregister in the media service, records in the namespace zone, its own logs, its own queue', async (t) => {
  // GIVEN every statement of the function's role (statementsOfRole refuses managed policies)
  const statements = statementsOfRole(template, getAttId(fn.Properties.Role))
  const bySid = (sid: string): Statement | undefined => statements.find((s) => s.Sid === sid)
  // THEN DeregisterInstance on the media service ARN only
  t.same(actionsOf(bySid('DeregisterInMediaService') ?? { Effect: '', Action: [], Resource: null }), ['servicediscovery:DeregisterInstance'])
  t.same(bySid('DeregisterInMediaService')?.Resource, { 'Fn::GetAtt': [mediaCloudMap.id, 'Arn'] })
  // AND ChangeResourceRecordSets on the namespace's hosted zone only (Cloud Map deletes the records as the caller)
  t.same(actionsOf(bySid('DeleteRecordsInNamespaceZone') ?? { Effect: '', Action: [], Resource: null }), ['route53:ChangeResourceRecordSets'])
  t.match(JSON.stringify(bySid('DeleteRecordsInNamespaceZone')?.Resource), /:route53:::hostedzone\/.*HostedZoneId/)
  // AND its own log group
  const logGroupId = String((fn.Properties.LoggingConfig as { LogGroup?: { Ref?: unknown } }).LogGroup?.Ref)
  const logGroup = resourcesOf(template, 'AWS::Logs::LogGroup')[logGroupId]
  t.equal(logGroup?.Properties?.RetentionInDays, config.logRetentionDays, 'a log group of its own, with the configured retention')
  t.same(actionsOf(bySid('WriteOwnLogs') ?? { Effect: '', Action: [], Resource: null }).sort(), ['logs:CreateLogStream', 'logs:PutLogEvents'])
  t.same(bySid('WriteOwnLogs')?.Resource, { 'Fn::GetAtt': [logGroupId, 'Arn'] })
  // AND SendMessage to the dead-letter queue (added by CDK for the function's DLQ)
  const send = statements.filter((s) => bySid(s.Sid ?? '') === undefined)
  t.same(send.map((s) => [actionsOf(s), s.Resource]), [[['sqs:SendMessage'], queueArn]])
  // AND nothing else, nothing on "*"
  t.equal(statements.length, 4)
  for (const s of statements) {
    t.equal(s.Effect, 'Allow')
    t.notMatch(JSON.stringify(s.Resource), /"\*"/)
  }
})

t.test('the dead-letter queue: 14 days, encrypted, TLS only, EventBridge may write from this rule only', async (t) => {
  t.equal(queue.Properties.MessageRetentionPeriod, 14 * 24 * 3600)
  t.equal(queue.Properties.SqsManagedSseEnabled, true)
  const policy = onlyResource(template, 'AWS::SQS::QueuePolicy')
  const statements = (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement
  t.ok(statements.some((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}'), 'TLS enforced')
  const allow = statements.filter((s) => s.Effect === 'Allow')
  t.equal(allow.length, 1)
  t.match(allow[0], { Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [rule.id, 'Arn'] } } } })
})

t.test('an alarm on the dead-letter queue notifies the alarm topic', async (t) => {
  // GIVEN the alarm on the queue
  const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', { Namespace: 'AWS/SQS' })
  const topic = onlyResource(template, 'AWS::SNS::Topic')
  // THEN one visible message raises it, and the stack sent it to the topic both ways
  t.match(alarm.Properties, { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' })
  t.same(alarm.Properties.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue.id, 'QueueName'] } }])
  t.same(alarm.Properties.AlarmActions, [{ Ref: topic.id }])
  t.same(alarm.Properties.OKActions, [{ Ref: topic.id }])
})

t.test('in its own stack: the pattern and settings come from the service given; retain keeps the log group and queue', async (t) => {
  // GIVEN a stack with an existing cluster and service (imported by ARN and name)
  const stack = new Stack(new App(), 'Reaper')
  const arn = 'arn:aws:ecs:eu-west-1:111122223333:cluster/shared'
  const service = ecs.Ec2Service.fromEc2ServiceAttributes(stack, 'Svc', { cluster: ecs.Cluster.fromClusterArn(stack, 'Cluster', arn), serviceName: 'media-nodes' })
  // WHEN the reaper is added with retain and a week of logs
  new StoppedTaskReaper(stack, 'R', {
    service,
    cloudMapServiceId: 'srv-abc',
    cloudMapServiceArn: 'arn:aws:servicediscovery:eu-west-1:111122223333:service/srv-abc',
    hostedZoneArn: 'arn:aws:route53:::hostedzone/Z1',
    logRetention: logs.RetentionDays.ONE_WEEK,
    retain: true,
  })
  const own = Template.fromStack(stack)
  // THEN the rule and the function's settings name that cluster and service
  own.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: { clusterArn: [arn], group: ['service:media-nodes'], lastStatus: ['STOPPED'] } } })
  own.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { CLOUDMAP_SERVICE_ID: 'srv-abc', ECS_CLUSTER_ARN: arn, ECS_TASK_GROUP: 'service:media-nodes' } } })
  own.hasResourceProperties('AWS::IAM::Role', { Policies: [{ PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'servicediscovery:DeregisterInstance', Resource: 'arn:aws:servicediscovery:eu-west-1:111122223333:service/srv-abc' })]) } }] })
  // AND the log group and the queue are kept when the stack is deleted
  own.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', Properties: { RetentionInDays: 7 } })
  own.hasResource('AWS::SQS::Queue', { DeletionPolicy: 'Retain' })
  t.pass('template assertions hold')
})
