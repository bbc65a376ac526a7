// Refused upgrades and plain HTTP: real `HTTP/1.1 <status>` responses with a
// JSON {error, code} body on the raw socket, which the node then closes;
// /status, /health and /ready; 503 + Retry-After while DRAINING (not on /health).

import t from 'tap'
import { getJson, openClient, parseResponse, rawExchange, startTestNode, upgradeRequest } from './helpers.js'

const refusals: { name: string; request: string; status: number; code: string }[] = [
  { name: 'invalid characters in session id', request: upgradeRequest('/ws/bad%20id'), status: 400, code: 'INVALID_SESSION_ID' },
  { name: 'session id with a slash', request: upgradeRequest('/ws/a/b'), status: 400, code: 'INVALID_SESSION_ID' },
  { name: 'empty session id', request: upgradeRequest('/ws/'), status: 400, code: 'INVALID_SESSION_ID' },
  { name: 'session id too long', request: upgradeRequest(`/ws/${'x'.repeat(129)}`), status: 400, code: 'INVALID_SESSION_ID' },
  { name: 'unknown path', request: upgradeRequest('/chat/abc'), status: 404, code: 'NOT_FOUND' },
  { name: 'prefix of another node', request: upgradeRequest('/media/node-b/ws/abc'), status: 404, code: 'NOT_FOUND' },
  { name: 'bad Sec-WebSocket-Key', request: upgradeRequest('/ws/abc', { 'Sec-WebSocket-Key': 'nope' }), status: 400, code: 'BAD_UPGRADE' },
  { name: 'unsupported version', request: upgradeRequest('/ws/abc', { 'Sec-WebSocket-Version': '7' }), status: 400, code: 'BAD_UPGRADE' },
]

t.test('refused upgrades get an HTTP status and JSON body on the raw socket, then the socket closes', async (t) => {
  const { node } = await startTestNode(t)
  for (const c of refusals) {
    const { response, closedByServer } = await rawExchange(node.port, c.request)
    const { statusLine, headers, body } = parseResponse(response)
    t.equal(statusLine.split(' ')[0], 'HTTP/1.1', `${c.name}: HTTP/1.1`)
    t.equal(Number(statusLine.split(' ')[1]), c.status, `${c.name}: status`)
    t.match(headers['content-type'], /^application\/json/, `${c.name}: JSON`)
    t.equal(Number(headers['content-length']), Buffer.byteLength(body), `${c.name}: content-length`)
    t.match(JSON.parse(body), { code: c.code, error: String }, `${c.name}: body`)
    t.ok(closedByServer, `${c.name}: closed by the server`)
  }
  t.equal(node.status().activeConnections, 0)
})

t.test('a malformed request gets a JSON 400 too', async (t) => {
  const { node } = await startTestNode(t)
  const { response } = await rawExchange(node.port, 'NOT HTTP AT ALL\r\n\r\n')
  const { statusLine, body } = parseResponse(response)
  t.match(statusLine, /^HTTP\/1\.1 400 /)
  t.match(JSON.parse(body), { code: 'BAD_REQUEST' })
})

t.test('bad session id: exact response line', async (t) => {
  const { node } = await startTestNode(t)
  const { response } = await rawExchange(node.port, upgradeRequest('/ws/bad!id'))
  t.match(response, /^HTTP\/1\.1 400 Bad Request\r\n/)
  t.match(response, /\r\nconnection: close\r\n/i)
})

t.test('the router-stripped path and the full /media/<nodeId> path both upgrade', async (t) => {
  const { url } = await startTestNode(t)
  await openClient(t, url('/ws/abc'))
  await openClient(t, url('/media/node-a/ws/abc?echo=1'))
})

t.test('GET /status and /health', async (t) => {
  const { node, url } = await startTestNode(t)
  await openClient(t, url('/ws/one'))
  await openClient(t, url('/ws/one'))
  await openClient(t, url('/ws/two'))
  const status = await getJson(node.port, '/status')
  t.equal(status.status, 200)
  t.match(status.body, { nodeId: 'node-a', status: 'ACTIVE', activeConnections: 3, sessions: 2 })
  const body = status.body as { startedAt: string }
  t.ok(!Number.isNaN(Date.parse(body.startedAt)), 'startedAt is a date')
  const health = await getJson(node.port, '/health')
  t.equal(health.status, 200)
  t.match(health.body, { status: 'ok' })
})

t.test('plain HTTP refusals have JSON bodies', async (t) => {
  const { node } = await startTestNode(t)
  const missing = await getJson(node.port, '/nope')
  t.equal(missing.status, 404)
  t.match(missing.body, { code: 'NOT_FOUND' })
  const noUpgrade = await getJson(node.port, '/ws/abc')
  t.equal(noUpgrade.status, 426)
  t.match(noUpgrade.body, { code: 'UPGRADE_REQUIRED' })
  const res = await fetch(`http://127.0.0.1:${node.port}/status`, { method: 'POST' })
  t.equal(res.status, 405)
  t.match(await res.json(), { code: 'METHOD_NOT_ALLOWED' })
})

t.test('DRAINING: upgrades get 503 + Retry-After, /ready 503, /health stays 200 (liveness), open connections stay', async (t) => {
  const { node, url } = await startTestNode(t, { retryAfterSeconds: 7 })
  const open = await openClient(t, url('/ws/stay'))
  t.equal((await getJson(node.port, '/ready')).status, 200, 'ready while ACTIVE')
  await node.startDraining()
  const { response } = await rawExchange(node.port, upgradeRequest('/ws/new'))
  const { statusLine, headers, body } = parseResponse(response)
  t.match(statusLine, /^HTTP\/1\.1 503 Service Unavailable$/)
  t.equal(headers['retry-after'], '7')
  t.match(JSON.parse(body), { code: 'NODE_UNAVAILABLE' })
  const ready = await getJson(node.port, '/ready')
  t.equal(ready.status, 503)
  t.equal(ready.headers.get('retry-after'), '7')
  t.match(ready.body, { code: 'NODE_UNAVAILABLE', status: 'DRAINING' })
  // The ECS container health check uses /health: a draining node must not be replaced for failing it.
  const health = await getJson(node.port, '/health')
  t.equal(health.status, 200)
  t.match(health.body, { status: 'ok', nodeStatus: 'DRAINING' })
  t.match((await getJson(node.port, '/status')).body, { status: 'DRAINING', activeConnections: 1 })
  t.equal(open.readyState, open.OPEN, 'existing connection still open')
})
