// IPC messages between the scale orchestrator (ws-scale.ts) and its media-node
// and load-generator children, with type guards: nothing received over IPC is
// used before it has been checked field by field.

/** A media-node child is listening. */
export interface MediaReady {
  type: 'media-ready'
  port: number
  /** This process's open-files limit (soft), from /proc/self/limits; -1 if unreadable. */
  fdLimit: number
}

/** A load-generator child is up and waiting for `open`. */
export interface GenReady {
  type: 'gen-ready'
  fdLimit: number
}

/** All of a generator's connections settled (opened or failed). */
export interface GenOpened {
  type: 'gen-opened'
  opened: number
  failed: number
  /** Failure reason → how many. */
  reasons: Record<string, number>
  openMs: number
}

/** A generator's echo round finished. */
export interface GenEchoed {
  type: 'gen-echoed'
  /** One round trip per echoed connection, ms. */
  rtts: number[]
  /** Messages sent whose echo did not come back in time. */
  lost: number
}

/** A generator closed its connections. */
export interface GenClosed {
  type: 'gen-closed'
  /** Connections still open when the close was asked for (after the hold). */
  openAtClose: number
  /** Connections that ended with a clean close handshake. */
  closedClean: number
  /** Connections terminated after the close timeout. */
  forced: number
  /** Connections that closed on their own after opening (before `close`). */
  droppedEarly: number
}

export type FromChild = MediaReady | GenReady | GenOpened | GenEchoed | GenClosed

/** What a generator opens: its share of connections, spread over nodes and source addresses. */
export interface OpenCommand {
  cmd: 'open'
  /** e.g. ws://127.0.0.1:8080 */
  baseUrl: string
  nodeIds: string[]
  /** Global index of this generator's first connection (session ids and spreading use it). */
  offset: number
  count: number
  concurrency: number
  localAddresses: string[]
  handshakeTimeoutMs: number
  /** No new connection is started after this many ms. */
  deadlineMs: number
}

/** Echo or close: `ratePerS` paces the sends / closes of this generator (0 = all at once); `timeoutMs` bounds the wait. */
export type ToGenerator = OpenCommand | { cmd: 'echo' | 'close'; ratePerS: number; timeoutMs: number }

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null
}
function field(v: object, k: string): unknown {
  return Reflect.get(v, k)
}
function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0
}
function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}
function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string')
}
function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every(isNumber)
}
function asCountRecord(v: unknown): Record<string, number> | undefined {
  if (!isObject(v) || Array.isArray(v)) return undefined
  const out: Record<string, number> = {}
  for (const [k, n] of Object.entries(v)) {
    if (!isCount(n)) return undefined
    out[k] = n
  }
  return out
}

export function asMediaReady(m: unknown): MediaReady | undefined {
  if (!isObject(m) || field(m, 'type') !== 'media-ready') return undefined
  const port = field(m, 'port')
  const fdLimit = field(m, 'fdLimit')
  if (!isCount(port) || port < 1 || port > 65535 || !isNumber(fdLimit)) return undefined
  return { type: 'media-ready', port, fdLimit }
}

export function asGenReady(m: unknown): GenReady | undefined {
  if (!isObject(m) || field(m, 'type') !== 'gen-ready') return undefined
  const fdLimit = field(m, 'fdLimit')
  return isNumber(fdLimit) ? { type: 'gen-ready', fdLimit } : undefined
}

export function asGenOpened(m: unknown): GenOpened | undefined {
  if (!isObject(m) || field(m, 'type') !== 'gen-opened') return undefined
  const opened = field(m, 'opened')
  const failed = field(m, 'failed')
  const reasons = asCountRecord(field(m, 'reasons'))
  const openMs = field(m, 'openMs')
  if (!isCount(opened) || !isCount(failed) || reasons === undefined || !isNumber(openMs)) return undefined
  return { type: 'gen-opened', opened, failed, reasons, openMs }
}

export function asGenEchoed(m: unknown): GenEchoed | undefined {
  if (!isObject(m) || field(m, 'type') !== 'gen-echoed') return undefined
  const rtts = field(m, 'rtts')
  const lost = field(m, 'lost')
  if (!isNumberArray(rtts) || !isCount(lost)) return undefined
  return { type: 'gen-echoed', rtts, lost }
}

export function asGenClosed(m: unknown): GenClosed | undefined {
  if (!isObject(m) || field(m, 'type') !== 'gen-closed') return undefined
  const openAtClose = field(m, 'openAtClose')
  const closedClean = field(m, 'closedClean')
  const forced = field(m, 'forced')
  const droppedEarly = field(m, 'droppedEarly')
  if (!isCount(openAtClose) || !isCount(closedClean) || !isCount(forced) || !isCount(droppedEarly)) return undefined
  return { type: 'gen-closed', openAtClose, closedClean, forced, droppedEarly }
}

/** Parses a command sent to a generator; undefined for anything malformed. */
export function asToGenerator(m: unknown): ToGenerator | undefined {
  if (!isObject(m)) return undefined
  const cmd = field(m, 'cmd')
  if (cmd === 'echo' || cmd === 'close') {
    const timeoutMs = field(m, 'timeoutMs')
    const ratePerS = field(m, 'ratePerS')
    return isCount(timeoutMs) && isCount(ratePerS) ? { cmd, ratePerS, timeoutMs } : undefined
  }
  if (cmd !== 'open') return undefined
  const baseUrl = field(m, 'baseUrl')
  const nodeIds = field(m, 'nodeIds')
  const offset = field(m, 'offset')
  const count = field(m, 'count')
  const concurrency = field(m, 'concurrency')
  const localAddresses = field(m, 'localAddresses')
  const handshakeTimeoutMs = field(m, 'handshakeTimeoutMs')
  const deadlineMs = field(m, 'deadlineMs')
  if (typeof baseUrl !== 'string' || !isStringArray(nodeIds) || nodeIds.length === 0 || !isCount(offset) || !isCount(count)) return undefined
  if (!isCount(concurrency) || concurrency < 1 || !isStringArray(localAddresses) || !isCount(handshakeTimeoutMs) || !isCount(deadlineMs)) return undefined
  return { cmd, baseUrl, nodeIds, offset, count, concurrency, localAddresses, handshakeTimeoutMs, deadlineMs }
}

/** Sends to the parent; resolves once handed to the channel (no-op without one). */
export function sendToParent(message: FromChild): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve()
    else process.send(message, undefined, {}, () => resolve())
  })
}
