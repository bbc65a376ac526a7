// 01 smoke — Question: is the router up and routing at all? One VU requests
// every configured deployment under /services/<id> and opens one echo session
// on every media node. Run it after each deploy, before any heavier scenario.

import http from 'k6/http'
import { check, sleep } from 'k6'
import { DEPLOYMENT_IDS, NODE_IDS, SERVICE_PATH, BASE_URL, SLO } from './lib/config.js'
import { requireHealthy } from './lib/health.js'
import { runSession } from './lib/session.js'

export const options = {
  vus: 1,
  iterations: 3,
  thresholds: {
    // SLO: no request fails, even at trivial load.
    'http_req_failed{name:services}': ['rate==0'],
    'http_req_duration{name:services}': ['p(95)<' + SLO.httpP95Ms],
    checks: ['rate==1'],
    ws_session_failed: ['rate==0'],
    ws_connecting: ['p(95)<' + SLO.wsConnectP95Ms],
    ws_rtt: ['p(95)<' + SLO.wsRttP95Ms],
  },
}

export function setup() {
  return requireHealthy()
}

export default function () {
  for (let i = 0; i < DEPLOYMENT_IDS.length; i++) {
    const id = DEPLOYMENT_IDS[i]
    const res = http.get(BASE_URL + '/services/' + id + SERVICE_PATH, { tags: { name: 'services', deployment: id } })
    check(res, { 'service answers 2xx': function (r) { return r.status >= 200 && r.status < 300 } })
  }
  for (let i = 0; i < NODE_IDS.length; i++) {
    const node = NODE_IDS[i]
    runSession(node, 'smoke-' + __VU + '-' + __ITER, 'smoke-' + __VU + '-' + __ITER + '-' + node, { node: node, name: 'media' })
  }
  sleep(1)
}
