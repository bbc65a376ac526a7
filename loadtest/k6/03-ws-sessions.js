// 03 WebSocket sessions — Question: can WS_VUS clients hold media sessions
// through the router while exchanging WS_MSG_RATE messages/s each, with fast
// handshakes and round trips, and no echo lost? Each iteration joins a session
// of WS_PEERS clients on /media/<nodeId>/ws/<session>?echo=1, sends at a fixed
// rate, holds WS_HOLD_S seconds, then closes. Ramp, DURATION and holds scale
// with SCALE. Nothing is sent in the last WS_ECHO_GRACE_MS of a session, so a
// closing client never counts its own last message as lost.

import { readConfig } from './lib/config.js'
import { standardSetup } from './lib/targets.js'
import { runSession } from './lib/session.js'
import { wsSessionsPlan } from './lib/plans.js'
import { wsSessionsThresholds } from './lib/thresholds.js'

const CFG = readConfig(__ENV)
const PLAN = wsSessionsPlan(CFG)

export const options = {
  scenarios: {
    // Let a session opened during ramp-down finish its hold time.
    sessions: { executor: 'ramping-vus', startVUs: 0, stages: PLAN.stages, gracefulRampDown: PLAN.gracefulRampDown },
  },
  thresholds: wsSessionsThresholds(CFG),
}

export function setup() {
  return standardSetup(CFG, { deployments: false, nodes: true })
}

/** @param {import('./lib/targets.js').SetupData} data */
export default function (data) {
  // VUs 1..WS_PEERS share a session, the next WS_PEERS the next one, and so on.
  const group = Math.floor((__VU - 1) / CFG.wsPeers)
  const node = data.nodes[group % data.nodes.length]
  runSession(CFG, { nodeId: node, sessionId: 'lt-' + group + '-' + __ITER, clientId: 'vu' + __VU + '-' + __ITER, holdS: CFG.wsHoldS, msgRate: CFG.wsMsgRate }, { node: node })
}
