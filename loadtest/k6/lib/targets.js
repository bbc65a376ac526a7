// setup() helpers: the readiness gate and the ids a run will use. Nodes not
// given are discovered through GET /media/allocate; deployments come from
// DEPLOYMENT_IDS (the router has no public list of them). Every id is tried
// once before any load: a 404 fails the run at once, naming the id and how to
// list real ones (router-api.js words it).

import http from 'k6/http'
import { fail, sleep } from 'k6'
import { allocatedNode, distinct, howToList, isUnknownTarget, routerErrorText, unknownIdMessage } from './router-api.js'

/**
 * @typedef {import('./config.js').Config} Config
 * @typedef {{ baseUrl: string, startedAt: number, deployments: string[], nodes: string[] }} SetupData
 */

/**
 * Polls GET <baseUrl>/health; fails the whole test unless it is 200.
 * @param {Config} cfg
 */
export function requireHealthy(cfg) {
  const url = cfg.baseUrl + '/health'
  let last = 'no response'
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = http.get(url, { timeout: '5s', tags: { name: 'health' } })
    if (res.status === 200) return
    last = res.status === 0 ? res.error : 'HTTP ' + res.status
    sleep(1)
  }
  fail('router not ready: GET ' + url + ' -> ' + last + (cfg.local ? ' (no BASE_URL given: is `npm start` running?)' : ' (check BASE_URL)'))
}

/**
 * The deployments to load, each checked with one request; fails fast on an unknown one.
 * @param {Config} cfg
 * @returns {string[]}
 */
export function requireDeployments(cfg) {
  if (cfg.deploymentIds.length === 0) {
    fail('DEPLOYMENT_IDS is not set for ' + cfg.baseUrl + '. ' + howToList('deployment', cfg.baseUrl))
  }
  for (let i = 0; i < cfg.deploymentIds.length; i++) {
    const id = cfg.deploymentIds[i]
    const url = cfg.baseUrl + '/services/' + id + cfg.servicePath
    const res = http.get(url, { timeout: '10s', tags: { name: 'setup' } })
    if (isUnknownTarget(res.status, res.body)) fail(unknownIdMessage('deployment', id, url, res.status, res.body, cfg.baseUrl))
  }
  return cfg.deploymentIds
}

/**
 * The media nodes to use: NODE_IDS checked with GET /media/<id>/status, or
 * discovered with ALLOCATE_PROBES calls to GET /media/allocate.
 * @param {Config} cfg
 * @returns {string[]}
 */
export function requireNodes(cfg) {
  if (cfg.nodeIds.length > 0) {
    for (let i = 0; i < cfg.nodeIds.length; i++) {
      const id = cfg.nodeIds[i]
      const url = cfg.baseUrl + '/media/' + id + '/status'
      const res = http.get(url, { timeout: '10s', tags: { name: 'setup' } })
      if (isUnknownTarget(res.status, res.body)) fail(unknownIdMessage('node', id, url, res.status, res.body, cfg.baseUrl))
    }
    return cfg.nodeIds
  }
  /** @type {(string | undefined)[]} */
  const seen = []
  let last = ''
  for (let i = 0; i < cfg.allocateProbes; i++) {
    const res = http.get(cfg.baseUrl + '/media/allocate', { timeout: '10s', tags: { name: 'setup' } })
    if (res.status === 200) seen.push(allocatedNode(res.body))
    else last = 'HTTP ' + res.status + ' ' + routerErrorText(res.body)
  }
  const nodes = distinct(seen)
  if (nodes.length === 0) fail('NODE_IDS not set and GET ' + cfg.baseUrl + '/media/allocate found no node (' + last + '). ' + howToList('node', cfg.baseUrl))
  console.info('media nodes discovered through /media/allocate: ' + nodes.join(', ') + ' (set NODE_IDS to choose)')
  return nodes
}

/**
 * The common setup(): health gate, then the ids the scenario needs.
 * @param {Config} cfg
 * @param {{ deployments: boolean, nodes: boolean }} need
 * @returns {SetupData}
 */
export function standardSetup(cfg, need) {
  requireHealthy(cfg)
  const deployments = need.deployments ? requireDeployments(cfg) : []
  const nodes = need.nodes ? requireNodes(cfg) : []
  return { baseUrl: cfg.baseUrl, startedAt: Date.now(), deployments: deployments, nodes: nodes }
}
