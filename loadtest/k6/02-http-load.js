// 02 HTTP load — Question: at the expected steady load, do requests through
// /services/<id> stay within the latency and error SLOs? Ramps to VUS, holds
// for DURATION, ramps down; VUs are spread over DEPLOYMENT_IDS.

import http from 'k6/http'
import { check, sleep } from 'k6'
import { VUS, DURATION, SLO, serviceUrl } from './lib/config.js'
import { rampHold } from './lib/stages.js'
import { requireHealthy } from './lib/health.js'

export const options = {
  scenarios: {
    services: { executor: 'ramping-vus', startVUs: 0, stages: rampHold(VUS, DURATION), gracefulRampDown: '10s' },
  },
  thresholds: {
    // SLO: fewer than 1% of requests fail (status >= 400 or transport error).
    'http_req_failed{name:services}': [{ threshold: 'rate<' + SLO.httpErrorRate, abortOnFail: true, delayAbortEval: '30s' }],
    // SLO: p95 and p99 latency through the router.
    'http_req_duration{name:services}': ['p(95)<' + SLO.httpP95Ms, 'p(99)<' + SLO.httpP99Ms],
    checks: ['rate>0.99'],
  },
}

export function setup() {
  return requireHealthy()
}

export default function () {
  const res = http.get(serviceUrl(__VU), { tags: { name: 'services' } })
  check(res, { 'status is 2xx': function (r) { return r.status >= 200 && r.status < 300 } })
  sleep(0.1)
}
