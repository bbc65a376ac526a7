// 01 smoke — Question: is the router up and routing at all? One VU requests
// every deployment under /services/<id> once and opens one short echo session
// on every media node (SMOKE_HOLD_S each, 2 s). Run it after each deploy,
// before any heavier scenario. Ids: DEPLOYMENT_IDS, and NODE_IDS or discovery
// through /media/allocate; an unknown id fails setup() with how to list them.

import http from 'k6/http'
import { check } from 'k6'
import { readConfig } from './lib/config.js'
import { standardSetup } from './lib/targets.js'
import { runSession } from './lib/session.js'
import { smokeThresholds, SMOKE_MSG_RATE } from './lib/thresholds.js'

const CFG = readConfig(__ENV)

export const options = {
  vus: 1,
  iterations: 1,
  thresholds: smokeThresholds(CFG),
}

export function setup() {
  return standardSetup(CFG, { deployments: true, nodes: true })
}

/** @param {import('./lib/targets.js').SetupData} data */
export default function (data) {
  for (let i = 0; i < data.deployments.length; i++) {
    const id = data.deployments[i]
    const res = http.get(CFG.baseUrl + '/services/' + id + CFG.servicePath, { tags: { name: 'services', deployment: id } })
    check(res, { 'service answers 2xx': function (r) { return r.status >= 200 && r.status < 300 } })
  }
  for (let i = 0; i < data.nodes.length; i++) {
    const node = data.nodes[i]
    const id = 'smoke-' + __VU + '-' + __ITER + '-' + i
    runSession(CFG, { nodeId: node, sessionId: id, clientId: id, holdS: CFG.smokeHoldS, msgRate: SMOKE_MSG_RATE }, { node: node, name: 'media' })
  }
}
