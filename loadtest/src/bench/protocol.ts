// IPC messages between the bench orchestrator and its children, with type
// guards so nothing received over IPC is trusted unchecked.

export interface ReadyMessage {
  type: 'ready'
  /** Ports the child listens on (upstream: http + ws; proxies: port). */
  ports: Record<string, number>
}

export interface HttpResultMessage {
  type: 'http-result'
  responses: number
  /** Transport errors and timeouts. */
  errors: number
  /** Responses with status >= 400. */
  badStatus: number
  durationS: number
  /** Response times, ms. */
  latencies: number[]
}

export interface WsOpenedMessage {
  type: 'ws-opened'
  opened: number
  failed: number
  errors: string[]
}

export interface WsEchoMessage {
  type: 'ws-echo'
  /** Round trips, ms. */
  rtts: number[]
  lost: number
  /** Connections still open after the echo rounds and hold. */
  held: number
}

/**
 * `open`: open `count` more connections (answered with ws-opened for them).
 * `echo`: `warmupRounds` echo rounds first, not reported, then `rounds`.
 */
export type WsCommand = { cmd: 'open'; count: number } | { cmd: 'echo'; warmupRounds: number; rounds: number; holdMs: number } | { cmd: 'close' }

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null
}
function field(v: object, k: string): unknown {
  return Reflect.get(v, k)
}
function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number')
}

export function asReady(m: unknown): ReadyMessage | undefined {
  if (!isObject(m) || field(m, 'type') !== 'ready') return undefined
  const ports = field(m, 'ports')
  if (!isObject(ports)) return undefined
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(ports)) {
    if (typeof v !== 'number') return undefined
    out[k] = v
  }
  return { type: 'ready', ports: out }
}

export function asHttpResult(m: unknown): HttpResultMessage | undefined {
  if (!isObject(m) || field(m, 'type') !== 'http-result') return undefined
  const responses = field(m, 'responses')
  const errors = field(m, 'errors')
  const badStatus = field(m, 'badStatus')
  const durationS = field(m, 'durationS')
  const latencies = field(m, 'latencies')
  if (typeof responses !== 'number' || typeof errors !== 'number' || typeof badStatus !== 'number' || typeof durationS !== 'number' || !isNumberArray(latencies)) return undefined
  return { type: 'http-result', responses, errors, badStatus, durationS, latencies }
}

export function asWsOpened(m: unknown): WsOpenedMessage | undefined {
  if (!isObject(m) || field(m, 'type') !== 'ws-opened') return undefined
  const opened = field(m, 'opened')
  const failed = field(m, 'failed')
  const errors = field(m, 'errors')
  if (typeof opened !== 'number' || typeof failed !== 'number' || !Array.isArray(errors)) return undefined
  return { type: 'ws-opened', opened, failed, errors: errors.filter((e): e is string => typeof e === 'string') }
}

export function asWsEcho(m: unknown): WsEchoMessage | undefined {
  if (!isObject(m) || field(m, 'type') !== 'ws-echo') return undefined
  const rtts = field(m, 'rtts')
  const lost = field(m, 'lost')
  const held = field(m, 'held')
  if (!isNumberArray(rtts) || typeof lost !== 'number' || typeof held !== 'number') return undefined
  return { type: 'ws-echo', rtts, lost, held }
}

export function asWsCommand(m: unknown): WsCommand | undefined {
  if (!isObject(m)) return undefined
  const cmd = field(m, 'cmd')
  if (cmd === 'close') return { cmd }
  if (cmd === 'open') {
    const count = field(m, 'count')
    if (typeof count === 'number' && Number.isInteger(count) && count >= 0) return { cmd, count }
  }
  if (cmd === 'echo') {
    const warmupRounds = field(m, 'warmupRounds')
    const rounds = field(m, 'rounds')
    const holdMs = field(m, 'holdMs')
    if (typeof warmupRounds === 'number' && typeof rounds === 'number' && typeof holdMs === 'number') return { cmd, warmupRounds, rounds, holdMs }
  }
  return undefined
}

/** Sends over IPC from a child; resolves once the message was handed to the channel (no-op without one). */
export function sendToParent(message: ReadyMessage | HttpResultMessage | WsOpenedMessage | WsEchoMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve()
    else process.send(message, undefined, {}, () => resolve())
  })
}

/** Reads a required env var in a child; exits with a clear message if missing. */
export function requireEnv(name: string): string {
  const v = process.env[name]
  if (v === undefined || v === '') {
    process.stderr.write(`missing env ${name}\n`)
    process.exit(2)
  }
  return v
}

/** Reads a required integer env var in a child. */
export function requireIntEnv(name: string): number {
  const v = requireEnv(name)
  const n = Number(v)
  if (!Number.isInteger(n)) {
    process.stderr.write(`env ${name} must be an integer, got "${v}"\n`)
    process.exit(2)
  }
  return n
}

/** Exit when the parent goes away, so no child outlives a crashed bench. */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(0))
}
