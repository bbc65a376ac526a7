// 05 drain under load — Question: when a media node drains (deploy,
// scale-in), do the sessions already on it stay up until they end on their
// own, while new sessions go to the other nodes and open there? WS_VUS
// clients hold sessions spread over the nodes; DRAIN_AT_S seconds in, the
// "drain" scenario POSTs /admin/drain to the node's own admin listener
// (DRAIN_ADMIN_URL, DRAIN_TOKEN) and waits for the node to report DRAINING.
// Sessions are tagged phase:before_drain|during_drain|after_drain, and
// spans_drain:yes when opened on the drained node before the drain and meant
// to outlast it. After the drain settles (DRAIN_SETTLE_S), new sessions are
// placed by GET /media/allocate, as real clients are. The run fails unless
// the drain was accepted and observed, sessions spanning it held, and every
// allocation after it went elsewhere.

import http from 'k6/http'
import exec from 'k6/execution'
import { fail } from 'k6'
import { readConfig } from './lib/config.js'
import { standardSetup } from './lib/targets.js'
import { runSession, wsSessions, wsSessionFailed } from './lib/session.js'
import { adminUrlFor, drainAndObserve, requireDrainable } from './lib/drain.js'
import { allocatedNode, parseJson } from './lib/router-api.js'
import { drainPlan } from './lib/plans.js'
import { drainThresholds } from './lib/thresholds.js'
import { Counter, Rate } from 'k6/metrics'

const CFG = readConfig(__ENV)
const PLAN = drainPlan(CFG)

/** After the drain settled: 1 per allocation that avoided the drained node. */
const allocatedElsewhere = new Rate('drain_allocated_elsewhere')
/** Allocations judged (the guard of drain_allocated_elsewhere). */
const allocations = new Counter('drain_allocations')

export const options = {
  scenarios: {
    sessions: { executor: 'constant-vus', vus: CFG.wsVus, duration: PLAN.sessionsDuration, gracefulStop: PLAN.gracefulStop },
    drain: { executor: 'shared-iterations', vus: 1, iterations: 1, startTime: PLAN.drainStart, exec: 'drain' },
  },
  thresholds: drainThresholds(CFG),
}

/** @returns {import('./lib/targets.js').SetupData & { drainNode: string, adminUrl: string }} */
export function setup() {
  const data = standardSetup(CFG, { deployments: false, nodes: true })
  const drainNode = CFG.drainNodeId !== '' ? CFG.drainNodeId : data.nodes[0]
  if (data.nodes.indexOf(drainNode) < 0) fail('DRAIN_NODE_ID "' + drainNode + '" is not among the nodes in use: ' + data.nodes.join(', '))
  if (data.nodes.length < 2) fail('05 needs at least two media nodes (found ' + data.nodes.join(', ') + '): new sessions must have somewhere else to go')
  const adminUrl = adminUrlFor(CFG, drainNode)
  requireDrainable(adminUrl, drainNode)
  return { baseUrl: data.baseUrl, startedAt: data.startedAt, deployments: data.deployments, nodes: data.nodes, drainNode: drainNode, adminUrl: adminUrl }
}

/**
 * Session loop: pinned round-robin over the nodes before the drain (so the
 * drained node has sessions), placed by /media/allocate from the drain on.
 * @param {ReturnType<typeof setup>} data
 */
export default function (data) {
  const elapsedMs = Date.now() - exec.scenario.startTime
  const drainAtMs = CFG.drainAtS * 1000
  const clientId = 'vu' + __VU + '-' + __ITER
  if (elapsedMs < drainAtMs) {
    const group = Math.floor((__VU - 1) / CFG.wsPeers)
    const node = data.nodes[group % data.nodes.length]
    const spans = node === data.drainNode && elapsedMs + CFG.wsHoldS * 1000 > drainAtMs
    runSession(CFG, { nodeId: node, sessionId: 'drain-' + group + '-' + __ITER, clientId: clientId, holdS: CFG.wsHoldS, msgRate: CFG.wsMsgRate },
      { node: node, phase: 'before_drain', spans_drain: spans ? 'yes' : 'no' })
    return
  }
  const phase = elapsedMs < drainAtMs + CFG.drainSettleS * 1000 ? 'during_drain' : 'after_drain'
  const tags = { phase: phase, spans_drain: 'no' }
  const res = http.get(CFG.baseUrl + '/media/allocate', { tags: { name: 'allocate', phase: phase } })
  const node = res.status === 200 ? allocatedNode(res.body) : undefined
  const body = parseJson(res.body)
  const session = typeof body === 'object' && body !== null && typeof (/** @type {{ sessionId?: unknown }} */ (body)).sessionId === 'string'
    ? String((/** @type {{ sessionId: string }} */ (body)).sessionId)
    : 'drain-' + clientId
  if (phase === 'after_drain') {
    allocations.add(1)
    allocatedElsewhere.add(node !== undefined && node !== data.drainNode)
  }
  if (node === undefined) {
    console.warn('GET /media/allocate -> HTTP ' + res.status + ' during ' + phase)
    wsSessions.add(1, tags)
    wsSessionFailed.add(true, tags)
    return
  }
  runSession(CFG, { nodeId: node, sessionId: session, clientId: clientId, holdS: CFG.wsHoldS, msgRate: CFG.wsMsgRate }, { node: node, phase: phase, spans_drain: 'no' })
}

/**
 * The drain scenario (one iteration at DRAIN_AT_S).
 * @param {ReturnType<typeof setup>} data
 */
export function drain(data) {
  drainAndObserve(data.adminUrl, CFG.drainToken, data.drainNode, CFG.drainObserveS)
}
