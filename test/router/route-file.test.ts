// ROUTES_FILE end to end: a router with static discovery and real upstreams;
// fixed prefixes, hosts and the default route; per-route options applied;
// /admin/routes; hot reload through fs.watch (waited for by its event), a bad
// file keeping the last good table with one log line, the poll fallback on a
// fake clock; a bad file at start stops the start.
import t from 'tap'
import { once } from 'node:events'
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { loadConfig } from '../../router/src/config.js'
import { createRouter } from '../../router/src/router.js'
import { createLogger } from '../../router/src/log.js'
import type { Clock } from '../../router/src/clock.js'
import { RouteSource, type ReloadResult } from '../../router/src/routing/route-source.js'
import { RouteFileError } from '../../router/src/routing/route-file.js'
import { startUpstream, type Upstream } from '../fixtures/upstream.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { rawGet } from '../fixtures/raw-http.js'
import { ADMIN_TOKEN, startRouter, type RouterFixture } from '../fixtures/router.js'

interface Seen { name: string; url: string; headers: Record<string, string> }
function isSeen(v: unknown): v is Seen {
  return typeof v === 'object' && v !== null && 'name' in v && 'url' in v
}
async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await request(url, { headers })
  const text = await res.body.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON
  }
  return { status: res.statusCode, body }
}

/** Replace the file atomically (write + rename), as a deploy tool should. */
function replace(file: string, doc: unknown): void {
  const tmp = `${file}.tmp`
  writeFileSync(tmp, typeof doc === 'string' ? doc : JSON.stringify(doc))
  renameSync(tmp, file)
}

const ups = new Map<string, Upstream>()
let rt: RouterFixture
let routesFile = ''

const FIRST = {
  routes: [
    { name: 'gallery', path: '/api/gallery/*', service: 'gallery' },
    { name: 'admin', host: 'admin.example.com', path: '/*', service: 'admin-ui', stripPrefix: false },
    { name: 'slow', path: '/slow/*', service: 'gallery', timeouts: { headersMs: 50 } },
    { name: 'rr', path: '/rr/*', service: 'pair', balancer: 'round-robin' },
    { name: 'drain-ok', path: '/drain-ok/*', service: 'draining', drainingAcceptsHttp: true },
    { name: 'drain-no', path: '/drain-no/*', service: 'draining' },
    { name: 'web', path: '/*', service: 'web' },
  ],
}

t.before(async () => {
  for (const name of ['gallery', 'web', 'admin-ui', 'streaming', 'pair-a', 'pair-b', 'draining']) ups.set(name, await startUpstream(name))
  const port = (n: string): number => ups.get(n)?.port ?? 0
  const discovery = staticDiscoveryFile({
    gallery: [{ id: 'g1', port: port('gallery') }],
    web: [{ id: 'w1', port: port('web') }],
    'admin-ui': [{ id: 'a1', port: port('admin-ui') }],
    streaming: [{ id: 's1', port: port('streaming') }],
    pair: [{ id: 'pa', port: port('pair-a') }, { id: 'pb', port: port('pair-b') }],
    draining: [{ id: 'd1', port: port('draining'), attributes: { status: 'DRAINING' } }],
  })
  routesFile = join(mkdtempSync(join(tmpdir(), 'router-routes-')), 'routes.json')
  writeFileSync(routesFile, JSON.stringify(FIRST))
  // Watch only: every reload below is waited for by its event, never by a poll.
  rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: discovery, ROUTES_FILE: routesFile, ROUTES_POLL_MS: '0', UPSTREAM_HEADERS_TIMEOUT_MS: '60000' })
})
t.teardown(async () => {
  await rt.close()
  await Promise.all([...ups.values()].map((u) => u.close()))
})

t.test('fixed prefixes, a host and the default route reach their services', async (t) => {
  const g = await get(`${rt.url}/api/gallery/photos/1?s=2`)
  t.equal(g.status, 200)
  t.match(g.body, { name: 'gallery', url: '/photos/1?s=2', headers: { 'x-forwarded-prefix': '/api/gallery' } })
  t.match((await get(`${rt.url}/`)).body, { name: 'web', url: '/' })
  t.match((await get(`${rt.url}/api/other`)).body, { name: 'web', url: '/api/other' })
  t.match((await get(`${rt.url}/api/gallery/x`, { host: 'Admin.Example.com:8080' })).body, { name: 'admin-ui', url: '/api/gallery/x' })
  t.match((await get(`${rt.url}/services/nope/x`)).body, { code: 'TARGET_NOT_FOUND' }, 'the built-ins are still there')
  // undici would resolve the dot segment itself: sent raw.
  const dotted = await rawGet(rt.router.port(), '/api/./gallery/x')
  t.equal(dotted.status, 400)
  t.match(JSON.parse(dotted.body), { code: 'INVALID_REQUEST_TARGET' })
  const metrics = await (await request(`${rt.adminUrl}/metrics`)).body.text()
  t.match(metrics, /router_http_requests_total\{route="gallery",status_class="2xx"\}/, 'metric label is the route name')
  t.ok(rt.logs.some((l) => l.msg === 'access' && l.route === 'gallery'), 'access log names the route')
})

t.test('per-route options: headers timeout, balancer, drainingAcceptsHttp', async (t) => {
  const slow = await get(`${rt.url}/slow/hang`)
  t.equal(slow.status, 504, 'timeouts.headersMs overrides UPSTREAM_HEADERS_TIMEOUT_MS (60 s)')
  const seq: string[] = []
  for (let i = 0; i < 10; i++) {
    const r = await get(`${rt.url}/rr/x`)
    if (isSeen(r.body)) seq.push(r.body.name)
  }
  t.equal(seq.length, 10)
  t.ok(seq.every((n, i) => i === 0 || n !== seq[i - 1]), `round-robin alternates: ${seq.join(',')}`)
  t.equal((await get(`${rt.url}/drain-ok/x`)).status, 200, 'a DRAINING instance takes HTTP when the route says so')
  t.match(await get(`${rt.url}/drain-no/x`), { status: 503, body: { code: 'NO_HEALTHY_ENDPOINT', error: /service draining is DRAINING/ } })
})

t.test('/admin/routes shows the table and the file', async (t) => {
  const res = await request(`${rt.adminUrl}/admin/routes`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  const view = (await res.body.json()) as { routeFile: Record<string, unknown>; routes: Array<Record<string, unknown>> }
  t.equal(view.routeFile.file, routesFile)
  t.equal(view.routeFile.lastError, null)
  t.same(view.routes.map((r) => r.name), ['media', 'services', ...FIRST.routes.map((r) => r.name)])
  t.match(view.routes[2], { name: 'gallery', source: 'file', format: '/api/gallery/...', prefix: '/api/gallery/', reaches: 'service gallery', stripPrefix: true, balancer: 'p2c' })
  t.match(view.routes[0], { name: 'media', source: 'builtin', format: '/media/<nodeId>/...', param: 'nodeId', reaches: 'media instance {nodeId}' })
  t.match(view.routes.find((r) => r.name === 'slow'), { timeouts: { headersMs: 50 } })
})

t.test('hot reload: a change applies, a bad file keeps the last good table and logs one line', async (t) => {
  const source = rt.router.routes
  let reloaded = once(source, 'reload')
  replace(routesFile, { routes: [{ name: 'streaming', path: '/api/stream/*', service: 'streaming' }, ...FIRST.routes] })
  t.match((await reloaded)[0], { ok: true, routes: FIRST.routes.length + 3 })
  t.match((await get(`${rt.url}/api/stream/live`)).body, { name: 'streaming', url: '/live' })

  const rejectedBefore = rt.logs.filter((l) => l.msg === 'route file rejected; keeping the last good table').length
  reloaded = once(source, 'reload')
  replace(routesFile, { routes: [{ name: 'gallery', path: '/api/gallery', service: 'gallery' }] })
  const bad = (await reloaded)[0] as ReloadResult
  t.equal(bad.ok, false)
  if (!bad.ok) t.match(bad.error, /routes\[0\] "gallery": path: must start with/)
  t.match((await get(`${rt.url}/api/stream/live`)).body, { name: 'streaming' }, 'last good table still serves')
  await new Promise((r) => setImmediate(r))
  const lines = rt.logs.filter((l) => l.msg === 'route file rejected; keeping the last good table')
  t.equal(lines.length - rejectedBefore, 1, 'one log line')
  t.match(lines.at(-1), { level: 'error', file: routesFile, error: /routes\[0\] "gallery": path/ })
  const view = (await (await request(`${rt.adminUrl}/admin/routes`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body.json()) as { routeFile: { lastError: string } }
  t.match(view.routeFile.lastError, /routes\[0\] "gallery"/)

  reloaded = once(source, 'reload')
  replace(routesFile, FIRST)
  t.match((await reloaded)[0], { ok: true })
  t.match((await get(`${rt.url}/api/stream/live`)).body, { name: 'web' }, 'the streaming route is gone again')
})

/** A clock whose intervals run only when the test says so. */
class ManualClock implements Clock {
  readonly intervals = new Set<() => void>()
  now(): number {
    return 0
  }
  setTimeout(): unknown {
    throw new Error('not used')
  }
  clearTimeout(): void {}
  setInterval(fn: () => void): unknown {
    this.intervals.add(fn)
    return fn
  }
  clearInterval(h: unknown): void {
    for (const fn of this.intervals) if (fn === h) this.intervals.delete(fn)
  }
  tick(): void {
    for (const fn of this.intervals) fn()
  }
}

t.test('poll fallback (no fs.watch) on an injected clock; unchanged text is dropped', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'router-routes-')), 'routes.json')
  writeFileSync(file, JSON.stringify({ routes: [{ name: 'a', path: '/a/*', service: 'a' }] }))
  const clock = new ManualClock()
  const events: ReloadResult[] = []
  const source = new RouteSource({ file, builtins: { mediaService: 'media', stripPrefix: true, servicesBalancer: 'p2c' }, pollMs: 1000, watch: false, logger: createLogger({ write: () => undefined }), clock })
  t.teardown(() => source.close())
  source.on('reload', (r: ReloadResult) => events.push(r))
  clock.tick()
  t.same(events, [], 'same text: nothing happens')
  writeFileSync(file, JSON.stringify({ routes: [{ name: 'b', path: '/b/*', service: 'b' }] }))
  t.equal(source.table.routes.at(-1)?.name, 'a', 'not before the poll')
  clock.tick()
  t.equal(source.table.routes.at(-1)?.name, 'b')
  writeFileSync(file, '{')
  clock.tick()
  clock.tick()
  t.equal(events.length, 2, 'a bad text is reported once')
  t.match(events[1], { ok: false, error: /not valid JSON/ })
  t.equal(source.table.routes.at(-1)?.name, 'b')
  source.close()
  t.equal(clock.intervals.size, 0, 'close stops the poll')
})

t.test('a bad ROUTES_FILE at start stops the start, naming entry and field', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'router-routes-')), 'routes.json')
  writeFileSync(file, JSON.stringify({ routes: [{ name: 'x', path: '/x/*', service: 'x', balancer: 'fastest' }] }))
  const config = loadConfig({ ROUTES_FILE: file, PORT: '0', ADMIN_PORT: '0' })
  t.throws(() => createRouter(config, { logger: createLogger({ write: () => undefined }) }), RouteFileError)
  t.throws(() => createRouter(config, { logger: createLogger({ write: () => undefined }) }), /routes\[0\] "x": balancer: must be one of/)
})
