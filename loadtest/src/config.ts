// Runner options: env (same names as the k6 config) and --flags parsed once
// into a typed RunnerOptions, with a clear error for anything invalid.

import {
  OptionError,
  checkChoices,
  mergeOptions,
  readDurationMs,
  readInt,
  readList,
  readNumber,
  readOptionalString,
  readString,
  type RawOptions,
} from './lib/options.js'

export const SCENARIO_NAMES = ['smoke', 'http-load', 'ws-sessions', 'spike', 'drain'] as const
export type ScenarioName = (typeof SCENARIO_NAMES)[number]

/** Objectives; ratios are 0..1, latencies ms. Same env names as loadtest/k6/lib/config.js. */
export interface SloLimits {
  httpErrorRate: number
  httpP95Ms: number
  httpP99Ms: number
  wsConnectP95Ms: number
  wsRttP95Ms: number
  wsRttP99Ms: number
  wsSessionErrorRate: number
  /** Share of sent messages whose echo never came back. */
  wsLostRate: number
  spikeErrorRate: number
}

export interface RunnerOptions {
  /** Router URL to target; undefined → start the local dev stack. */
  baseUrl: string | undefined
  /** Deployment ids (from env; with baseUrl required by the scenarios that load deployments). */
  deploymentIds: string[]
  /** Node ids from env; [] = the dev stack's, or discovered through /media/allocate. */
  nodeIds: string[]
  servicePath: string
  scenarios: ScenarioName[]
  connections: number
  durationMs: number
  spikeConnections: number
  wsSessions: number
  wsPeers: number
  wsMsgRate: number
  wsHoldMs: number
  wsPayloadBytes: number
  /** Quiet time before a session's close and minimum age of a lost echo. */
  wsEchoGraceMs: number
  /** The drained node's admin listener (POST /admin/drain, GET /status). */
  drainAdminUrl: string | undefined
  drainToken: string | undefined
  drainNodeId: string | undefined
  drainAtMs: number
  /** New sessions this long after the drain are judged on where /media/allocate put them. */
  drainSettleMs: number
  /** How long to wait for the node to report DRAINING. */
  drainObserveMs: number
  slo: SloLimits
  quiet: boolean
}

export const RUNNER_KEYS = [
  'BASE_URL',
  'DEPLOYMENT_ID',
  'DEPLOYMENT_IDS',
  'NODE_ID',
  'NODE_IDS',
  'SERVICE_PATH',
  'SCENARIOS',
  'VUS',
  'CONNECTIONS',
  'DURATION',
  'SPIKE_VUS',
  'WS_VUS',
  'WS_SESSIONS',
  'WS_PEERS',
  'WS_MSG_RATE',
  'WS_HOLD_S',
  'WS_HOLD',
  'WS_PAYLOAD_BYTES',
  'DRAIN_URL',
  'DRAIN_ADMIN_URL',
  'DRAIN_TOKEN',
  'DRAIN_NODE_ID',
  'DRAIN_AT',
  'DRAIN_AT_S',
  'DRAIN_SETTLE',
  'DRAIN_OBSERVE',
  'WS_ECHO_GRACE',
  'QUIET',
  'SLO_HTTP_ERROR_RATE',
  'SLO_HTTP_P95_MS',
  'SLO_HTTP_P99_MS',
  'SLO_WS_CONNECT_P95_MS',
  'SLO_WS_RTT_P95_MS',
  'SLO_WS_RTT_P99_MS',
  'SLO_WS_SESSION_ERROR_RATE',
  'SLO_WS_LOST_RATE',
  'SLO_SPIKE_ERROR_RATE',
] as const

function readUrl(src: RawOptions, key: string): string | undefined {
  const v = readOptionalString(src, key)
  if (v === undefined) return undefined
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new OptionError(`${key} must be an absolute URL, got "${v}"`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new OptionError(`${key} must be http:// or https://, got "${v}"`)
  return v.replace(/\/+$/, '')
}

/** Reads a duration given either in seconds under `secondsKey` or as a duration string under `key`. */
function readSecondsOrDuration(src: RawOptions, secondsKey: string, key: string, fallbackMs: number): number {
  if (readOptionalString(src, key) !== undefined) return readDurationMs(src, key, fallbackMs, 0)
  return Math.round(readNumber(src, secondsKey, fallbackMs / 1000, 0, 86_400) * 1000)
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/** Parses env merged with flags. Throws OptionError with the offending name. */
export function parseRunnerOptions(env: RawOptions, flags: Readonly<Record<string, string>> = {}): RunnerOptions {
  const src = mergeOptions(env, flags, RUNNER_KEYS)
  if (readOptionalString(src, 'DRAIN_URL') !== undefined) {
    throw new OptionError('DRAIN_URL is gone (it POSTed {"nodeId"} to an endpoint nothing serves): set DRAIN_ADMIN_URL to the media node\'s admin listener and DRAIN_TOKEN to its ADMIN_TOKEN (see loadtest/README.md)')
  }
  const baseUrl = readUrl(src, 'BASE_URL')
  // No guessed ids: the dev stack knows its own, a deployed router's are given (nodes can be discovered).
  const deploymentIds = readList(src, 'DEPLOYMENT_IDS', readList(src, 'DEPLOYMENT_ID', []))
  const nodeIds = readList(src, 'NODE_IDS', readList(src, 'NODE_ID', []))
  for (const id of [...deploymentIds, ...nodeIds]) {
    if (!DNS_LABEL.test(id)) throw new OptionError(`ids must be DNS labels (a-z, 0-9, '-'), got "${id}"`)
  }
  const servicePath = readString(src, 'SERVICE_PATH', '/')
  if (!servicePath.startsWith('/')) throw new OptionError(`SERVICE_PATH must start with '/', got "${servicePath}"`)
  const scenarios = checkChoices('SCENARIOS', readList(src, 'SCENARIOS', SCENARIO_NAMES), SCENARIO_NAMES)
  if (scenarios.length === 0) throw new OptionError('SCENARIOS must name at least one scenario')
  if (baseUrl !== undefined && deploymentIds.length === 0 && scenarios.some((n) => n === 'smoke' || n === 'http-load' || n === 'spike')) {
    throw new OptionError(
      'DEPLOYMENT_IDS is required with BASE_URL (the router has no public list of deployments: they are the Cloud Map services of its namespace, ' +
        '`aws servicediscovery list-services`), or pick SCENARIOS=ws-sessions,drain',
    )
  }
  const connections = readInt(src, 'CONNECTIONS', readInt(src, 'VUS', 20, 1, 5000), 1, 5000)
  const wsSessions = readInt(src, 'WS_SESSIONS', readInt(src, 'WS_VUS', 50, 0, 9000), 0, 9000)
  return {
    baseUrl,
    deploymentIds,
    nodeIds,
    servicePath,
    scenarios,
    connections,
    durationMs: readDurationMs(src, 'DURATION', 10_000, 1000, 3_600_000),
    spikeConnections: readInt(src, 'SPIKE_VUS', 200, 1, 5000),
    wsSessions,
    wsPeers: readInt(src, 'WS_PEERS', 2, 1, 100),
    wsMsgRate: readNumber(src, 'WS_MSG_RATE', 5, 0, 200),
    wsHoldMs: readSecondsOrDuration(src, 'WS_HOLD_S', 'WS_HOLD', 10_000),
    wsPayloadBytes: readInt(src, 'WS_PAYLOAD_BYTES', 64, 0, 1_000_000),
    wsEchoGraceMs: readDurationMs(src, 'WS_ECHO_GRACE', 1000, 0, 60_000),
    drainAdminUrl: readUrl(src, 'DRAIN_ADMIN_URL'),
    drainToken: readOptionalString(src, 'DRAIN_TOKEN'),
    drainNodeId: readOptionalString(src, 'DRAIN_NODE_ID'),
    drainAtMs: readSecondsOrDuration(src, 'DRAIN_AT_S', 'DRAIN_AT', 3000),
    drainSettleMs: readDurationMs(src, 'DRAIN_SETTLE', 3000, 0, 600_000),
    drainObserveMs: readDurationMs(src, 'DRAIN_OBSERVE', 15_000, 100, 600_000),
    slo: {
      httpErrorRate: readNumber(src, 'SLO_HTTP_ERROR_RATE', 0.01, 0, 1),
      httpP95Ms: readNumber(src, 'SLO_HTTP_P95_MS', 300),
      httpP99Ms: readNumber(src, 'SLO_HTTP_P99_MS', 800),
      wsConnectP95Ms: readNumber(src, 'SLO_WS_CONNECT_P95_MS', 500),
      wsRttP95Ms: readNumber(src, 'SLO_WS_RTT_P95_MS', 150),
      wsRttP99Ms: readNumber(src, 'SLO_WS_RTT_P99_MS', 400),
      wsSessionErrorRate: readNumber(src, 'SLO_WS_SESSION_ERROR_RATE', 0.01, 0, 1),
      wsLostRate: readNumber(src, 'SLO_WS_LOST_RATE', 0.001, 0, 1),
      spikeErrorRate: readNumber(src, 'SLO_SPIKE_ERROR_RATE', 0.05, 0, 1),
    },
    quiet: readString(src, 'QUIET', '0') === '1',
  }
}
