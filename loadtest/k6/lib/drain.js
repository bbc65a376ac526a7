// The drain contract of 05, through what the project serves: the media
// node's own admin listener (POST /admin/drain, GET /status; bearer token =
// the node's ADMIN_TOKEN). setup() checks the admin URL names the node to
// drain before any load; the drain scenario starts the drain and records
// whether it was accepted and whether the node then reported DRAINING.

import http from 'k6/http'
import { check, fail, sleep } from 'k6'
import { Counter } from 'k6/metrics'
import { LOCAL_STACK } from './config.js'
import { drainAnswerProblem, nodeStatus, routerErrorText } from './router-api.js'

/** 1 when POST /admin/drain answered 202 with the expected node DRAINING. */
export const drainRequested = new Counter('drain_requested')
/** 1 when the node's GET /status reported DRAINING after the request. */
export const drainObserved = new Counter('drain_observed')

/**
 * The admin URL of `nodeId`: DRAIN_ADMIN_URL, or on the `npm start` stack the
 * port it gives that node (9101 for node-1, 9102 for node-2).
 * @param {import('./config.js').Config} cfg
 * @param {string} nodeId
 * @returns {string}
 */
export function adminUrlFor(cfg, nodeId) {
  if (cfg.drainAdminUrl !== '') return cfg.drainAdminUrl
  const i = LOCAL_STACK.mediaNodes.indexOf(nodeId)
  if (cfg.local && i >= 0) return 'http://127.0.0.1:' + (LOCAL_STACK.mediaAdminBasePort + i)
  return fail('DRAIN_ADMIN_URL is not set: 05 drains node "' + nodeId + '" through its own admin listener (POST /admin/drain on the media node\'s ADMIN_PORT, ' +
    'default 8081, reachable only inside the VPC), e.g. -e DRAIN_ADMIN_URL=http://10.0.3.17:8081 -e DRAIN_TOKEN=<its ADMIN_TOKEN>')
}

/**
 * Fails the run before any load unless GET <adminUrl>/status answers as `nodeId`, ACTIVE.
 * @param {string} adminUrl
 * @param {string} nodeId
 */
export function requireDrainable(adminUrl, nodeId) {
  const res = http.get(adminUrl + '/status', { timeout: '5s', tags: { name: 'setup' } })
  const s = res.status === 200 ? nodeStatus(res.body) : undefined
  if (s === undefined) fail('GET ' + adminUrl + '/status -> ' + (res.status === 0 ? res.error : 'HTTP ' + res.status + ' ' + routerErrorText(res.body)) + ': DRAIN_ADMIN_URL must be the admin listener of node "' + nodeId + '"')
  else if (s.nodeId !== nodeId) fail('DRAIN_ADMIN_URL ' + adminUrl + ' is node "' + s.nodeId + '", not "' + nodeId + '" (set DRAIN_NODE_ID or DRAIN_ADMIN_URL)')
  else if (s.status !== 'ACTIVE') fail('node "' + nodeId + '" is ' + s.status + ', not ACTIVE: nothing to drain (restart it, or pick another with DRAIN_NODE_ID)')
}

/**
 * Starts the drain of `nodeId` and waits up to `observeS` for its /status to say DRAINING.
 * @param {string} adminUrl
 * @param {string} token
 * @param {string} nodeId
 * @param {number} observeS
 */
export function drainAndObserve(adminUrl, token, nodeId, observeS) {
  const tags = { name: 'drain' }
  const res = http.post(adminUrl + '/admin/drain', null, { headers: { authorization: 'Bearer ' + token }, tags: tags, timeout: '10s' })
  const problem = drainAnswerProblem(res.status, res.body, nodeId)
  if (problem !== undefined) console.error('drain of ' + nodeId + ' not accepted: ' + problem)
  check(res, { 'drain accepted (202, node DRAINING)': function () { return problem === undefined } })
  drainRequested.add(problem === undefined ? 1 : 0)

  let seen = false
  let last = 'no answer'
  const deadline = Date.now() + observeS * 1000
  while (!seen && Date.now() < deadline) {
    const st = http.get(adminUrl + '/status', { tags: tags, timeout: '5s' })
    const s = st.status === 200 ? nodeStatus(st.body) : undefined
    if (s !== undefined && s.nodeId === nodeId && s.status === 'DRAINING') {
      seen = true
      console.info('node ' + nodeId + ' reports DRAINING with ' + s.activeConnections + ' connection(s) still open')
    } else {
      last = s !== undefined ? s.status : st.status === 0 ? st.error : 'HTTP ' + st.status
      sleep(0.5)
    }
  }
  if (!seen) console.error('node ' + nodeId + ' never reported DRAINING within ' + observeS + ' s (last: ' + last + ')')
  check(seen, { 'node reported DRAINING': function (v) { return v } })
  drainObserved.add(seen ? 1 : 0)
}
