// Bench options from env (BENCH_*) and flags (--rounds 3 …), parsed once into
// typed values. BENCH_SMOKE=1 switches every default to a tiny configuration.

import {
  OptionError,
  checkChoices,
  parseFlags,
  readBool,
  readDurationMs,
  readInt,
  readIntList,
  readList,
  readOptionalString,
  type RawOptions,
} from '../lib/options.js'
import { TARGET_NAMES, withoutUnsetBefore, type TargetName } from './targets.js'

export interface BenchOptions {
  smoke: boolean
  rounds: number
  durationMs: number
  warmupMs: number
  connections: number[]
  wsCount: number
  wsProcs: number
  wsConcurrency: number
  echoRounds: number
  /** Echo messages per second, all client processes together. */
  echoRate: number
  wsHoldMs: number
  targets: TargetName[]
  /** Run install-bench-deps.sh when nginx/haproxy are selected but missing. */
  install: boolean
  pin: boolean
  outDir: string | undefined
  verbose: boolean
}

/** Flag names (without BENCH_) that may be given as --flags. */
export const BENCH_KEYS = [
  'SMOKE',
  'ROUNDS',
  'DURATION',
  'WARMUP',
  'CONNECTIONS',
  'WS_COUNT',
  'WS_PROCS',
  'WS_CONCURRENCY',
  'ECHO_ROUNDS',
  'ECHO_RATE',
  'WS_HOLD',
  'TARGETS',
  'INSTALL',
  'PIN',
  'OUT_DIR',
  'VERBOSE',
] as const

/** Most file descriptors any one process may open here; 2 per proxied WebSocket. */
export const FD_LIMIT = 20_000

/** Collects BENCH_* env and --flags into one map keyed without the prefix; flags win. */
export function benchRaw(env: RawOptions, argv: readonly string[]): RawOptions {
  const out: Record<string, string | undefined> = {}
  for (const key of BENCH_KEYS) out[key] = env[`BENCH_${key}`]
  const flags = parseFlags(argv)
  for (const [k, v] of Object.entries(flags)) {
    if (!BENCH_KEYS.some((b) => b === k)) {
      throw new OptionError(`unknown flag --${k.toLowerCase().replace(/_/g, '-')}; known: ${BENCH_KEYS.map((b) => '--' + b.toLowerCase().replace(/_/g, '-')).join(', ')}`)
    }
    out[k] = v
  }
  return out
}

export function parseBenchOptions(src: RawOptions): BenchOptions {
  const smoke = readBool(src, 'SMOKE', false)
  const wsCount = readInt(src, 'WS_COUNT', smoke ? 50 : 9000, 0, 9500)
  const wsProcs = readInt(src, 'WS_PROCS', 2, 1, 8)
  // A proxy holds 2 fds per WebSocket (client side + upstream side), plus listeners and logs.
  if (2 * wsCount + 200 > FD_LIMIT) throw new OptionError(`WS_COUNT ${wsCount} needs more than ${FD_LIMIT} fds in a proxy`)
  const opts: BenchOptions = {
    smoke,
    rounds: readInt(src, 'ROUNDS', smoke ? 1 : 3, 1, 20),
    durationMs: readDurationMs(src, 'DURATION', smoke ? 2000 : 10_000, 1000, 600_000),
    warmupMs: readDurationMs(src, 'WARMUP', smoke ? 0 : 2000, 0, 60_000),
    connections: readIntList(src, 'CONNECTIONS', smoke ? [10] : [50, 200], 1, 2000),
    wsCount,
    wsProcs,
    wsConcurrency: readInt(src, 'WS_CONCURRENCY', 200, 1, 2000),
    echoRounds: readInt(src, 'ECHO_ROUNDS', smoke ? 1 : 3, 0, 50),
    echoRate: readInt(src, 'ECHO_RATE', 3000, 100, 100_000),
    wsHoldMs: readDurationMs(src, 'WS_HOLD', smoke ? 200 : 3000, 0, 600_000),
    targets: checkChoices('TARGETS', readList(src, 'TARGETS', withoutUnsetBefore(TARGET_NAMES)), TARGET_NAMES),
    install: readBool(src, 'INSTALL', !smoke),
    pin: readBool(src, 'PIN', true),
    outDir: readOptionalString(src, 'OUT_DIR'),
    verbose: readBool(src, 'VERBOSE', false),
  }
  if (opts.targets.length === 0) throw new OptionError('TARGETS must name at least one target')
  return opts
}
