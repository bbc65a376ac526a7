// JSON-lines logger. Lines are buffered and written in batches: access-log
// lines once FLUSH_CHARS (16 KiB) are waiting or FLUSH_INTERVAL_MS after the
// first of them, so the log costs one write syscall per batch, not one per
// request; any other line (start-up, warnings, errors) goes out at the end of
// its event-loop turn, with whatever access lines wait before it. flush()
// writes at once: drain and the exit paths call it, and flushOnExit() makes
// the process write what is left when it exits (also on an uncaught
// exception). The access log hands over its fields already written as JSON
// (access-log.ts), so no object is built per request only to be stringified;
// the constant parts of a line (level, msg, base fields) are escaped once, and
// the timestamp's text is rebuilt once per second (the milliseconds come from
// a table).

import { realClock, type Clock } from './clock.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** Access lines are written once this many characters wait (≈ bytes: the lines are mostly ASCII). */
export const FLUSH_CHARS = 16 * 1024
/** …or this long after the first of them was buffered. */
export const FLUSH_INTERVAL_MS = 100

export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void
  /** One access-log line (level info, msg "access"). */
  access(fields: Record<string, unknown>): void
  /** One access-log line whose fields are already JSON: `,"name":value,…` (leading comma, no braces). */
  accessJson(fieldsJson: string): void
  /** Write every buffered line now. */
  flush(): void
}

export interface LoggerOptions {
  readonly level?: LogLevel
  readonly write?: (chunk: string) => void
  readonly base?: Record<string, unknown>
  /** Access lines are written once this many characters wait (default FLUSH_CHARS). */
  readonly flushChars?: number
  /** …or this many ms after the first of them (default FLUSH_INTERVAL_MS). */
  readonly flushIntervalMs?: number
  /** The timer of flushIntervalMs (tests inject a fake one); real timers are unref'd. */
  readonly timers?: Pick<Clock, 'setTimeout' | 'clearTimeout'>
  /** Wall clock, ms since the epoch, for the `time` field (default Date.now). */
  readonly now?: () => number
}

/** `000Z"` … `999Z"`: the end of the time field for each millisecond. */
const MILLIS: readonly string[] = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z"`)

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = ORDER[opts.level ?? 'info']
  const write = opts.write ?? ((s: string) => process.stdout.write(s))
  const base = opts.base !== undefined ? JSON.stringify(opts.base).slice(1, -1) : ''
  const flushChars = opts.flushChars ?? FLUSH_CHARS
  const intervalMs = opts.flushIntervalMs ?? FLUSH_INTERVAL_MS
  const timers = opts.timers ?? realClock
  const now = opts.now ?? Date.now
  let buf = ''
  let timer: unknown = undefined
  let immediate = false
  const flush = (): void => {
    if (timer !== undefined) {
      timers.clearTimeout(timer)
      timer = undefined
    }
    if (buf === '') return
    const chunk = buf
    buf = ''
    write(chunk)
  }
  const flushAtTurnEnd = (): void => {
    immediate = false
    flush()
  }
  const onTimer = (): void => {
    timer = undefined
    flush()
  }
  /** An access line: waits for a full batch or the interval. */
  const pushAccess = (line: string): void => {
    buf += line
    if (buf.length >= flushChars) flush()
    else if (timer === undefined && !immediate) timer = timers.setTimeout(onTimer, intervalMs)
  }
  /** Any other line: written at the end of this event-loop turn. */
  const pushNow = (line: string): void => {
    buf += line
    if (!immediate) {
      immediate = true
      setImmediate(flushAtTurnEnd)
    }
  }
  // `{"time":"2026-12-03T09:55:44.` is rebuilt once per second; what follows the second comes from a table per millisecond.
  let second = Number.NaN
  let secondHead = ''
  /** The line's start up to `after`: `tails[ms]` is the milliseconds, `Z"` and `after`. */
  const timeHead = (tails: readonly string[], after: string): string => {
    const t = now()
    // Within the cached second the milliseconds are t - second, a small integer (no division, no double as an index).
    const inSecond = t - second
    if (inSecond >= 0 && inSecond < 1000) {
      const tail = tails[inSecond | 0]
      if (tail !== undefined && (inSecond | 0) === inSecond) return secondHead + tail
    }
    // Not a whole, non-negative number of ms: the long way.
    if (!Number.isInteger(t) || t < 0) return `{"time":"${new Date(t).toISOString()}"${after}`
    second = t - (t % 1000)
    secondHead = `{"time":"${new Date(second).toISOString().slice(0, -4)}`
    return secondHead + (tails[t - second] ?? '')
  }
  const baseJson = base !== '' ? `,${base}` : ''
  const line = (level: LogLevel, msgJson: string, fields?: Record<string, unknown>): string => {
    const head = `${timeHead(MILLIS, '')},"level":"${level}","msg":${msgJson}${baseJson}`
    if (fields === undefined) return `${head}}\n`
    const body = JSON.stringify(fields)
    // body is "{...}": splice it in without copying it twice.
    return body.length > 2 ? `${head},${body.substring(1)}\n` : `${head}}\n`
  }
  const ACCESS = JSON.stringify('access')
  const accessHead = `,"level":"info","msg":${ACCESS}${baseJson}`
  /** `000Z","level":"info","msg":"access",<base>` …: one piece for all that precedes an access line's fields. */
  let accessTails: readonly string[] | undefined
  return {
    log(level, msg, fields) {
      if (ORDER[level] < min) return
      pushNow(line(level, JSON.stringify(msg), fields))
    },
    access(fields) {
      if (ORDER.info < min) return
      pushAccess(line('info', ACCESS, fields))
    },
    accessJson(fieldsJson) {
      if (ORDER.info < min) return
      accessTails ??= MILLIS.map((m) => m + accessHead)
      pushAccess(`${timeHead(accessTails, accessHead)}${fieldsJson}}\n`)
    },
    flush,
  }
}

/**
 * Write the logger's buffered lines when the process exits: process.exit(),
 * an empty event loop, or an uncaught exception. Writes to a pipe or a file
 * are synchronous on Linux, so they are out before the process is gone.
 * Returns a function that removes the hook.
 */
export function flushOnExit(logger: () => Logger): () => void {
  const hook = (): void => logger().flush()
  process.on('exit', hook)
  return () => process.removeListener('exit', hook)
}

/** Parse LOG_LEVEL. */
export function parseLogLevel(v: string | undefined): LogLevel {
  if (v === undefined || v === '') return 'info'
  if (v === 'debug' || v === 'info' || v === 'warn' || v === 'error') return v
  throw new Error(`LOG_LEVEL: expected debug, info, warn or error, got "${v}"`)
}
