// 02 HTTP load — Question: at the expected steady load, do requests through
// /services/<id> stay within the latency and error SLOs? Ramps to VUS, holds
// for DURATION, ramps down (all scaled by SCALE); VUs are spread over
// DEPLOYMENT_IDS.

import http from 'k6/http'
import { check, sleep } from 'k6'
import { readConfig, serviceUrl } from './lib/config.js'
import { standardSetup } from './lib/targets.js'
import { httpLoadPlan } from './lib/plans.js'
import { httpLoadThresholds } from './lib/thresholds.js'

const CFG = readConfig(__ENV)
const PLAN = httpLoadPlan(CFG)

export const options = {
  scenarios: {
    services: { executor: 'ramping-vus', startVUs: 0, stages: PLAN.stages, gracefulRampDown: PLAN.gracefulRampDown },
  },
  thresholds: httpLoadThresholds(CFG),
}

export function setup() {
  return standardSetup(CFG, { deployments: true, nodes: false })
}

/** @param {import('./lib/targets.js').SetupData} data */
export default function (data) {
  const res = http.get(serviceUrl(CFG, data.deployments, __VU), { tags: { name: 'services' } })
  check(res, { 'status is 2xx': function (r) { return r.status >= 200 && r.status < 300 } })
  sleep(0.1)
}
