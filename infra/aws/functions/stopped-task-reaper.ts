// Stopped-task reaper: the Lambda behind the StoppedTaskReaper construct.
// EventBridge hands it the `ECS Task State Change` events (lastStatus STOPPED)
// of the media node service; it deregisters the Cloud Map instance whose id
// is the task id (a media node's default NODE_ID), so a node that was
// SIGKILLed, OOM-killed or lost with its host leaves no HEALTHY entry behind.
// A node that drained has deregistered itself already: its event meets
// InstanceNotFound, which counts as done, as does a repeated event.
//
// The event is parsed at the edge into a typed value (pure); the
// deregistration takes a ServiceDiscovery client, so tests run it against the
// local Cloud Map emulator. One JSON line is written per event.
//
// This file is inlined into the template (transpiled to CommonJS at synth by
// functions/inline-code.ts), so it stays self-contained: no relative imports,
// only `@aws-sdk/*` (shipped with the Lambda Node.js runtime) and `node:*`.
import { DeregisterInstanceCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery'

/** The fields of an ECS Task State Change event the reaper uses. */
export interface TaskStateChange {
  /** The EventBridge event id (for the log line). */
  readonly eventId: string | undefined
  /** `detail.clusterArn`. */
  readonly clusterArn: string
  /** `detail.taskArn`. */
  readonly taskArn: string
  /** The task id: last segment of the task ARN, lower-cased (what a media node takes as its NODE_ID). */
  readonly taskId: string
  /** `detail.group`, `service:<ECS service name>` for a service's tasks. Absent for standalone tasks. */
  readonly group: string | undefined
  /** `detail.lastStatus`, e.g. `RUNNING`, `STOPPED`. */
  readonly lastStatus: string
  /** `detail.stopCode`, e.g. `EssentialContainerExited`, when stopped. */
  readonly stopCode: string | undefined
  /** `detail.stoppedReason`, when stopped. */
  readonly stoppedReason: string | undefined
  /** `detail.version`: the task's state version (duplicate events carry the same one). */
  readonly version: number | undefined
}

/** What the reaper acts for: one Cloud Map service and one ECS service's tasks. */
export interface ReaperConfig {
  /** Cloud Map service id (`srv-…`) the media nodes register in. */
  readonly serviceId: string
  /** ARN of the ECS cluster the media node service runs in. */
  readonly clusterArn: string
  /** `group` of the media node service's tasks: `service:<ECS service name>`. */
  readonly taskGroup: string
}

/** Environment variable of each {@link ReaperConfig} field (set by the construct). */
export const REAPER_ENV = {
  serviceId: 'CLOUDMAP_SERVICE_ID',
  clusterArn: 'ECS_CLUSTER_ARN',
  taskGroup: 'ECS_TASK_GROUP',
} as const

/** Why an event leads to no deregistration. */
export type IgnoreReason = 'not-stopped' | 'other-cluster' | 'other-service'

/** What to do for one event. */
export type Decision = { readonly action: 'deregister'; readonly instanceId: string } | { readonly action: 'ignore'; readonly reason: IgnoreReason }

/** What happened for one event. */
export type ReapOutcome =
  | { readonly outcome: 'deregistered'; readonly instanceId: string; readonly operationId: string | undefined }
  | { readonly outcome: 'already-gone'; readonly instanceId: string }
  | { readonly outcome: 'ignored'; readonly reason: IgnoreReason }

/** One structured log line. */
export type LogLine = Record<string, unknown>

/** The event is not an ECS Task State Change of the expected shape. */
export class InvalidEventError extends Error {
  readonly code = 'INVALID_EVENT'
  constructor(message: string) {
    super(message)
    this.name = 'InvalidEventError'
  }
}

/** The function's environment lacks a setting. */
export class ReaperConfigError extends Error {
  readonly code = 'REAPER_CONFIG'
  constructor(message: string) {
    super(message)
    this.name = 'ReaperConfigError'
  }
}

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function requiredString(record: Record<string, unknown>, key: string, where: string): string {
  const value = record[key]
  if (typeof value !== 'string' || value === '') throw new InvalidEventError(`${where}.${key} is not a non-empty string`)
  return value
}

function optionalString(record: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = record[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new InvalidEventError(`${where}.${key} is not a string`)
  return value
}

/**
 * The task id of an ECS task ARN as a media node derives its NODE_ID from it
 * (media-node/src/node-id.ts `nodeIdFromTaskArn`; a test checks both agree):
 * the last path segment, lower-cased, when it is a DNS label.
 */
export function taskIdOfArn(taskArn: string): string | undefined {
  const resource = taskArn.split(':').slice(5).join(':')
  if (!resource.startsWith('task/')) return undefined
  const id = resource.split('/').at(-1)?.toLowerCase() ?? ''
  return DNS_LABEL.test(id) ? id : undefined
}

/**
 * Parses an EventBridge event into a {@link TaskStateChange}. Throws
 * InvalidEventError naming the first field that is missing or malformed.
 * Fields the reaper does not use are not checked (ECS adds fields over time).
 */
export function parseTaskStateChange(event: unknown): TaskStateChange {
  if (!isRecord(event)) throw new InvalidEventError('event is not a JSON object')
  const source = requiredString(event, 'source', 'event')
  const detailType = requiredString(event, 'detail-type', 'event')
  if (source !== 'aws.ecs' || detailType !== 'ECS Task State Change') {
    throw new InvalidEventError(`event is ${JSON.stringify(`${source} / ${detailType}`)}, not aws.ecs / ECS Task State Change`)
  }
  const detail = event['detail']
  if (!isRecord(detail)) throw new InvalidEventError('event.detail is not an object')
  const taskArn = requiredString(detail, 'taskArn', 'detail')
  const taskId = taskIdOfArn(taskArn)
  if (taskId === undefined) throw new InvalidEventError(`detail.taskArn ${JSON.stringify(taskArn)} has no task id usable as a DNS label`)
  const version = detail['version']
  if (version !== undefined && (typeof version !== 'number' || !Number.isInteger(version))) throw new InvalidEventError('detail.version is not an integer')
  return {
    eventId: optionalString(event, 'id', 'event'),
    clusterArn: requiredString(detail, 'clusterArn', 'detail'),
    taskArn,
    taskId,
    group: optionalString(detail, 'group', 'detail'),
    lastStatus: requiredString(detail, 'lastStatus', 'detail'),
    stopCode: optionalString(detail, 'stopCode', 'detail'),
    stoppedReason: optionalString(detail, 'stoppedReason', 'detail'),
    version,
  }
}

/**
 * Reads the reaper's settings from the environment ({@link REAPER_ENV}).
 * Throws ReaperConfigError naming a missing variable.
 */
export function readReaperConfig(env: Readonly<Record<string, string | undefined>>): ReaperConfig {
  const read = (name: string): string => {
    const value = env[name]
    if (value === undefined || value === '') throw new ReaperConfigError(`${name} is not set`)
    return value
  }
  return { serviceId: read(REAPER_ENV.serviceId), clusterArn: read(REAPER_ENV.clusterArn), taskGroup: read(REAPER_ENV.taskGroup) }
}

/**
 * Pure: deregister the task's instance only for a STOPPED task of our
 * cluster and our service (the rule filters the same way; this is the check
 * that does not depend on the rule being right).
 */
export function decide(change: TaskStateChange, config: ReaperConfig): Decision {
  if (change.lastStatus !== 'STOPPED') return { action: 'ignore', reason: 'not-stopped' }
  if (change.clusterArn !== config.clusterArn) return { action: 'ignore', reason: 'other-cluster' }
  if (change.group !== config.taskGroup) return { action: 'ignore', reason: 'other-service' }
  return { action: 'deregister', instanceId: change.taskId }
}

/** One JSON line on stdout (in Lambda: one CloudWatch Logs event, no prefix). */
export function writeJsonLine(line: LogLine): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`)
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/**
 * Handles one event: parse, decide, and for a stopped media node task call
 * DeregisterInstance(serviceId, taskId). InstanceNotFound (the node
 * deregistered itself, or an earlier delivery of the event did) is success.
 * Writes exactly one log line. Rejects on an invalid event and on any other
 * Cloud Map error, so Lambda retries and finally sends the event to the
 * dead-letter queue.
 */
export async function reapStoppedTask(client: ServiceDiscoveryClient, config: ReaperConfig, event: unknown, log: (line: LogLine) => void = writeJsonLine): Promise<ReapOutcome> {
  let change: TaskStateChange
  try {
    change = parseTaskStateChange(event)
  } catch (err) {
    log({ level: 'error', msg: 'stopped-task reaper: invalid event', error: describe(err) })
    throw err
  }
  const about = {
    eventId: change.eventId,
    taskArn: change.taskArn,
    group: change.group,
    lastStatus: change.lastStatus,
    stopCode: change.stopCode,
    stoppedReason: change.stoppedReason,
    version: change.version,
  }
  const decision = decide(change, config)
  if (decision.action === 'ignore') {
    log({ level: 'info', msg: 'stopped-task reaper: event ignored', outcome: 'ignored', reason: decision.reason, ...about })
    return { outcome: 'ignored', reason: decision.reason }
  }
  const { instanceId } = decision
  try {
    const out = await client.send(new DeregisterInstanceCommand({ ServiceId: config.serviceId, InstanceId: instanceId }))
    log({ level: 'info', msg: 'stopped-task reaper: instance deregistered', outcome: 'deregistered', serviceId: config.serviceId, instanceId, operationId: out.OperationId, ...about })
    return { outcome: 'deregistered', instanceId, operationId: out.OperationId }
  } catch (err) {
    if (errorName(err) === 'InstanceNotFound') {
      log({ level: 'info', msg: 'stopped-task reaper: instance already gone', outcome: 'already-gone', serviceId: config.serviceId, instanceId, ...about })
      return { outcome: 'already-gone', instanceId }
    }
    log({ level: 'error', msg: 'stopped-task reaper: deregistration failed', outcome: 'failed', serviceId: config.serviceId, instanceId, error: describe(err), ...about })
    throw err
  }
}

let lambdaClient: ServiceDiscoveryClient | undefined
let lambdaConfig: ReaperConfig | undefined

/**
 * The Lambda entry point (`index.handler`). The client (region and
 * credentials from the Lambda environment, the SDK's standard retries) and
 * the settings are made on the first event and reused.
 */
export async function handler(event: unknown): Promise<ReapOutcome> {
  lambdaConfig ??= readReaperConfig(process.env)
  lambdaClient ??= new ServiceDiscoveryClient({})
  return reapStoppedTask(lambdaClient, lambdaConfig, event)
}
