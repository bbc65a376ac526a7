// 05 drain under load — Question: when a media node drains (deploy, scale-in),
// do the sessions already on it stay up until they end on their own, while new
// sessions keep working on the remaining nodes? WS_VUS clients hold sessions
// spread over NODE_IDS; DRAIN_AT_S seconds in, the "drain" scenario POSTs to
// DRAIN_URL (or, without DRAIN_URL, you start the drain by hand, e.g. by
// stopping the ECS task). Sessions are tagged phase:before_drain/after_drain
// and the SLO is written against sessions that were open when the drain began.

import http from 'k6/http'
import { check } from 'k6'
import { WS_VUS, WS_PEERS, WS_HOLD_S, NODE_IDS, DRAIN_NODE_ID, DRAIN_URL, DRAIN_TOKEN, DRAIN_AT_S, SLO } from './lib/config.js'
import { requireHealthy } from './lib/health.js'
import { runSession } from './lib/session.js'

const TOTAL_S = DRAIN_AT_S + 2 * WS_HOLD_S + 10

export const options = {
  scenarios: {
    sessions: { executor: 'constant-vus', vus: WS_VUS, duration: TOTAL_S + 's', gracefulStop: WS_HOLD_S + 10 + 's' },
    drain: { executor: 'shared-iterations', vus: 1, iterations: 1, startTime: DRAIN_AT_S + 's', exec: 'drain' },
  },
  thresholds: {
    // SLO: sessions open when the drain starts are not cut by it.
    'ws_session_failed{phase:before_drain}': ['rate<' + SLO.wsSessionErrorRate],
    // SLO: new sessions after the drain still open (on the nodes left).
    'ws_session_failed{phase:after_drain}': ['rate<' + SLO.wsSessionErrorRate],
    ws_rtt: ['p(95)<' + SLO.wsRttP95Ms, 'p(99)<' + SLO.wsRttP99Ms],
    'checks{scenario:drain}': ['rate==1'],
  },
}

export function setup() {
  return requireHealthy()
}

/**
 * Session loop. After the drain began, new sessions avoid the draining node.
 * @param {{ startedAt: number }} data from setup()
 */
export default function (data) {
  const drainStarted = Date.now() - data.startedAt >= DRAIN_AT_S * 1000
  let nodes = NODE_IDS
  if (drainStarted && NODE_IDS.length > 1) {
    nodes = NODE_IDS.filter(function (n) { return n !== DRAIN_NODE_ID })
  }
  const group = Math.floor((__VU - 1) / WS_PEERS)
  const node = nodes[group % nodes.length]
  runSession(node, 'drain-' + group + '-' + __ITER, 'vu' + __VU + '-' + __ITER, {
    node: node,
    phase: drainStarted ? 'after_drain' : 'before_drain',
  })
}

/** Starts the drain of DRAIN_NODE_ID by POSTing to DRAIN_URL, if one is set. */
export function drain() {
  if (DRAIN_URL === '') {
    console.warn('DRAIN_URL not set: start draining node ' + DRAIN_NODE_ID + ' by hand now')
    return
  }
  /** @type {{ [name: string]: string }} */
  const headers = { 'content-type': 'application/json' }
  if (DRAIN_TOKEN !== '') headers['authorization'] = 'Bearer ' + DRAIN_TOKEN
  const res = http.post(DRAIN_URL, JSON.stringify({ nodeId: DRAIN_NODE_ID }), { headers: headers, tags: { name: 'drain' } })
  check(res, { 'drain accepted': function (r) { return r.status >= 200 && r.status < 300 } })
}
