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
  spikeErrorRate: number
}

export interface RunnerOptions {
  /** Router URL to target; undefined → start the local dev stack. */
  baseUrl: string | undefined
  /** Deployment and node ids (from env when baseUrl is set, else from the dev stack). */
  deploymentIds: string[]
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
  drainUrl: string | undefined
  drainToken: string | undefined
  drainNodeId: string | undefined
  drainAtMs: number
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
  'DRAIN_TOKEN',
  'DRAIN_NODE_ID',
  'DRAIN_AT',
  'DRAIN_AT_S',
  'QUIET',
  'SLO_HTTP_ERROR_RATE',
  'SLO_HTTP_P95_MS',
  'SLO_HTTP_P99_MS',
  'SLO_WS_CONNECT_P95_MS',
  'SLO_WS_RTT_P95_MS',
  'SLO_WS_RTT_P99_MS',
  'SLO_WS_SESSION_ERROR_RATE',
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
  const baseUrl = readUrl(src, 'BASE_URL')
  const deploymentIds = readList(src, 'DEPLOYMENT_IDS', readList(src, 'DEPLOYMENT_ID', baseUrl === undefined ? [] : ['demo']))
  const nodeIds = readList(src, 'NODE_IDS', readList(src, 'NODE_ID', baseUrl === undefined ? [] : ['media-1']))
  for (const id of [...deploymentIds, ...nodeIds]) {
    if (!DNS_LABEL.test(id)) throw new OptionError(`ids must be DNS labels (a-z, 0-9, '-'), got "${id}"`)
  }
  const servicePath = readString(src, 'SERVICE_PATH', '/')
  if (!servicePath.startsWith('/')) throw new OptionError(`SERVICE_PATH must start with '/', got "${servicePath}"`)
  const scenarios = checkChoices('SCENARIOS', readList(src, 'SCENARIOS', SCENARIO_NAMES), SCENARIO_NAMES)
  if (scenarios.length === 0) throw new OptionError('SCENARIOS must name at least one scenario')
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
    drainUrl: readUrl(src, 'DRAIN_URL'),
    drainToken: readOptionalString(src, 'DRAIN_TOKEN'),
    drainNodeId: readOptionalString(src, 'DRAIN_NODE_ID'),
    drainAtMs: readSecondsOrDuration(src, 'DRAIN_AT_S', 'DRAIN_AT', 3000),
    slo: {
      httpErrorRate: readNumber(src, 'SLO_HTTP_ERROR_RATE', 0.01, 0, 1),
      httpP95Ms: readNumber(src, 'SLO_HTTP_P95_MS', 300),
      httpP99Ms: readNumber(src, 'SLO_HTTP_P99_MS', 800),
      wsConnectP95Ms: readNumber(src, 'SLO_WS_CONNECT_P95_MS', 500),
      wsRttP95Ms: readNumber(src, 'SLO_WS_RTT_P95_MS', 150),
      wsRttP99Ms: readNumber(src, 'SLO_WS_RTT_P99_MS', 400),
      wsSessionErrorRate: readNumber(src, 'SLO_WS_SESSION_ERROR_RATE', 0.01, 0, 1),
      spikeErrorRate: readNumber(src, 'SLO_SPIKE_ERROR_RATE', 0.05, 0, 1),
    },
    quiet: readString(src, 'QUIET', '0') === '1',
  }
}
