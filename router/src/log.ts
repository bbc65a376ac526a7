// JSON-lines logger. Lines are batched and written once per tick so the access
// log costs one write syscall per event-loop turn, not one per request. The
// access log hands over its fields already written as JSON (access-log.ts), so
// no object is built per request only to be stringified; the constant parts of
// a line (level, msg, base fields) are escaped once, and the timestamp's text
// is rebuilt once per second (the milliseconds come from a table).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void
  /** One access-log line (level info, msg "access"). */
  access(fields: Record<string, unknown>): void
  /** One access-log line whose fields are already JSON: `,"name":value,…` (leading comma, no braces). */
  accessJson(fieldsJson: string): void
  flush(): void
}

export interface LoggerOptions {
  readonly level?: LogLevel
  readonly write?: (chunk: string) => void
  readonly base?: Record<string, unknown>
  /** Wall clock, ms since the epoch, for the `time` field (default Date.now). */
  readonly now?: () => number
}

/** `000Z"` … `999Z"`: the end of the time field for each millisecond. */
const MILLIS: readonly string[] = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z"`)

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = ORDER[opts.level ?? 'info']
  const write = opts.write ?? ((s: string) => process.stdout.write(s))
  const base = opts.base !== undefined ? JSON.stringify(opts.base).slice(1, -1) : ''
  let buf: string[] = []
  let scheduled = false
  const flush = (): void => {
    scheduled = false
    if (buf.length === 0) return
    const chunk = buf.join('')
    buf = []
    write(chunk)
  }
  const push = (line: string): void => {
    buf.push(line)
    if (buf.length >= 512) flush()
    else if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }
  const now = opts.now ?? Date.now
  // `{"time":"2026-12-03T09:55:44.` is rebuilt once per second; the milliseconds come from MILLIS.
  let second = -1
  let secondHead = ''
  const timeHead = (): string => {
    const t = now()
    const ms = t % 1000
    const tail = MILLIS[ms]
    // Not a whole, non-negative number of ms: the long way.
    if (tail === undefined) return `{"time":"${new Date(t).toISOString()}"`
    if (t - ms !== second) {
      second = t - ms
      secondHead = `{"time":"${new Date(second).toISOString().slice(0, -4)}`
    }
    return secondHead + tail
  }
  const baseJson = base !== '' ? `,${base}` : ''
  const line = (level: LogLevel, msgJson: string, fields?: Record<string, unknown>): string => {
    const head = `${timeHead()},"level":"${level}","msg":${msgJson}${baseJson}`
    if (fields === undefined) return `${head}}\n`
    const body = JSON.stringify(fields)
    // body is "{...}": splice it in without copying it twice.
    return body.length > 2 ? `${head},${body.substring(1)}\n` : `${head}}\n`
  }
  const ACCESS = JSON.stringify('access')
  const accessHead = `,"level":"info","msg":${ACCESS}${baseJson}`
  return {
    log(level, msg, fields) {
      if (ORDER[level] < min) return
      push(line(level, JSON.stringify(msg), fields))
    },
    access(fields) {
      if (ORDER.info < min) return
      push(line('info', ACCESS, fields))
    },
    accessJson(fieldsJson) {
      if (ORDER.info < min) return
      push(`${timeHead()}${accessHead}${fieldsJson}}\n`)
    },
    flush,
  }
}

/** Parse LOG_LEVEL. */
export function parseLogLevel(v: string | undefined): LogLevel {
  if (v === undefined || v === '') return 'info'
  if (v === 'debug' || v === 'info' || v === 'warn' || v === 'error') return v
  throw new Error(`LOG_LEVEL: expected debug, info, warn or error, got "${v}"`)
}
