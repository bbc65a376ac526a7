// Client of the ECS container agent's task scale-in protection endpoint,
// `${ECS_AGENT_URI}/task-protection/v1/state`: PUT sets or clears protection,
// GET reads it. The agent answers
//   200 {"protection": {"ExpirationDate", "ProtectionEnabled", "TaskArn"}}  success
//   200 {"failure":    {"Arn", "Detail", "Reason"}}                        ECS refused (e.g. TASK_NOT_VALID)
//   4xx/5xx {"requestID"?, "error": {"Arn"?, "Code", "Message"}}             agent or ECS API error
// (shapes from the agent's ecs-agent/tmds/handlers/taskprotection/v1; see the README).
// Only fetches and parses: when to call it is task-protection.ts's business.

/** Largest ExpiresInMinutes the endpoint takes (48 h). */
export const MAX_PROTECTION_MINUTES = 2880

/** The protection state the agent reported. */
export interface ProtectionState {
  protectionEnabled: boolean
  /** As the agent sent it (RFC 3339 text), when present. */
  expirationDate: string | undefined
  taskArn: string | undefined
}

/** The PUT body. The agent rejects unknown fields. */
export interface ProtectionRequest {
  ProtectionEnabled: boolean
  /** 1..2880; only with ProtectionEnabled true. Absent means the agent's default (120). */
  ExpiresInMinutes?: number
}

/** A call to the agent failed: network, HTTP status, `failure` or `error` body, or an unreadable answer. */
export class TaskProtectionError extends Error {
  readonly code = 'TASK_PROTECTION_FAILED'
  /** HTTP status when the agent answered. */
  readonly status: number | undefined
  /** ECS failure Reason or agent error Code, when given. */
  readonly reason: string | undefined

  constructor(message: string, status?: number, reason?: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'TaskProtectionError'
    this.status = status
    this.reason = reason
  }
}

/** The state URL for an agent URI (`$ECS_AGENT_URI`, with or without a trailing slash). */
export function taskProtectionUrl(agentUri: string): string {
  return `${agentUri.replace(/\/+$/, '')}/task-protection/v1/state`
}

/** PUT `request`; resolves with the resulting state or throws TaskProtectionError. */
export async function putTaskProtection(agentUri: string, request: ProtectionRequest, timeoutMs: number): Promise<ProtectionState> {
  return call(agentUri, 'PUT', JSON.stringify(request), timeoutMs)
}

/** GET the current state; throws TaskProtectionError. */
export async function getTaskProtection(agentUri: string, timeoutMs: number): Promise<ProtectionState> {
  return call(agentUri, 'GET', undefined, timeoutMs)
}

async function call(agentUri: string, method: 'GET' | 'PUT', body: string | undefined, timeoutMs: number): Promise<ProtectionState> {
  let res: Response
  try {
    res = await fetch(taskProtectionUrl(agentUri), {
      method,
      ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    throw new TaskProtectionError(`ECS agent ${method} failed: ${describe(err)}`, undefined, undefined, { cause: err })
  }
  let text: string
  try {
    text = await res.text()
  } catch (err) {
    throw new TaskProtectionError(`ECS agent ${method}: reading the answer failed: ${describe(err)}`, res.status, undefined, { cause: err })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new TaskProtectionError(`ECS agent ${method} answered ${res.status} with a body that is not JSON`, res.status)
  }
  return parseProtectionResponse(res.status, parsed)
}

/** Reads an agent answer: the `protection` state, or a TaskProtectionError for `failure`, `error` or a non-2xx status. */
export function parseProtectionResponse(status: number, body: unknown): ProtectionState {
  const failure = field(body, 'failure')
  if (isObject(failure)) {
    const reason = text(failure, 'Reason') ?? 'unknown'
    const detail = text(failure, 'Detail')
    throw new TaskProtectionError(`ECS refused task protection: ${reason}${detail !== undefined ? ` (${detail})` : ''}`, status, reason)
  }
  const error = field(body, 'error')
  if (isObject(error)) {
    const code = text(error, 'Code') ?? 'unknown'
    throw new TaskProtectionError(`ECS agent error ${status} ${code}: ${text(error, 'Message') ?? ''}`.trim(), status, code)
  }
  if (status < 200 || status > 299) throw new TaskProtectionError(`ECS agent answered ${status}`, status)
  const protection = field(body, 'protection')
  if (!isObject(protection) || typeof protection['ProtectionEnabled'] !== 'boolean') {
    throw new TaskProtectionError('ECS agent answer has no protection.ProtectionEnabled', status)
  }
  const expiration = protection['ExpirationDate']
  return {
    protectionEnabled: protection['ProtectionEnabled'],
    expirationDate: typeof expiration === 'string' ? expiration : typeof expiration === 'number' ? String(expiration) : undefined,
    taskArn: text(protection, 'TaskArn'),
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function field(value: unknown, name: string): unknown {
  return isObject(value) ? value[name] : undefined
}

function text(value: Record<string, unknown>, name: string): string | undefined {
  const v = value[name]
  return typeof v === 'string' && v !== '' ? v : undefined
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : ''
    return `${err.name}: ${err.message}${cause}`
  }
  return String(err)
}
