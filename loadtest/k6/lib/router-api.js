// Reading what the router and the media node answer, and the messages a run
// fails with when an id is wrong: pure parsing and wording, no k6 imports
// (targets.js and drain.js make the requests; the tap tests check the words).

/**
 * JSON body, or undefined when it is not JSON.
 * @param {unknown} body
 * @returns {unknown}
 */
export function parseJson(body) {
  if (typeof body !== 'string' || body === '') return undefined
  try {
    return JSON.parse(body)
  } catch (e) {
    return undefined
  }
}

/**
 * A string field of a JSON object, or undefined.
 * @param {unknown} value
 * @param {string} field
 * @returns {string | undefined}
 */
function stringField(value, field) {
  if (typeof value !== 'object' || value === null) return undefined
  const v = /** @type {{ [k: string]: unknown }} */ (value)[field]
  return typeof v === 'string' ? v : undefined
}

/**
 * The router's error code ({"error","code"} bodies), e.g. TARGET_NOT_FOUND.
 * @param {unknown} body
 * @returns {string | undefined}
 */
export function routerErrorCode(body) {
  return stringField(parseJson(body), 'code')
}

/**
 * The router's error message, or the start of the body.
 * @param {unknown} body
 * @returns {string}
 */
export function routerErrorText(body) {
  const e = stringField(parseJson(body), 'error')
  if (e !== undefined) return e
  return typeof body === 'string' ? body.slice(0, 200) : ''
}

/** Router codes that mean "this id names nothing" (the service's own 404 has none of them). */
export const NOT_FOUND_CODES = ['TARGET_NOT_FOUND', 'NO_ROUTE', 'INVALID_TARGET']

/**
 * True when a router answer says the id in the path does not exist.
 * @param {number} status
 * @param {unknown} body
 * @returns {boolean}
 */
export function isUnknownTarget(status, body) {
  const code = routerErrorCode(body)
  return (status === 404 || status === 400) && code !== undefined && NOT_FOUND_CODES.indexOf(code) >= 0
}

/**
 * nodeId of a GET /media/allocate answer ({nodeId, sessionId, path, url}).
 * @param {unknown} body
 * @returns {string | undefined}
 */
export function allocatedNode(body) {
  return stringField(parseJson(body), 'nodeId')
}

/**
 * Distinct node ids, in first-seen order, without undefined.
 * @param {(string | undefined)[]} ids
 * @returns {string[]}
 */
export function distinct(ids) {
  /** @type {string[]} */
  const out = []
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]
    if (id !== undefined && out.indexOf(id) < 0) out.push(id)
  }
  return out
}

/**
 * A media node's GET /status: {nodeId, status: STARTING|ACTIVE|DRAINING, activeConnections}.
 * @param {unknown} body
 * @returns {{ nodeId: string, status: string, activeConnections: number } | undefined}
 */
export function nodeStatus(body) {
  const v = parseJson(body)
  const nodeId = stringField(v, 'nodeId')
  const status = stringField(v, 'status')
  if (nodeId === undefined || status === undefined) return undefined
  const conns = /** @type {{ activeConnections?: unknown }} */ (v).activeConnections
  return { nodeId: nodeId, status: status, activeConnections: typeof conns === 'number' ? conns : 0 }
}

/**
 * How to list real ids, for a local or a deployed router.
 * @param {'deployment' | 'node'} kind
 * @param {string} baseUrl
 * @returns {string}
 */
export function howToList(kind, baseUrl) {
  if (kind === 'deployment') {
    return 'Deployments are Cloud Map services of the router\'s namespace: `aws servicediscovery list-services --filters Name=NAMESPACE_ID,Values=<ns-id>` ' +
      '(the `npm start` stack has hello and echo; it prints them at start). Pass them with -e DEPLOYMENT_IDS=a,b.'
  }
  return 'List live media nodes with `curl ' + baseUrl + '/media/allocate` (repeat it: each answer names an ACTIVE node), or ' +
    '`aws servicediscovery list-instances --service-id <media service id>` (node ids are ECS task ids; `npm start` has node-1 and node-2). ' +
    'Pass them with -e NODE_IDS=a,b, or leave NODE_IDS unset to discover them through /media/allocate.'
}

/**
 * The message a run fails with when an id gets 404 from the router.
 * @param {'deployment' | 'node'} kind
 * @param {string} id
 * @param {string} url the request that failed
 * @param {number} status
 * @param {unknown} body
 * @param {string} baseUrl
 * @returns {string}
 */
export function unknownIdMessage(kind, id, url, status, body, baseUrl) {
  const code = routerErrorCode(body)
  return (kind === 'deployment' ? 'deployment' : 'media node') + ' "' + id + '" does not exist at ' + baseUrl +
    ': GET ' + url + ' -> HTTP ' + status + (code !== undefined ? ' ' + code : '') + ' (' + routerErrorText(body) + '). ' + howToList(kind, baseUrl)
}

/**
 * Checks the answer to POST <admin>/admin/drain: 202 naming `nodeId` as DRAINING.
 * @param {number} status
 * @param {unknown} body
 * @param {string} nodeId
 * @returns {string | undefined} undefined when fine, else what is wrong
 */
export function drainAnswerProblem(status, body, nodeId) {
  if (status === 401) return 'HTTP 401: wrong or missing DRAIN_TOKEN (the media node\'s ADMIN_TOKEN)'
  if (status !== 202) return 'HTTP ' + status + ' ' + routerErrorText(body) + ' (expected 202 from the media node\'s POST /admin/drain)'
  const s = nodeStatus(body)
  if (s === undefined) return 'answer is not a media node status: ' + routerErrorText(body)
  if (s.nodeId !== nodeId) return 'DRAIN_ADMIN_URL is node "' + s.nodeId + '", not "' + nodeId + '": it drained the wrong node'
  if (s.status !== 'DRAINING') return 'node reports ' + s.status + ', not DRAINING'
  return undefined
}
