// The admin port: GET /status without a token; /admin/* only with the exact
// bearer token (401 JSON otherwise, and always when ADMIN_TOKEN is unset);
// wrong methods and unknown admin paths; the bearer check itself.

import t from 'tap'
import { bearerMatches } from '../../media-node/src/auth.js'
import { openClient, startTestNode } from './helpers.js'
import { assertPromtoolAccepts } from '../fixtures/promtool.js'

const TOKEN = 'admin-secret-9f8e7d'

async function call(port: number, method: string, path: string, authorization?: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: authorization === undefined ? {} : { authorization } })
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown }
}

t.test('GET /status on the admin port needs no token', async (t) => {
  const { node, url } = await startTestNode(t, { admin: { port: 0, token: TOKEN } })
  t.not(node.adminPort, node.port, 'a separate port')
  await openClient(t, url('/ws/x'))
  const res = await call(node.adminPort ?? 0, 'GET', '/status')
  t.equal(res.status, 200)
  t.match(res.body, { nodeId: 'node-a', status: 'ACTIVE', activeConnections: 1 })
  t.equal((await call(node.adminPort ?? 0, 'POST', '/status')).status, 405)
})

t.test('GET /metrics on the admin port: the node\'s state, and promtool accepts it', async (t) => {
  const { node, url } = await startTestNode(t, { admin: { port: 0, token: TOKEN } })
  await openClient(t, url('/ws/room-1'))
  await openClient(t, url('/ws/room-1'))
  const res = await fetch(`http://127.0.0.1:${node.adminPort ?? 0}/metrics`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain/)
  const text = await res.text()
  t.match(text, /\nmedia_node_connections 2\n/)
  t.match(text, /\nmedia_node_sessions 1\n/)
  t.match(text, /\nmedia_node_state\{state="ACTIVE"\} 1\n/)
  t.match(text, /\nmedia_node_state\{state="DRAINING"\} 0\n/)
  t.match(text, /\nmedia_node_drain_deadline_timestamp_seconds 0\n/, 'no drain yet')
  t.match(text, /\nmedia_node_websockets_opened_total 2\n/)
  t.match(text, /\nprocess_cpu_user_seconds_total \d/, 'default process metrics are there')
  t.notMatch(text, /^nodejs_active_(handles|requests|resources)_total /m, 'no gauge with a counter\'s suffix')
  assertPromtoolAccepts(t, text, "the media node's /metrics")
  t.equal((await call(node.adminPort ?? 0, 'POST', '/metrics')).status, 405)
})

t.test('GET /metrics counts WebSockets closed by code and side; client-chosen codes collapse to "other"; a drain shows its deadline', async (t) => {
  const { node, url } = await startTestNode(t, { admin: { port: 0, token: TOKEN } })
  const port = node.adminPort ?? 0
  const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const codes = [1000, 4001, 4999, 1000]
  for (const code of codes) (await openClient(t, url('/ws/room-2'))).close(code)
  // The node counts a close when its side of the handshake ends: poll (bounded) until all four are in.
  let text = ''
  for (let i = 0; i < 200; i++) {
    text = await scrape()
    if (/\nmedia_node_connections 0\n/.test(text)) break
    await new Promise((r) => setTimeout(r, 25))
  }
  t.match(text, /\nmedia_node_websockets_opened_total 4\n/)
  t.match(text, /\nmedia_node_websockets_closed_total\{code="1000",closed_by="client"\} 2\n/)
  t.match(text, /\nmedia_node_websockets_closed_total\{code="other",closed_by="client"\} 2\n/)
  t.notMatch(text, /code="4001"|code="4999"/, 'application codes are not labels')
  assertPromtoolAccepts(t, text, "the media node's /metrics after closes")

  await openClient(t, url('/ws/room-3'))
  const before = Date.now() / 1000
  t.equal((await call(port, 'POST', '/admin/drain', `Bearer ${TOKEN}`)).status, 202)
  const drained = await scrape()
  t.match(drained, /\nmedia_node_state\{state="DRAINING"\} 1\n/)
  const deadline = Number(/\nmedia_node_drain_deadline_timestamp_seconds (\S+)\n/.exec(drained)?.[1])
  t.ok(deadline > before, `the drain deadline (${deadline}) is in the future`)
})

t.test('/admin/* without the right bearer token: 401 JSON, nothing happens', async (t) => {
  const { node } = await startTestNode(t, { admin: { port: 0, token: TOKEN } })
  const port = node.adminPort ?? 0
  for (const [name, header] of [
    ['no header', undefined],
    ['wrong token', 'Bearer admin-secret-9f8e7e'],
    ['prefix of the token', 'Bearer admin-secret'],
    ['token plus more', `Bearer ${TOKEN}x`],
    ['empty bearer', 'Bearer '],
    ['basic scheme', `Basic ${TOKEN}`],
    ['token without scheme', TOKEN],
  ] as const) {
    for (const path of ['/admin/drain', '/admin/force-close', '/admin/unknown']) {
      const res = await call(port, 'POST', path, header)
      t.equal(res.status, 401, `${name} ${path}`)
      t.match(res.body, { code: 'UNAUTHORIZED', error: 'missing or wrong bearer token' })
      t.match(res.headers.get('www-authenticate'), /^Bearer /)
    }
  }
  t.equal(node.status().status, 'ACTIVE', 'no drain happened')
})

t.test('with the token: wrong method 405, unknown admin path 404, lower-case scheme accepted', async (t) => {
  const { node } = await startTestNode(t, { admin: { port: 0, token: TOKEN } })
  const port = node.adminPort ?? 0
  const get = await call(port, 'GET', '/admin/drain', `Bearer ${TOKEN}`)
  t.equal(get.status, 405)
  t.equal(get.headers.get('allow'), 'POST')
  t.equal((await call(port, 'POST', '/admin/nope', `Bearer ${TOKEN}`)).status, 404)
  t.equal((await call(port, 'GET', '/nope')).status, 404)
  t.equal(node.status().status, 'ACTIVE')
  const drained = await call(port, 'POST', '/admin/drain', `bearer ${TOKEN}`)
  t.equal(drained.status, 202)
  await node.whenClosed()
})

t.test('without ADMIN_TOKEN every /admin/* request is 401', async (t) => {
  const { node } = await startTestNode(t, { admin: { port: 0, token: undefined } })
  const res = await call(node.adminPort ?? 0, 'POST', '/admin/drain', 'Bearer anything')
  t.equal(res.status, 401)
  t.match(res.body, { code: 'UNAUTHORIZED', error: /ADMIN_TOKEN is not set/ })
  t.equal(node.status().status, 'ACTIVE')
  t.equal((await call(node.adminPort ?? 0, 'GET', '/status')).status, 200, '/status still works')
})

t.test('the admin port must differ from the WebSocket port', async (t) => {
  await t.rejects(startTestNode(t, { port: 18_181, admin: { port: 18_181, token: TOKEN } }), { name: 'ConfigError', message: /admin.port/ })
})

t.test('bearerMatches', async (t) => {
  const cases: [string | undefined, string | undefined, boolean][] = [
    [`Bearer ${TOKEN}`, TOKEN, true],
    [`bearer   ${TOKEN}  `, TOKEN, true],
    [`Bearer ${TOKEN}`, undefined, false],
    [`Bearer ${TOKEN}`, '', false],
    [undefined, TOKEN, false],
    ['Bearer', TOKEN, false],
    ['Bearer ', '', false],
    [`Bearer ${TOKEN} extra`, TOKEN, false],
    [`Bearer ${TOKEN.toUpperCase()}`, TOKEN, false],
  ]
  for (const [header, token, want] of cases) t.equal(bearerMatches(header, token), want, `${String(header)} vs ${String(token)}`)
})
