// Shared configuration for every k6 scenario: where the router is, which
// deployments and media nodes to hit, how much load, and the SLO limits.
// Everything comes from environment variables (k6 run -e NAME=value ...).
// Written for k6 0.49+: no optional chaining, no ??, no object spread.

/**
 * Reads a string from __ENV with a default.
 * @param {string} name
 * @param {string} fallback
 * @returns {string}
 */
export function envString(name, fallback) {
  const v = __ENV[name]
  return v === undefined || v === '' ? fallback : v
}

/**
 * Reads a positive number from __ENV; throws (aborting the test) on garbage.
 * @param {string} name
 * @param {number} fallback
 * @returns {number}
 */
export function envNumber(name, fallback) {
  const v = __ENV[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!isFinite(n) || n < 0) throw new Error(name + ' must be a non-negative number, got "' + v + '"')
  return n
}

/**
 * Reads a comma-separated list from __ENV.
 * @param {string} name
 * @param {string} fallback
 * @returns {string[]}
 */
export function envList(name, fallback) {
  return envString(name, fallback)
    .split(',')
    .map(function (s) { return s.trim() })
    .filter(function (s) { return s !== '' })
}

/** Router base URL, e.g. https://edge.example.com (no trailing slash). */
export const BASE_URL = envString('BASE_URL', 'http://127.0.0.1:8080').replace(/\/+$/, '')
/** Same host with ws:// or wss://. */
export const WS_BASE_URL = BASE_URL.replace(/^http/, 'ws')

/** Deployment ids reachable at /services/<id>/...; VUs spread over them. */
export const DEPLOYMENT_IDS = envList('DEPLOYMENT_IDS', envString('DEPLOYMENT_ID', 'demo'))
/** Path requested under /services/<id> (starts with /). */
export const SERVICE_PATH = envString('SERVICE_PATH', '/')
/** Media node ids reachable at /media/<nodeId>/ws/<session>. */
export const NODE_IDS = envList('NODE_IDS', envString('NODE_ID', 'media-1'))

/** Virtual users for load scenarios. */
export const VUS = envNumber('VUS', 20)
/** Steady-state duration (k6 duration string). */
export const DURATION = envString('DURATION', '2m')

/** WebSocket clients (VUs) holding sessions. */
export const WS_VUS = envNumber('WS_VUS', 50)
/** Clients per session: each message is relayed to the other members. */
export const WS_PEERS = Math.max(1, Math.floor(envNumber('WS_PEERS', 2)))
/** Messages each client sends per second. */
export const WS_MSG_RATE = envNumber('WS_MSG_RATE', 2)
/** How long each client holds its session, seconds. */
export const WS_HOLD_S = envNumber('WS_HOLD_S', 30)
/** Payload bytes per message (padding added to the JSON envelope). */
export const WS_PAYLOAD_BYTES = Math.floor(envNumber('WS_PAYLOAD_BYTES', 64))

/** Peak VUs for the spike scenario. */
export const SPIKE_VUS = envNumber('SPIKE_VUS', 200)

/** Drain scenario: node to drain, URL to POST to start draining, and when (seconds after start). */
export const DRAIN_NODE_ID = envString('DRAIN_NODE_ID', NODE_IDS[0] || 'media-1')
export const DRAIN_URL = envString('DRAIN_URL', '')
export const DRAIN_TOKEN = envString('DRAIN_TOKEN', '')
export const DRAIN_AT_S = envNumber('DRAIN_AT_S', 20)

/**
 * Service-level objectives. Every scenario writes its thresholds from these,
 * so one place says what "good" means. Override with SLO_* variables.
 */
export const SLO = {
  /** Share of failed HTTP requests (status >= 400 or transport error). */
  httpErrorRate: envNumber('SLO_HTTP_ERROR_RATE', 0.01),
  httpP95Ms: envNumber('SLO_HTTP_P95_MS', 300),
  httpP99Ms: envNumber('SLO_HTTP_P99_MS', 800),
  /** WebSocket handshake (TCP + TLS + upgrade) through the router. */
  wsConnectP95Ms: envNumber('SLO_WS_CONNECT_P95_MS', 500),
  /** Echo round trip: send → same message back on the same socket. */
  wsRttP95Ms: envNumber('SLO_WS_RTT_P95_MS', 150),
  wsRttP99Ms: envNumber('SLO_WS_RTT_P99_MS', 400),
  /** Share of sessions that fail to open or end before their hold time. */
  wsSessionErrorRate: envNumber('SLO_WS_SESSION_ERROR_RATE', 0.01),
  /** Spike: errors allowed while the spike is on. */
  spikeErrorRate: envNumber('SLO_SPIKE_ERROR_RATE', 0.05),
}

/**
 * URL of a service request for the n-th VU (spreads VUs over deployments).
 * @param {number} vu
 * @returns {string}
 */
export function serviceUrl(vu) {
  const id = DEPLOYMENT_IDS[vu % DEPLOYMENT_IDS.length]
  return BASE_URL + '/services/' + id + SERVICE_PATH
}

/**
 * WebSocket URL of a media session, echo enabled so the sender gets its own
 * messages back (round trip measurement).
 * @param {string} nodeId
 * @param {string} sessionId
 * @returns {string}
 */
export function mediaUrl(nodeId, sessionId) {
  return WS_BASE_URL + '/media/' + nodeId + '/ws/' + sessionId + '?echo=1'
}
