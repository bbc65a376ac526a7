// The admin dashboard's HTTP contract with a real HTTP client (undici) against
// a real router (static discovery) and real media nodes (their admin API on
// its own port): login form → HttpOnly session cookie scoped to /admin (Secure
// behind HTTPS), the session opens the JSON endpoints like the bearer token
// does, POSTs on a session need its CSRF token and a same-origin Origin, the
// drain action reaches the node's admin API at the address discovery gave,
// logout ends the session, and each refusal has its status and code.
import t, { type Test } from 'tap'
import { request } from 'undici'
import WebSocket from 'ws'
import { startMediaNode, type MediaNode } from '../../media-node/src/index.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { ADMIN_TOKEN, startRouter, type RouterFixture } from '../fixtures/router.js'

const NODE_TOKEN = 'node-admin-token-for-tests'

interface Stack {
  readonly rt: RouterFixture
  readonly nodes: Record<string, MediaNode>
}

async function stack(t: Test, env: Record<string, string> = {}): Promise<Stack> {
  const nodes: Record<string, MediaNode> = {}
  for (const id of ['node-a', 'node-b', 'node-c']) {
    const node = await startMediaNode({ nodeId: id, host: '127.0.0.1', port: 0, registration: false, admin: { port: 0, token: NODE_TOKEN } })
    nodes[id] = node
    t.teardown(() => node.close())
  }
  const [nodeA, nodeB, nodeC] = [nodes['node-a'], nodes['node-b'], nodes['node-c']]
  if (nodeA === undefined || nodeB === undefined || nodeC === undefined) throw new Error('nodes not started')
  const attrs = (n: MediaNode, extra: Record<string, string> = {}): Record<string, string> => ({ status: 'ACTIVE', admin_port: String(n.adminPort), ...extra })
  const file = staticDiscoveryFile({
    media: [
      { id: 'node-a', port: nodeA.port, attributes: attrs(nodeA) },
      { id: 'node-b', port: nodeB.port, attributes: attrs(nodeB) },
      // No admin_port: the drain action cannot reach it.
      { id: 'node-c', port: nodeC.port, attributes: { status: 'ACTIVE' } },
    ],
  })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, MEDIA_ADMIN_TOKEN: NODE_TOKEN, ...env })
  t.teardown(() => rt.close())
  return { rt, nodes }
}

interface Login {
  readonly cookie: string
  readonly setCookie: string
  readonly csrf: string
}

async function login(adminUrl: string, headers: Record<string, string> = {}): Promise<Login> {
  const r = await request(`${adminUrl}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: adminUrl, ...headers },
    body: `token=${encodeURIComponent(ADMIN_TOKEN)}`,
  })
  await r.body.text()
  if (r.statusCode !== 303) throw new Error(`login answered ${r.statusCode}`)
  const setCookie = String(r.headers['set-cookie'])
  const cookie = setCookie.split(';')[0] ?? ''
  const page = await request(`${adminUrl}/admin/`, { headers: { cookie } })
  const html = await page.body.text()
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1]
  if (csrf === undefined) throw new Error('no CSRF token in the dashboard page')
  return { cookie, setCookie, csrf }
}

async function json(r: { body: { text(): Promise<string> } }): Promise<Record<string, unknown>> {
  return JSON.parse(await r.body.text()) as Record<string, unknown>
}

t.test('login form, cookie flags, session on the JSON endpoints, logout', async (t) => {
  const { rt } = await stack(t)
  const a = rt.adminUrl

  const page = await request(`${a}/admin/`)
  t.equal(page.statusCode, 303, 'no session: redirect')
  t.equal(page.headers.location, '/admin/login')
  await page.body.text()
  const form = await request(`${a}/admin/login`)
  t.equal(form.statusCode, 200)
  t.match(form.headers['content-security-policy'], /script-src 'self'/)
  t.match(await form.body.text(), /<form method="post" action="\/admin\/login"/)

  const wrong = await request(`${a}/admin/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: a }, body: 'token=wrong-token-wrong-token' })
  t.equal(wrong.statusCode, 401, 'a wrong token: 401')
  t.equal(wrong.headers['set-cookie'], undefined, 'and no cookie')
  t.match(await wrong.body.text(), /Wrong token/)

  const foreign = await request(`${a}/admin/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' }, body: `token=${ADMIN_TOKEN}` })
  t.equal(foreign.statusCode, 403, 'a login posted from another origin is refused (login CSRF)')
  t.match(await json(foreign), { code: 'CSRF_ORIGIN' })

  const asJson = await request(`${a}/admin/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: a }, body: JSON.stringify({ token: ADMIN_TOKEN }) })
  t.equal(asJson.statusCode, 415)
  t.match(await json(asJson), { code: 'UNSUPPORTED_MEDIA_TYPE' })

  const s = await login(a)
  t.match(s.setCookie, /^router_admin=[A-Za-z0-9_-]{43}; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=43200$/, 'HttpOnly, SameSite=Strict, scoped to /admin, no Secure over plain HTTP')

  const state = await request(`${a}/admin/api/state`, { headers: { cookie: s.cookie } })
  t.equal(state.statusCode, 200, 'the session opens /admin/api/state')
  const view = await json(state)
  t.match(view, { processes: 1, router: { discovery: 'static', mediaService: 'media' }, actions: { drain: true } })
  t.same((view.nodes as Array<{ id: string }>).map((n) => n.id), ['node-a', 'node-b', 'node-c'])
  t.match(view.nodes, [{ id: 'node-a', status: 'ACTIVE', statusSource: 'node', drainable: true }, { id: 'node-b' }, { id: 'node-c', adminPort: null, drainable: false }])

  const routesByCookie = await request(`${a}/admin/routes`, { headers: { cookie: s.cookie } })
  t.equal(routesByCookie.statusCode, 200, 'and /admin/routes')
  await routesByCookie.body.text()
  const routesByBearer = await request(`${a}/admin/routes`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(routesByBearer.statusCode, 200, 'Authorization: Bearer keeps working')
  t.match(await json(routesByBearer), { routes: [{ name: 'media' }, { name: 'services' }] })
  const stateByBearer = await request(`${a}/admin/api/state`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(stateByBearer.statusCode, 200, 'the state endpoint takes the bearer token too')
  await stateByBearer.body.text()
  const forged = await request(`${a}/admin/api/state`, { headers: { cookie: 'router_admin=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } })
  t.equal(forged.statusCode, 401, 'an unknown session id is refused')
  t.match(await json(forged), { code: 'UNAUTHORIZED' })

  const noCsrf = await request(`${a}/admin/logout`, { method: 'POST', headers: { cookie: s.cookie, origin: a, 'content-type': 'application/x-www-form-urlencoded' }, body: '' })
  t.equal(noCsrf.statusCode, 403, 'logout without the CSRF token is refused')
  t.match(await json(noCsrf), { code: 'CSRF_TOKEN' })
  const out = await request(`${a}/admin/logout`, { method: 'POST', headers: { cookie: s.cookie, origin: a, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${s.csrf}` })
  t.equal(out.statusCode, 303)
  t.equal(out.headers.location, '/admin/login')
  t.match(String(out.headers['set-cookie']), /^router_admin=; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=0/, 'the cookie is cleared')
  await out.body.text()
  const after = await request(`${a}/admin/api/state`, { headers: { cookie: s.cookie } })
  t.equal(after.statusCode, 401, 'the session is gone server-side, not only in the browser')
  await after.body.text()
})

t.test('Secure cookie behind an HTTPS proxy', async (t) => {
  const { rt } = await stack(t)
  const s = await login(rt.adminUrl, { 'x-forwarded-proto': 'https', origin: rt.adminUrl.replace('http:', 'https:') })
  t.match(s.setCookie, /; Secure$/, 'Secure when the admin port is reached over HTTPS')
})

t.test('drain: CSRF and Origin on a session, bearer without, errors by code', async (t) => {
  const { rt, nodes } = await stack(t)
  const a = rt.adminUrl
  // A session on each node to drain, so it stays DRAINING (an idle node drains and stops at once).
  for (const n of [nodes['node-a'], nodes['node-b']]) {
    const ws = new WebSocket(`ws://127.0.0.1:${n?.port ?? 0}/ws/held`)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    t.teardown(() => ws.terminate())
  }
  const s = await login(a)
  const drain = (id: string, headers: Record<string, string>) => request(`${a}/admin/api/nodes/${id}/drain`, { method: 'POST', headers })

  const noToken = await drain('node-a', { cookie: s.cookie, origin: a })
  t.equal(noToken.statusCode, 403, 'no CSRF token')
  t.match(await json(noToken), { code: 'CSRF_TOKEN' })
  const badToken = await drain('node-a', { cookie: s.cookie, origin: a, 'x-csrf-token': `${s.csrf.slice(0, -1)}x` })
  t.equal(badToken.statusCode, 403, 'a wrong CSRF token')
  t.match(await json(badToken), { code: 'CSRF_TOKEN' })
  const crossSite = await drain('node-a', { cookie: s.cookie, origin: 'http://evil.example', 'x-csrf-token': s.csrf })
  t.equal(crossSite.statusCode, 403, 'another origin, even with the token')
  t.match(await json(crossSite), { code: 'CSRF_ORIGIN' })
  const noOrigin = await drain('node-a', { cookie: s.cookie, 'x-csrf-token': s.csrf })
  t.equal(noOrigin.statusCode, 403, 'no Origin or Referer on a cookie POST')
  t.match(await json(noOrigin), { code: 'CSRF_ORIGIN' })
  const anonymous = await drain('node-a', { origin: a })
  t.equal(anonymous.statusCode, 401)
  await anonymous.body.text()
  t.equal(nodes['node-a']?.status().status, 'ACTIVE', 'none of those reached the node')

  const ok = await drain('node-a', { cookie: s.cookie, origin: a, 'x-csrf-token': s.csrf })
  t.equal(ok.statusCode, 202, 'session + CSRF token + same origin: drained')
  t.match(await json(ok), { nodeId: 'node-a', status: 'DRAINING' })
  t.equal(nodes['node-a']?.status().status, 'DRAINING', 'the node got POST /admin/drain')

  const bearer = await drain('node-b', { authorization: `Bearer ${ADMIN_TOKEN}` })
  t.equal(bearer.statusCode, 202, 'the bearer token needs no CSRF token (a browser never sends it by itself)')
  await bearer.body.text()
  t.equal(nodes['node-b']?.status().status, 'DRAINING')

  const noAdmin = await drain('node-c', { authorization: `Bearer ${ADMIN_TOKEN}` })
  t.equal(noAdmin.statusCode, 409, 'a node without the admin_port attribute')
  t.match(await json(noAdmin), { code: 'NO_ADMIN_ADDRESS' })
  const unknown = await drain('node-z', { authorization: `Bearer ${ADMIN_TOKEN}` })
  t.equal(unknown.statusCode, 404)
  t.match(await json(unknown), { code: 'TARGET_NOT_FOUND' })
  const bad = await drain('Node.A', { authorization: `Bearer ${ADMIN_TOKEN}` })
  t.equal(bad.statusCode, 400)
  t.match(await json(bad), { code: 'INVALID_TARGET' })
  const get = await request(`${a}/admin/api/nodes/node-a/drain`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(get.statusCode, 405)
  t.equal(get.headers.allow, 'POST')
  await get.body.text()

  const view = await json(await request(`${a}/admin/api/state`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }))
  t.match(view.nodes, [{ id: 'node-a', status: 'DRAINING', statusSource: 'node', connections: 1 }, { id: 'node-b', status: 'DRAINING' }, { id: 'node-c', status: 'ACTIVE' }], 'the state shows what the nodes say')
})

t.test('drain with a wrong node token, and with none configured', async (t) => {
  const wrong = await stack(t, { MEDIA_ADMIN_TOKEN: 'not-the-node-token' })
  const r = await request(`${wrong.rt.adminUrl}/admin/api/nodes/node-a/drain`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(r.statusCode, 502, "the node refused the router's token")
  t.match(await json(r), { code: 'NODE_ADMIN_UNAUTHORIZED' })
  t.equal(wrong.nodes['node-a']?.status().status, 'ACTIVE')

  const { rt } = await stack(t, { MEDIA_ADMIN_TOKEN: '' })
  const off = await request(`${rt.adminUrl}/admin/api/nodes/node-a/drain`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(off.statusCode, 503, 'MEDIA_ADMIN_TOKEN unset: the action is off')
  t.match(await json(off), { code: 'ACTION_DISABLED' })
  const view = await json(await request(`${rt.adminUrl}/admin/api/state`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }))
  t.match(view, { actions: { drain: false }, nodes: [{ drainable: false }, { drainable: false }, { drainable: false }] })
})

t.test('static files: no auth, no framework, only their own origin', async (t) => {
  const { rt } = await stack(t)
  const js = await request(`${rt.adminUrl}/admin/assets/app.js`)
  t.equal(js.statusCode, 200)
  t.match(js.headers['content-type'], /^text\/javascript/)
  const code = await js.body.text()
  t.match(code, /\/admin\/api\/state/)
  t.notMatch(code, /https?:\/\//, 'nothing loaded from elsewhere')
  const css = await request(`${rt.adminUrl}/admin/assets/style.css`)
  t.equal(css.statusCode, 200)
  t.match(css.headers['content-type'], /^text\/css/)
  await css.body.text()
  const missing = await request(`${rt.adminUrl}/admin/assets/other.js`)
  t.equal(missing.statusCode, 401, 'anything else under /admin needs auth first')
  await missing.body.text()
})
