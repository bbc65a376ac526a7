// 03 WebSocket sessions — Question: can WS_VUS clients hold media sessions
// through the router while exchanging WS_MSG_RATE messages/s each, with fast
// handshakes and round trips? Each iteration joins a session of WS_PEERS
// clients on /media/<nodeId>/ws/<session>?echo=1, sends at a fixed rate,
// holds WS_HOLD_S seconds, then closes.

import { WS_VUS, WS_PEERS, WS_HOLD_S, DURATION, NODE_IDS, SLO } from './lib/config.js'
import { requireHealthy } from './lib/health.js'
import { runSession } from './lib/session.js'
import { rampHold } from './lib/stages.js'

export const options = {
  scenarios: {
    sessions: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: rampHold(WS_VUS, DURATION),
      // Let a session opened during ramp-down finish its hold time.
      gracefulRampDown: WS_HOLD_S + 10 + 's',
    },
  },
  thresholds: {
    // SLO: at most 1% of sessions fail to open or are cut before their hold time.
    ws_session_failed: ['rate<' + SLO.wsSessionErrorRate],
    // SLO: the upgrade through the router completes quickly.
    ws_connecting: ['p(95)<' + SLO.wsConnectP95Ms],
    // SLO: message round trip (client → router → media node → back).
    ws_rtt: ['p(95)<' + SLO.wsRttP95Ms, 'p(99)<' + SLO.wsRttP99Ms],
    ws_lost_messages: ['count<100'],
  },
}

export function setup() {
  return requireHealthy()
}

export default function () {
  // VUs 1..WS_PEERS share a session, the next WS_PEERS the next one, and so on.
  const group = Math.floor((__VU - 1) / WS_PEERS)
  const node = NODE_IDS[group % NODE_IDS.length]
  const session = 'lt-' + group + '-' + __ITER
  runSession(node, session, 'vu' + __VU + '-' + __ITER, { node: node })
}
