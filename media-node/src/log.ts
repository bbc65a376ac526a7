// JSON-lines logging. One object per line on stdout, with time, level and
// message; a `Logger` is a plain function so tests can capture events.

/** Severity levels, lowest first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** A structured log event. `level` and `msg` are filled in by the caller. */
export type LogEvent = Record<string, unknown>

/** Where log events go. */
export type Logger = (event: LogEvent) => void

/** True when `value` names a log level. */
export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value)
}

/**
 * A logger that writes one JSON line per event to `stream`, dropping events
 * below `minLevel`. Events without a level count as `info`.
 */
export function jsonLineLogger(minLevel: LogLevel = 'info', stream: NodeJS.WritableStream = process.stdout): Logger {
  const min = LOG_LEVELS.indexOf(minLevel)
  return (event) => {
    const level = typeof event['level'] === 'string' && isLogLevel(event['level']) ? event['level'] : 'info'
    if (LOG_LEVELS.indexOf(level) < min) return
    stream.write(JSON.stringify({ time: new Date().toISOString(), ...event, level }) + '\n')
  }
}

/** A logger that discards everything. */
export const silentLogger: Logger = () => {}
