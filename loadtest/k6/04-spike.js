// 04 spike — Question: when traffic jumps from VUS to SPIKE_VUS in seconds,
// does the router keep serving (bounded errors, bounded tail latency) and does
// latency recover once the spike is over? Every request is tagged
// phase:baseline|spike|recovery and each phase has its own thresholds, so
// "does latency recover" is its own line in the summary. 125 s at SCALE=1.

import http from 'k6/http'
import { check } from 'k6'
import exec from 'k6/execution'
import { readConfig, serviceUrl } from './lib/config.js'
import { standardSetup } from './lib/targets.js'
import { phaseAt } from './lib/stages.js'
import { spikePlan } from './lib/plans.js'
import { spikeThresholds } from './lib/thresholds.js'

const CFG = readConfig(__ENV)
const PLAN = spikePlan(CFG)

export const options = {
  scenarios: {
    spike: { executor: 'ramping-vus', startVUs: 0, stages: PLAN.stages, gracefulRampDown: PLAN.gracefulRampDown },
  },
  thresholds: spikeThresholds(CFG),
}

export function setup() {
  return standardSetup(CFG, { deployments: true, nodes: false })
}

/** @param {import('./lib/targets.js').SetupData} data */
export default function (data) {
  const phase = phaseAt(PLAN.phases, Date.now() - exec.scenario.startTime)
  const res = http.get(serviceUrl(CFG, data.deployments, __VU), { tags: { name: 'services', phase: phase }, timeout: '10s' })
  check(res, { 'status is 2xx': function (r) { return r.status >= 200 && r.status < 300 } }, { phase: phase })
}
