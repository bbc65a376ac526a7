// Option parsing for the runner and the bench: command-line flags and env are
// merged into one string map, then read into typed values with clear errors.

/** Thrown for an invalid option; the message names the option and what it expects. */
export class OptionError extends Error {
  readonly code = 'LOADTEST_BAD_OPTION'
  constructor(message: string) {
    super(message)
    this.name = 'OptionError'
  }
}

/** A string map of raw option values, keyed by UPPER_SNAKE name. */
export type RawOptions = Readonly<Record<string, string | undefined>>

/** `--ws-count=9000`, `--ws-count 9000` and `--smoke` (→ "1") become `WS_COUNT`, `SMOKE`. */
export function parseFlags(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === undefined) break
    if (!arg.startsWith('--')) throw new OptionError(`unexpected argument "${arg}": options are --name=value flags`)
    const body = arg.slice(2)
    const eq = body.indexOf('=')
    let name: string
    let value: string
    if (eq >= 0) {
      name = body.slice(0, eq)
      value = body.slice(eq + 1)
    } else {
      name = body
      const next = argv[i + 1]
      if (next !== undefined && !next.startsWith('--')) {
        value = next
        i++
      } else {
        value = '1'
      }
    }
    if (!/^[a-z][a-z0-9-]*$/i.test(name)) throw new OptionError(`bad flag name "--${name}"`)
    out[name.replace(/-/g, '_').toUpperCase()] = value
  }
  return out
}

/** Env first, flags override. Only keys listed in `known` are taken from flags; unknown flags are an error. */
export function mergeOptions(env: RawOptions, flags: Readonly<Record<string, string>>, known: readonly string[]): RawOptions {
  for (const key of Object.keys(flags)) {
    if (!known.includes(key)) {
      const flag = '--' + key.toLowerCase().replace(/_/g, '-')
      throw new OptionError(`unknown flag ${flag}; known: ${known.map((k) => '--' + k.toLowerCase().replace(/_/g, '-')).join(', ')}`)
    }
  }
  return { ...env, ...flags }
}

function raw(src: RawOptions, key: string): string | undefined {
  const v = src[key]
  if (v === undefined) return undefined
  const trimmed = v.trim()
  return trimmed === '' ? undefined : trimmed
}

export function readString(src: RawOptions, key: string, fallback: string): string {
  return raw(src, key) ?? fallback
}

export function readOptionalString(src: RawOptions, key: string): string | undefined {
  return raw(src, key)
}

export function readInt(src: RawOptions, key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = raw(src, key)
  if (v === undefined) return fallback
  if (!/^-?\d+$/.test(v)) throw new OptionError(`${key} must be an integer, got "${v}"`)
  const n = Number(v)
  if (n < min || n > max) throw new OptionError(`${key} must be between ${min} and ${max}, got ${n}`)
  return n
}

export function readNumber(src: RawOptions, key: string, fallback: number, min = 0, max = Number.MAX_VALUE): number {
  const v = raw(src, key)
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n)) throw new OptionError(`${key} must be a number, got "${v}"`)
  if (n < min || n > max) throw new OptionError(`${key} must be between ${min} and ${max}, got ${n}`)
  return n
}

export function readBool(src: RawOptions, key: string, fallback: boolean): boolean {
  const v = raw(src, key)
  if (v === undefined) return fallback
  if (/^(1|true|yes|on)$/i.test(v)) return true
  if (/^(0|false|no|off)$/i.test(v)) return false
  throw new OptionError(`${key} must be a boolean (1/0, true/false), got "${v}"`)
}

/**
 * Parses a duration into milliseconds: "250ms", "10s", "2m", "1h", or a bare
 * number of seconds ("10"). The same units k6 accepts.
 */
export function parseDurationMs(text: string, key = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (m === null) throw new OptionError(`${key} must be a duration like 500ms, 10s, 2m or 1h, got "${text}"`)
  const n = Number(m[1])
  const unit = m[2] ?? 's'
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000
  return Math.round(n * factor)
}

export function readDurationMs(src: RawOptions, key: string, fallbackMs: number, minMs = 0, maxMs = 24 * 3_600_000): number {
  const v = raw(src, key)
  if (v === undefined) return fallbackMs
  const ms = parseDurationMs(v, key)
  if (ms < minMs || ms > maxMs) throw new OptionError(`${key} must be between ${minMs} ms and ${maxMs} ms, got ${ms} ms`)
  return ms
}

/** Comma-separated list, empty items removed. */
export function readList(src: RawOptions, key: string, fallback: readonly string[]): string[] {
  const v = raw(src, key)
  if (v === undefined) return [...fallback]
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

/** Comma-separated list of integers. */
export function readIntList(src: RawOptions, key: string, fallback: readonly number[], min = 1, max = Number.MAX_SAFE_INTEGER): number[] {
  const items = readList(src, key, fallback.map(String))
  if (items.length === 0) throw new OptionError(`${key} must list at least one integer`)
  return items.map((item) => {
    if (!/^\d+$/.test(item)) throw new OptionError(`${key} must be a comma-separated list of integers, got "${item}"`)
    const n = Number(item)
    if (n < min || n > max) throw new OptionError(`${key} items must be between ${min} and ${max}, got ${n}`)
    return n
  })
}

/** Checks every item of a list is one of `allowed`. */
export function checkChoices<T extends string>(key: string, items: readonly string[], allowed: readonly T[]): T[] {
  const out: T[] = []
  for (const item of items) {
    const found = allowed.find((a) => a === item)
    if (found === undefined) throw new OptionError(`${key}: unknown "${item}"; choose from ${allowed.join(', ')}`)
    out.push(found)
  }
  return out
}
