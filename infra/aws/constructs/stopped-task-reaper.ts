// Stopped-task reaper: removes the Cloud Map entry of a media node whose task
// stopped without deregistering (SIGKILL, OOM kill, lost host). Media nodes
// register themselves (custom health, which never expires), so nothing else
// would ever remove such an entry. An EventBridge rule on `ECS Task State
// Change` events with lastStatus STOPPED, for this cluster and this ECS
// service's tasks only, invokes a small Lambda (inline code, Node.js 22, the
// runtime's AWS SDK v3; functions/stopped-task-reaper.ts) that calls
// DeregisterInstance(<media service>, <task id>). Its role may deregister in
// the media service only, change records in the namespace's hosted zone only
// (Cloud Map deletes the DNS records with the caller's rights) and write to
// its own log group. Events that cannot be delivered or keep failing land in
// a dead-letter queue, with an alarm on it.
import { fileURLToPath } from 'node:url'
import { Construct } from 'constructs'
import { Duration, RemovalPolicy } from 'aws-cdk-lib'
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch'
import type * as ecs from 'aws-cdk-lib/aws-ecs'
import * as events from 'aws-cdk-lib/aws-events'
import * as targets from 'aws-cdk-lib/aws-events-targets'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as sqs from 'aws-cdk-lib/aws-sqs'
import { REAPER_ENV } from '../functions/stopped-task-reaper.js'
import { inlineCommonJs } from '../functions/inline-code.js'

/** The handler module, inlined into the template as `index.js`. */
export const REAPER_SOURCE = fileURLToPath(new URL('../functions/stopped-task-reaper.ts', import.meta.url))

/** Props of {@link StoppedTaskReaper}. */
export interface StoppedTaskReaperProps {
  /** The media node ECS service; its cluster ARN and `service:<name>` group select the events. */
  readonly service: ecs.IBaseService
  /** Id of the Cloud Map service the nodes register in (`srv-…`); instances are deregistered there. */
  readonly cloudMapServiceId: string
  /** ARN of that Cloud Map service; `servicediscovery:DeregisterInstance` is granted on it only. */
  readonly cloudMapServiceArn: string
  /** ARN of the namespace's Route 53 private hosted zone (Cloud Map deletes the instance's records there with the caller's rights). */
  readonly hostedZoneArn: string
  /** Retention of the function's log group, in days. Default one month. */
  readonly logRetention?: logs.RetentionDays
  /** Keep the log group and the dead-letter queue when the stack is deleted. Default false. */
  readonly retain?: boolean
}

/** EventBridge rule + Lambda that deregisters the Cloud Map instance of each stopped media node task. */
export class StoppedTaskReaper extends Construct {
  /** The rule on the service's STOPPED task events. */
  readonly rule: events.Rule
  /** The reaper function. */
  readonly function: lambda.Function
  /** The function's role (see the class comment for what it may do). */
  readonly role: iam.Role
  /** The function's log group: one JSON line per event. */
  readonly logGroup: logs.LogGroup
  /** Events EventBridge could not deliver, and events the function still failed on after Lambda's retries. */
  readonly deadLetterQueue: sqs.Queue
  /** At least one event in the dead-letter queue: a stale entry may be left (the stack adds the actions). */
  readonly deadLetterAlarm: cloudwatch.Alarm

  constructor(scope: Construct, id: string, props: StoppedTaskReaperProps) {
    super(scope, id)
    const removalPolicy = props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY
    const { service } = props
    const taskGroup = `service:${service.serviceName}`

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy })
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
    })

    // A role of our own: CDK's default would add AWSLambdaBasicExecutionRole
    // (logs on "*"). CDK adds sqs:SendMessage on the dead-letter queue below.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Stopped-task reaper: deregister stopped media node tasks from the Cloud Map media service',
      inlinePolicies: {
        Reaper: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'DeregisterInMediaService',
              actions: ['servicediscovery:DeregisterInstance'],
              resources: [props.cloudMapServiceArn],
            }),
            new iam.PolicyStatement({
              sid: 'DeleteRecordsInNamespaceZone',
              actions: ['route53:ChangeResourceRecordSets'],
              resources: [props.hostedZoneArn],
            }),
            new iam.PolicyStatement({
              sid: 'WriteOwnLogs',
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [this.logGroup.logGroupArn],
            }),
          ],
        }),
      },
    })

    this.function = new lambda.Function(this, 'Function', {
      description: 'Deregisters the Cloud Map instance (id = task id) of each stopped media node task',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromInline(inlineCommonJs(REAPER_SOURCE)),
      handler: 'index.handler',
      role: this.role,
      logGroup: this.logGroup,
      memorySize: 128,
      timeout: Duration.seconds(30),
      environment: {
        [REAPER_ENV.serviceId]: props.cloudMapServiceId,
        [REAPER_ENV.clusterArn]: service.cluster.clusterArn,
        [REAPER_ENV.taskGroup]: taskGroup,
      },
      // Asynchronous invocation (EventBridge): a failing event is retried
      // twice by Lambda, then kept in the queue. An hour is long enough for
      // a Cloud Map hiccup; a stale entry older than that is an operator's job.
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      deadLetterQueue: this.deadLetterQueue,
    })

    this.rule = new events.Rule(this, 'Rule', {
      description: 'STOPPED tasks of the media node service → stopped-task reaper',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [service.cluster.clusterArn],
          group: [taskGroup],
          lastStatus: ['STOPPED'],
        },
      },
    })
    // EventBridge's own retries cover delivery (throttling, Lambda unavailable);
    // undeliverable events go to the same queue.
    this.rule.addTarget(new targets.LambdaFunction(this.function, {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 8,
      maxEventAge: Duration.hours(1),
    }))

    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: 'The stopped-task reaper could not handle an event: a stopped media node may still be registered in Cloud Map (see the reaper log group and the dead-letter queue).',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    })
  }
}
