// Shared configuration for every k6 scenario: where the router is, which
// deployments and media nodes to hit, how much load, how long (SCALE), how to
// drain, and the SLO limits. readConfig(env) is pure (scripts pass __ENV; the
// tap tests pass plain objects), so every default and error is testable.
// Written for k6 0.49+: no optional chaining, no ??, no object spread.

import { parseDurationS, scaleSeconds } from './duration.js'

/** What `npm start` serves (infra/local/src/start.ts, dev-stack.ts). */
export const LOCAL_STACK = {
  baseUrl: 'http://127.0.0.1:8080',
  deployments: ['hello', 'echo'],
  mediaNodes: ['node-1', 'node-2'],
  /** Media node admin ports: node-1 on 9101, node-2 on 9102 (MEDIA_ADMIN_PORT). */
  mediaAdminBasePort: 9101,
  adminToken: 'local-admin-token-change-me',
}

/**
 * @typedef {{ [name: string]: string | undefined }} Env
 */

/**
 * @param {Env} env
 * @param {string} name
 * @param {string} fallback
 * @returns {string}
 */
export function envString(env, name, fallback) {
  const v = env[name]
  return v === undefined || v === '' ? fallback : v
}

/**
 * A non-negative number; throws (aborting the test) on garbage.
 * @param {Env} env
 * @param {string} name
 * @param {number} fallback
 * @returns {number}
 */
export function envNumber(env, name, fallback) {
  const v = env[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!isFinite(n) || n < 0) throw new Error(name + ' must be a non-negative number, got "' + v + '"')
  return n
}

/**
 * A comma-separated list.
 * @param {Env} env
 * @param {string} name
 * @param {string[]} fallback
 * @returns {string[]}
 */
export function envList(env, name, fallback) {
  const v = env[name]
  if (v === undefined || v === '') return fallback
  return v.split(',').map(function (s) { return s.trim() }).filter(function (s) { return s !== '' })
}

/**
 * A duration in seconds given as a k6 duration string ("2m") or seconds ("90").
 * @param {Env} env
 * @param {string} name
 * @param {number} fallbackS
 * @returns {number}
 */
export function envDurationS(env, name, fallbackS) {
  const v = env[name]
  if (v === undefined || v === '') return fallbackS
  try {
    return parseDurationS(v)
  } catch (e) {
    throw new Error(name + ': ' + String(e instanceof Error ? e.message : e))
  }
}

/**
 * @typedef {Object} Slo
 * @property {number} httpErrorRate share of failed HTTP requests (status >= 400 or transport error)
 * @property {number} httpP95Ms
 * @property {number} httpP99Ms
 * @property {number} wsConnectP95Ms WebSocket handshake through the router
 * @property {number} wsRttP95Ms echo round trip
 * @property {number} wsRttP99Ms
 * @property {number} wsSessionErrorRate sessions that fail to open or are cut before their hold time
 * @property {number} wsLostRate share of sent messages whose echo never came back
 * @property {number} spikeErrorRate errors allowed while the spike is on
 */

/**
 * @typedef {Object} Config
 * @property {string} baseUrl router URL, no trailing slash
 * @property {string} wsBaseUrl same host, ws:// or wss://
 * @property {boolean} local true when BASE_URL was not given (the `npm start` stack)
 * @property {string[]} deploymentIds [] when not given for a deployed router (setup() then fails and says how to list them)
 * @property {string} servicePath
 * @property {string[]} nodeIds [] = discover through /media/allocate in setup()
 * @property {number} allocateProbes /media/allocate calls made to discover nodes
 * @property {number} scale every duration is multiplied by it
 * @property {number} vus
 * @property {number} durationS steady-state hold of 02 and 03 (scaled)
 * @property {number} spikeVus
 * @property {number} wsVus
 * @property {number} wsPeers
 * @property {number} wsMsgRate
 * @property {number} wsHoldS session hold (scaled)
 * @property {number} wsPayloadBytes
 * @property {number} wsEchoGraceMs no message is sent this close to the end of a session, and a missing echo younger than this at close is not "lost"
 * @property {number} smokeHoldS
 * @property {string} drainNodeId '' = the first node
 * @property {string} drainAdminUrl the drained node's admin listener, e.g. http://127.0.0.1:9101
 * @property {string} drainToken the media node's ADMIN_TOKEN
 * @property {number} drainAtS (scaled)
 * @property {number} drainSettleS sessions started this soon after the drain are not judged on where they landed (scaled)
 * @property {number} drainObserveS how long the drain scenario waits for the node to report DRAINING
 * @property {Slo} slo
 */

/**
 * Reads every setting from `env` (k6's __ENV). Throws with the variable's name on bad input.
 * @param {Env} env
 * @returns {Config}
 */
export function readConfig(env) {
  if (envString(env, 'DRAIN_URL', '') !== '') {
    throw new Error('DRAIN_URL is gone: it POSTed {"nodeId"} to an endpoint nothing serves. Set DRAIN_ADMIN_URL to the media node\'s own admin listener ' +
      '(e.g. http://127.0.0.1:9101 for node-1 of `npm start`) and DRAIN_TOKEN to its ADMIN_TOKEN; see loadtest/README.md')
  }
  const given = envString(env, 'BASE_URL', '')
  const baseUrl = (given === '' ? LOCAL_STACK.baseUrl : given).replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) throw new Error('BASE_URL must be an http:// or https:// URL, got "' + given + '"')
  const local = given === ''
  const scale = envNumber(env, 'SCALE', 1)
  if (scale <= 0) throw new Error('SCALE must be > 0, got "' + env.SCALE + '"')
  const servicePath = envString(env, 'SERVICE_PATH', '/')
  if (servicePath.charAt(0) !== '/') throw new Error('SERVICE_PATH must start with /, got "' + servicePath + '"')
  const wsHoldS = scaleSeconds(envDurationS(env, 'WS_HOLD_S', 30), scale)
  const drainToken = envString(env, 'DRAIN_TOKEN', local ? LOCAL_STACK.adminToken : '')
  return {
    baseUrl: baseUrl,
    wsBaseUrl: baseUrl.replace(/^http/, 'ws'),
    local: local,
    deploymentIds: envList(env, 'DEPLOYMENT_IDS', envList(env, 'DEPLOYMENT_ID', local ? LOCAL_STACK.deployments : [])),
    servicePath: servicePath,
    nodeIds: envList(env, 'NODE_IDS', envList(env, 'NODE_ID', [])),
    allocateProbes: Math.max(1, Math.floor(envNumber(env, 'ALLOCATE_PROBES', 8))),
    scale: scale,
    vus: Math.max(1, Math.floor(envNumber(env, 'VUS', 20))),
    durationS: scaleSeconds(envDurationS(env, 'DURATION', 120), scale),
    spikeVus: Math.max(1, Math.floor(envNumber(env, 'SPIKE_VUS', 200))),
    wsVus: Math.max(1, Math.floor(envNumber(env, 'WS_VUS', 50))),
    wsPeers: Math.max(1, Math.floor(envNumber(env, 'WS_PEERS', 2))),
    wsMsgRate: envNumber(env, 'WS_MSG_RATE', 2),
    wsHoldS: wsHoldS,
    wsPayloadBytes: Math.floor(envNumber(env, 'WS_PAYLOAD_BYTES', 64)),
    wsEchoGraceMs: Math.min(envNumber(env, 'WS_ECHO_GRACE_MS', 1000), (wsHoldS * 1000) / 2),
    smokeHoldS: envDurationS(env, 'SMOKE_HOLD_S', 2),
    drainNodeId: envString(env, 'DRAIN_NODE_ID', ''),
    drainAdminUrl: envString(env, 'DRAIN_ADMIN_URL', '').replace(/\/+$/, ''),
    drainToken: drainToken,
    drainAtS: scaleSeconds(envDurationS(env, 'DRAIN_AT_S', 20), scale),
    drainSettleS: scaleSeconds(envDurationS(env, 'DRAIN_SETTLE_S', 5), scale),
    drainObserveS: envDurationS(env, 'DRAIN_OBSERVE_S', 15),
    slo: {
      httpErrorRate: envNumber(env, 'SLO_HTTP_ERROR_RATE', 0.01),
      httpP95Ms: envNumber(env, 'SLO_HTTP_P95_MS', 300),
      httpP99Ms: envNumber(env, 'SLO_HTTP_P99_MS', 800),
      wsConnectP95Ms: envNumber(env, 'SLO_WS_CONNECT_P95_MS', 500),
      wsRttP95Ms: envNumber(env, 'SLO_WS_RTT_P95_MS', 150),
      wsRttP99Ms: envNumber(env, 'SLO_WS_RTT_P99_MS', 400),
      wsSessionErrorRate: envNumber(env, 'SLO_WS_SESSION_ERROR_RATE', 0.01),
      wsLostRate: envNumber(env, 'SLO_WS_LOST_RATE', 0.001),
      spikeErrorRate: envNumber(env, 'SLO_SPIKE_ERROR_RATE', 0.05),
    },
  }
}

/**
 * WebSocket URL of a media session, echo on so the sender gets its own messages back.
 * @param {Config} cfg
 * @param {string} nodeId
 * @param {string} sessionId
 * @returns {string}
 */
export function mediaUrl(cfg, nodeId, sessionId) {
  return cfg.wsBaseUrl + '/media/' + nodeId + '/ws/' + sessionId + '?echo=1'
}

/**
 * URL of the service request for the n-th VU (spreads VUs over deployments).
 * @param {Config} cfg
 * @param {string[]} deployments
 * @param {number} vu
 * @returns {string}
 */
export function serviceUrl(cfg, deployments, vu) {
  return cfg.baseUrl + '/services/' + deployments[vu % deployments.length] + cfg.servicePath
}
