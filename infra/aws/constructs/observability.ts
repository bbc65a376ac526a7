// Observability: log groups for every ECS workload, an SNS alarm topic, and
// the edge alarms (router 5xx, unhealthy router hosts, active connections).
import { Construct } from 'constructs'
import { Duration, RemovalPolicy } from 'aws-cdk-lib'
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch'
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions'
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as sns from 'aws-cdk-lib/aws-sns'
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions'

/** Map a day count onto the RetentionDays enum member with that value. */
export function toRetentionDays(days: number): logs.RetentionDays {
  const match = Object.values(logs.RetentionDays).find((v): v is logs.RetentionDays => v === days)
  if (match === undefined) throw new Error(`Observability: ${days} is not a retention CloudWatch Logs accepts`)
  return match
}

/** Props of {@link Observability}. */
export interface ObservabilityProps {
  /** The edge load balancer (5xx and connection metrics). */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer
  /** The router target group (target 5xx and unhealthy host metrics). */
  readonly routerTargetGroup: elbv2.ApplicationTargetGroup
  /** Log retention in days (a value CloudWatch Logs accepts). */
  readonly logRetentionDays: number
  /** Optional e-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string
  /** 5xx responses (ELB + router) per minute that raise the alarm. Default 25. */
  readonly fiveXxPerMinuteThreshold?: number
  /** Active client connections on the ALB that raise the alarm. Default 50,000. */
  readonly activeConnectionsThreshold?: number
  /** Keep log groups when the stack is deleted (prod). Default false. */
  readonly retainLogs?: boolean
}

/** Log groups, the alarm topic, and the alarms on the edge. */
export class Observability extends Construct {
  /** SNS topic every alarm notifies (alarm and OK). */
  readonly alarmTopic: sns.Topic
  /** Router container logs. */
  readonly routerLogGroup: logs.LogGroup
  /** Media node container logs. */
  readonly mediaNodeLogGroup: logs.LogGroup
  /** Logs of per-deployment services (one stream prefix per deployment). */
  readonly deploymentLogGroup: logs.LogGroup
  /** ELB 5xx + router (target) 5xx per minute. */
  readonly router5xxAlarm: cloudwatch.Alarm
  /** Any unhealthy router target for 3 minutes. */
  readonly unhealthyHostsAlarm: cloudwatch.Alarm
  /** Active connections above the threshold. */
  readonly activeConnectionsAlarm: cloudwatch.Alarm

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id)
    const retention = toRetentionDays(props.logRetentionDays)
    const removalPolicy = props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY
    this.routerLogGroup = new logs.LogGroup(this, 'RouterLogs', { retention, removalPolicy })
    this.mediaNodeLogGroup = new logs.LogGroup(this, 'MediaNodeLogs', { retention, removalPolicy })
    this.deploymentLogGroup = new logs.LogGroup(this, 'DeploymentLogs', { retention, removalPolicy })

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Edge router alarms' })
    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail))
    const action = new cwActions.SnsAction(this.alarmTopic)

    const period = Duration.minutes(1)
    const elb5xx = props.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period, statistic: 'Sum' })
    const target5xx = props.routerTargetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period, statistic: 'Sum' })
    const fiveXx = new cloudwatch.MathExpression({
      expression: 'FILL(elb, 0) + FILL(target, 0)',
      usingMetrics: { elb: elb5xx, target: target5xx },
      period,
      label: 'ELB + router 5xx per minute',
    })
    this.router5xxAlarm = fiveXx.createAlarm(this, 'Router5xxAlarm', {
      alarmDescription: 'Router or ALB returned too many 5xx responses (no healthy target, upstream errors, lookup failures).',
      threshold: props.fiveXxPerMinuteThreshold ?? 25,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    })

    this.unhealthyHostsAlarm = props.routerTargetGroup.metrics
      .unhealthyHostCount({ period, statistic: 'Maximum' })
      .createAlarm(this, 'UnhealthyHostsAlarm', {
        alarmDescription: 'At least one router target failed the ALB /health check for 3 minutes.',
        threshold: 1,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      })

    this.activeConnectionsAlarm = props.loadBalancer.metrics
      .activeConnectionCount({ period, statistic: 'Sum' })
      .createAlarm(this, 'ActiveConnectionsAlarm', {
        alarmDescription: 'Concurrent client connections on the edge ALB are above the planned capacity.',
        threshold: props.activeConnectionsThreshold ?? 50_000,
        evaluationPeriods: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      })

    for (const alarm of [this.router5xxAlarm, this.unhealthyHostsAlarm, this.activeConnectionsAlarm]) {
      alarm.addAlarmAction(action)
      alarm.addOkAction(action)
    }
  }
}
