// Every scenario's thresholds, written from the SLO table in config.js. Pure
// (no k6 imports), so the tap tests can judge each scenario's thresholds on an
// empty summary (verdict.js) and expect a failure.
//
// Rule: k6 evaluates a threshold on a metric with no samples as if every value
// were 0, so `p(95)<150` and `rate<0.01` pass when nothing was measured. Every
// scenario therefore pairs each latency or rate threshold with a `count>0`
// guard on a counter of the same events: no samples, no pass. Limits that
// would scale with load are rates, never counts.

/**
 * @typedef {import('./config.js').Config} Config
 * @typedef {{ [metric: string]: string[] }} Thresholds
 */

/**
 * WebSocket session thresholds for sessions selected by `filter` (e.g. "" or "{phase:after_drain}").
 * @param {Config} cfg
 * @param {string} filter
 * @param {boolean} [strict] no failed session at all (smoke)
 * @returns {Thresholds}
 */
function sessionThresholds(cfg, filter, strict) {
  /** @type {Thresholds} */
  const t = {}
  t['ws_session_failed' + filter] = [strict ? 'rate==0' : 'rate<' + cfg.slo.wsSessionErrorRate]
  t['ws_sessions' + filter] = ['count>0']
  return t
}

/**
 * Echo thresholds (round trip, lost messages), when messages are sent at all.
 * @param {Config} cfg
 * @param {number} msgRate
 * @param {boolean} withP99
 * @returns {Thresholds}
 */
function echoThresholds(cfg, msgRate, withP99) {
  /** @type {Thresholds} */
  const t = {}
  if (msgRate <= 0) return t
  t.ws_rtt = withP99 ? ['p(95)<' + cfg.slo.wsRttP95Ms, 'p(99)<' + cfg.slo.wsRttP99Ms] : ['p(95)<' + cfg.slo.wsRttP95Ms]
  t.ws_echoes = ['count>0']
  t.ws_message_lost = ['rate<' + cfg.slo.wsLostRate]
  return t
}

/**
 * Copies every entry of `from` into `into`.
 * @param {Thresholds} into
 * @param {Thresholds} from
 * @returns {Thresholds}
 */
function merge(into, from) {
  const keys = Object.keys(from)
  for (let i = 0; i < keys.length; i++) into[keys[i]] = from[keys[i]]
  return into
}

/** Smoke message rate: fixed, so an echo is always measured. */
export const SMOKE_MSG_RATE = 5

/**
 * 01 smoke: nothing fails, even at trivial load.
 * @param {Config} cfg
 * @returns {Thresholds}
 */
export function smokeThresholds(cfg) {
  const t = {
    'http_req_failed{name:services}': ['rate==0'],
    'http_req_duration{name:services}': ['p(95)<' + cfg.slo.httpP95Ms],
    'http_reqs{name:services}': ['count>0'],
    checks: ['rate==1'],
    ws_connecting: ['p(95)<' + cfg.slo.wsConnectP95Ms],
  }
  merge(t, sessionThresholds(cfg, '', true))
  return merge(t, echoThresholds(cfg, SMOKE_MSG_RATE, false))
}

/**
 * 02 HTTP load: error rate and p95/p99 at steady load.
 * @param {Config} cfg
 * @returns {Thresholds}
 */
export function httpLoadThresholds(cfg) {
  return {
    'http_req_failed{name:services}': ['rate<' + cfg.slo.httpErrorRate],
    'http_req_duration{name:services}': ['p(95)<' + cfg.slo.httpP95Ms, 'p(99)<' + cfg.slo.httpP99Ms],
    'http_reqs{name:services}': ['count>0'],
    checks: ['rate>0.99'],
  }
}

/**
 * 03 WebSocket sessions: sessions hold, handshakes and round trips are fast, echoes come back.
 * @param {Config} cfg
 * @returns {Thresholds}
 */
export function wsSessionsThresholds(cfg) {
  const t = { ws_connecting: ['p(95)<' + cfg.slo.wsConnectP95Ms] }
  merge(t, sessionThresholds(cfg, ''))
  return merge(t, echoThresholds(cfg, cfg.wsMsgRate, true))
}

/**
 * 04 spike, one set per phase: baseline and recovery within the steady SLOs,
 * the spike within the spike error rate and twice the steady p99.
 * @param {Config} cfg
 * @returns {Thresholds}
 */
export function spikeThresholds(cfg) {
  const s = cfg.slo
  return {
    'http_req_failed{phase:baseline}': ['rate<' + s.httpErrorRate],
    'http_req_duration{phase:baseline}': ['p(95)<' + s.httpP95Ms],
    'http_reqs{phase:baseline}': ['count>0'],
    'http_req_failed{phase:spike}': ['rate<' + s.spikeErrorRate],
    'http_req_duration{phase:spike}': ['p(99)<' + 2 * s.httpP99Ms],
    'http_reqs{phase:spike}': ['count>0'],
    'http_req_failed{phase:recovery}': ['rate<' + s.httpErrorRate],
    'http_req_duration{phase:recovery}': ['p(95)<' + s.httpP95Ms],
    'http_reqs{phase:recovery}': ['count>0'],
  }
}

/**
 * 05 drain under load: the drain happened and was observed; sessions open on
 * the node when it began were not cut; new sessions were allocated elsewhere
 * and opened.
 * @param {Config} cfg
 * @returns {Thresholds}
 */
export function drainThresholds(cfg) {
  const t = {
    // POST /admin/drain answered 202 with the expected node DRAINING.
    drain_requested: ['count>0'],
    // The node's GET /status reported DRAINING afterwards.
    drain_observed: ['count>0'],
    // After the drain settled, /media/allocate never picked the drained node.
    drain_allocated_elsewhere: ['rate==1'],
    drain_allocations: ['count>0'],
    'checks{scenario:drain}': ['rate==1'],
  }
  merge(t, sessionThresholds(cfg, '{spans_drain:yes}'))
  merge(t, sessionThresholds(cfg, '{phase:after_drain}'))
  return merge(t, echoThresholds(cfg, cfg.wsMsgRate, true))
}

/** Thresholds of each numbered script, by script name. */
export const THRESHOLDS_BY_SCRIPT = {
  '01-smoke.js': smokeThresholds,
  '02-http-load.js': httpLoadThresholds,
  '03-ws-sessions.js': wsSessionsThresholds,
  '04-spike.js': spikeThresholds,
  '05-drain-under-load.js': drainThresholds,
}
