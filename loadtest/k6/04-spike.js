// 04 spike — Question: when traffic jumps from VUS to SPIKE_VUS in seconds,
// does the router keep serving (bounded errors, bounded tail latency) and
// recover once the spike is over? Watch the recovery phase in the summary.

import http from 'k6/http'
import { check } from 'k6'
import { VUS, SPIKE_VUS, SLO, serviceUrl } from './lib/config.js'
import { spike } from './lib/stages.js'
import { requireHealthy } from './lib/health.js'

export const options = {
  scenarios: {
    spike: { executor: 'ramping-vus', startVUs: 0, stages: spike(VUS, SPIKE_VUS), gracefulRampDown: '5s' },
  },
  thresholds: {
    // SLO: during a spike a few errors are tolerated, not an outage.
    'http_req_failed{name:services}': ['rate<' + SLO.spikeErrorRate],
    // SLO: the tail may stretch to twice the steady-state p99, no more.
    'http_req_duration{name:services}': ['p(95)<' + SLO.httpP99Ms, 'p(99)<' + 2 * SLO.httpP99Ms],
  },
}

export function setup() {
  return requireHealthy()
}

export default function () {
  const res = http.get(serviceUrl(__VU), { tags: { name: 'services' }, timeout: '10s' })
  check(res, { 'status is 2xx': function (r) { return r.status >= 200 && r.status < 300 } })
}
