// Command-line options of the scale test, read once into typed values with
// clear errors. Defaults size the process counts from --connections so every
// process stays inside the 20,000 open files it may have here: a router worker
// holds 2 fds per tunnel (≤ 9,000 tunnels), a media node or a generator 1 per
// socket (≤ 12,000).

import { OptionError, parseFlags } from '../lib/options.js'

export interface ScaleOptions {
  /** Proxied WebSockets to hold at once. */
  connections: number
  /** ROUTER_WORKERS for the one router process (>= 2: cluster mode). */
  workers: number
  /** Media-node child processes. */
  nodes: number
  /** Load-generator child processes. */
  generators: number
  /** Handshakes in flight per generator. */
  concurrency: number
  /** How long all connections are held after the echo round, ms. */
  holdMs: number
  /** Client source addresses (127.0.0.x), to multiply the ephemeral port range. */
  sourceAddresses: string[]
  /** Echo messages per second over all generators; 0 = every connection at once. */
  echoRate: number
  /** Closes per second over all generators; 0 = every connection at once. */
  closeRate: number
  /** How long the close handshakes may take after the last close was started, ms. */
  closeTimeoutMs: number
  /** How long the active gauge may take to reach 0 after the close, ms. */
  settleTimeoutMs: number
  /** Per-connection handshake timeout, ms. */
  handshakeTimeoutMs: number
  /** No new connection is started after this long, ms. */
  openDeadlineMs: number
  /** Where ws-scale-<timestamp>.json goes. */
  outDir: string
  /** Forward children's stderr. */
  verbose: boolean
}

/** Tunnels per router worker: 2 fds each, inside 20,000 with room for the rest. */
export const MAX_TUNNELS_PER_WORKER = 9_000
/** Sockets per media node or generator process. */
export const MAX_SOCKETS_PER_PROCESS = 12_000

const USAGE = `usage: node dist/loadtest/src/scale/ws-scale.js [--connections 50000] [--workers W] [--nodes M]
  [--generators K] [--concurrency 200] [--hold-ms 10000] [--source-addresses 8]
  [--echo-rate 5000] [--close-rate 5000] [--close-timeout-ms 60000] [--settle-timeout-ms 60000]
  [--handshake-timeout-ms 30000] [--open-deadline-ms 300000] [--out-dir loadtest/results] [--verbose]`

function int(raw: Record<string, string>, name: string, fallback: number, min: number, max: number): number {
  const v = raw[name]
  if (v === undefined) return fallback
  const n = Number(v)
  const flag = `--${name.toLowerCase().replace(/_/g, '-')}`
  if (!Number.isInteger(n) || n < min || n > max) throw new OptionError(`${flag} must be an integer in ${min}..${max}, got "${v}"\n${USAGE}`)
  return n
}

/** Parses argv (without node and script) into options; throws OptionError. */
export function parseScaleOptions(argv: readonly string[], defaultOutDir: string): ScaleOptions {
  const raw = parseFlags(argv)
  const known = new Set(['CONNECTIONS', 'WORKERS', 'NODES', 'GENERATORS', 'CONCURRENCY', 'HOLD_MS', 'SOURCE_ADDRESSES', 'HANDSHAKE_TIMEOUT_MS', 'OPEN_DEADLINE_MS', 'ECHO_RATE', 'CLOSE_RATE', 'CLOSE_TIMEOUT_MS', 'SETTLE_TIMEOUT_MS', 'OUT_DIR', 'VERBOSE'])
  for (const k of Object.keys(raw)) if (!known.has(k)) throw new OptionError(`unknown option --${k.toLowerCase().replace(/_/g, '-')}\n${USAGE}`)
  const connections = int(raw, 'CONNECTIONS', 50_000, 1, 500_000)
  const workers = int(raw, 'WORKERS', Math.ceil(connections / MAX_TUNNELS_PER_WORKER) + 1, 2, 64)
  const perProcess = Math.ceil(connections / MAX_SOCKETS_PER_PROCESS)
  const nodes = int(raw, 'NODES', Math.max(1, perProcess), 1, 64)
  const generators = int(raw, 'GENERATORS', Math.max(1, perProcess), 1, 64)
  const concurrency = int(raw, 'CONCURRENCY', 200, 1, 10_000)
  const holdMs = int(raw, 'HOLD_MS', 10_000, 0, 3_600_000)
  const nAddresses = int(raw, 'SOURCE_ADDRESSES', 8, 0, 250)
  const echoRate = int(raw, 'ECHO_RATE', 5_000, 0, 10_000_000)
  const closeRate = int(raw, 'CLOSE_RATE', 5_000, 0, 10_000_000)
  const closeTimeoutMs = int(raw, 'CLOSE_TIMEOUT_MS', 60_000, 100, 3_600_000)
  const settleTimeoutMs = int(raw, 'SETTLE_TIMEOUT_MS', 60_000, 100, 3_600_000)
  const handshakeTimeoutMs = int(raw, 'HANDSHAKE_TIMEOUT_MS', 30_000, 100, 600_000)
  const openDeadlineMs = int(raw, 'OPEN_DEADLINE_MS', 300_000, 1_000, 3_600_000)
  if (connections / workers > MAX_TUNNELS_PER_WORKER) throw new OptionError(`${connections} connections over ${workers} workers is more than ${MAX_TUNNELS_PER_WORKER} tunnels per worker (2 fds each, 20,000 fds per process): raise --workers`)
  if (connections / nodes > MAX_SOCKETS_PER_PROCESS) throw new OptionError(`more than ${MAX_SOCKETS_PER_PROCESS} sockets per media node: raise --nodes`)
  if (connections / generators > MAX_SOCKETS_PER_PROCESS) throw new OptionError(`more than ${MAX_SOCKETS_PER_PROCESS} sockets per generator: raise --generators`)
  // 127.0.0.1 is left to the router's own upstream connections; clients use 127.0.0.2 and up.
  const sourceAddresses = Array.from({ length: nAddresses }, (_, i) => `127.0.0.${i + 2}`)
  return {
    connections,
    workers,
    nodes,
    generators,
    concurrency,
    holdMs,
    sourceAddresses,
    echoRate,
    closeRate,
    closeTimeoutMs,
    settleTimeoutMs,
    handshakeTimeoutMs,
    openDeadlineMs,
    outDir: raw['OUT_DIR'] ?? defaultOutDir,
    verbose: raw['VERBOSE'] !== undefined && raw['VERBOSE'] !== '0',
  }
}

/** Splits `total` into `parts` shares that differ by at most one. */
export function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0))
}
