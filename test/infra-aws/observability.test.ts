// Observability construct: log groups, SNS alarm topic, and alarms on router
// 5xx, unhealthy router hosts and active connections.
import t from 'tap'
import { onlyResource, resourcesOf, synthStack } from './fixtures/stack.js'

// GIVEN the dev stack (alarm e-mail configured)
const { template, config } = synthStack('dev')
const topic = onlyResource(template, 'AWS::SNS::Topic')
const allAlarms = Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm'))
// The construct's own alarms (the stack adds others, e.g. the stopped-task reaper's, on the same topic).
const alarms = allAlarms.filter(([id]) => id.startsWith('Observability')).map(([, a]) => a)

function metricNames(alarm: { Properties?: Record<string, unknown> }): string[] {
  const single = alarm.Properties?.MetricName
  if (typeof single === 'string') return [single]
  const metrics = (alarm.Properties?.Metrics ?? []) as Array<{ MetricStat?: { Metric: { MetricName: string } } }>
  return metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []))
}

t.test('three alarms: router 5xx, unhealthy hosts, active connections', async (t) => {
  t.equal(alarms.length, 3)
  const names = alarms.map(metricNames)
  t.ok(names.some((n) => n.includes('HTTPCode_Target_5XX_Count') && n.includes('HTTPCode_ELB_5XX_Count')), '5xx alarm covers router and ELB 5xx')
  t.ok(names.some((n) => n.includes('UnHealthyHostCount')), 'unhealthy hosts alarm')
  t.ok(names.some((n) => n.includes('ActiveConnectionCount')), 'active connections alarm')
})

t.test('every alarm in the stack notifies the SNS topic on alarm and on recovery', async (t) => {
  for (const [, a] of allAlarms) {
    t.same(a.Properties?.AlarmActions, [{ Ref: topic.id }])
    t.same(a.Properties?.OKActions, [{ Ref: topic.id }])
  }
})

t.test('unhealthy hosts alarm watches the router target group', async (t) => {
  const a = alarms.find((x) => metricNames(x).includes('UnHealthyHostCount'))
  const dims = JSON.stringify(a?.Properties?.Dimensions)
  t.match(dims, /TargetGroup/)
  t.match(dims, /LoadBalancer/)
})

t.test('alarm e-mail subscribed when configured', async (t) => {
  template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: config.alarmEmail, TopicArn: { Ref: topic.id } })
  t.pass()
})

t.test('log groups for router, media nodes and deployments, with the configured retention, used by the containers', async (t) => {
  const groups = Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup')).filter(([id]) => id.startsWith('Observability'))
  t.equal(groups.length, 3)
  for (const [, g] of groups) t.equal(g.Properties?.RetentionInDays, config.logRetentionDays)
  const taskDefs = JSON.stringify(resourcesOf(template, 'AWS::ECS::TaskDefinition'))
  for (const [id] of groups) t.match(taskDefs, new RegExp(`"awslogs-group":\\{"Ref":"${id}"\\}`), `${id} is used by a container`)
})
