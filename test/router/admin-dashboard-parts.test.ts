// The admin dashboard's pure parts, table-driven with a fake clock: the
// Prometheus text reader, counter rates over a sliding window, sessions
// (lifetime, bound, cookie parsing), the snapshot parser for IPC input, how
// the state merges snapshots (no double count of a node within a process),
// and the blue/green app rows merged from several processes' registry answers.
import t from 'tap'
import { readSamples } from '../../router/src/admin/prom-text.js'
import { RateWindow } from '../../router/src/admin/rates.js'
import { SessionStore, csrfMatches, sessionCookie, sessionIdFromCookie } from '../../router/src/admin/sessions.js'
import { parseSnapshot } from '../../router/src/admin/snapshot.js'
import { RouterMetrics } from '../../router/src/admin/metrics.js'
import { DashboardState } from '../../router/src/admin/dashboard-state.js'
import { NodeAdmin } from '../../router/src/admin/node-admin.js'
import type { RouterSnapshot, SnapshotApp } from '../../router/src/admin/snapshot.js'
import { appRows } from '../../router/src/admin/app-rows.js'

t.test('readSamples reads the router exposition', async (t) => {
  const m = new RouterMetrics({ defaultMetrics: false })
  m.observeRequest('services', 200, 0.01)
  m.observeRequest('services', 502, 0.01)
  m.observeRequest('media', 404, 0.01)
  m.wsActive.labels('media').set(3)
  const text = await m.registry.metrics()
  const samples = readSamples(text, new Set(['router_http_requests_total', 'router_websockets_active']))
  t.same(
    samples.filter((s) => s.name === 'router_http_requests_total').map((s) => [s.labels['route'], s.labels['status_class'], s.value]).sort(),
    [['media', '4xx', 1], ['services', '2xx', 1], ['services', '5xx', 1]],
  )
  t.same(samples.filter((s) => s.name === 'router_websockets_active').map((s) => [s.labels['route'], s.value]), [['media', 3]])
  const odd = readSamples('x{a="q\\"uo\\\\te",b="n\\nl"} 1.5e3 1700000000\nx 2\nx{broken 3\nx +Inf\ny 4\n# x 5', new Set(['x']))
  t.same(odd, [
    { name: 'x', labels: { a: 'q"uo\\te', b: 'n\nl' }, value: 1500 },
    { name: 'x', labels: {}, value: 2 },
    { name: 'x', labels: {}, value: Infinity },
  ], 'escapes, timestamps, unlabelled; a broken line and other names skipped')
})

t.test('RateWindow: rates over the window, counter resets, one reading', async (t) => {
  let now = 0
  const w = new RateWindow({ windowMs: 10_000, now: () => now })
  t.same([...w.observe(new Map([['a', 100]]))], [['a', undefined]], 'one reading: no rate yet')
  now = 1000
  t.same([...w.observe(new Map([['a', 110], ['b', 5]]))], [['a', 10], ['b', 5]], 'a new key counted from 0')
  now = 2000
  t.same([...w.observe(new Map([['a', 130], ['b', 5]]))], [['a', 15], ['b', 2.5]], 'averaged since the oldest reading')
  now = 12_500
  t.same([...w.observe(new Map([['a', 230], ['b', 5]]))], [['a', 100 / 10.5], ['b', 0]], 'readings before the window dropped, the newest older one kept as base')
  now = 13_500
  t.same([...w.observe(new Map([['a', 7], ['b', 5]]))], [['a', 7 / 11.5], ['b', 0]], 'a counter that went down (restarted worker) counts from zero')
})

t.test('sessions: lifetime, bound, lookup, cookie', async (t) => {
  let now = 1_000_000
  const store = new SessionStore({ ttlMs: 60_000, max: 2, now: () => now })
  const a = store.create()
  t.match(a.id, /^[A-Za-z0-9_-]{43}$/)
  t.not(a.id, a.csrf)
  t.equal(store.get(a.id), a)
  t.equal(store.get(`${a.id}x`), undefined)
  t.equal(store.get(undefined), undefined)
  now += 59_999
  t.equal(store.get(a.id), a, 'alive until its lifetime ends')
  now += 1
  t.equal(store.get(a.id), undefined, 'then gone')
  const b = store.create()
  const c = store.create()
  const d = store.create()
  t.equal(store.get(b.id), undefined, 'over the bound the oldest goes')
  t.ok(store.get(c.id) !== undefined && store.get(d.id) !== undefined)
  store.delete(c.id)
  t.equal(store.get(c.id), undefined)
  t.ok(csrfMatches(d.csrf, d))
  t.notOk(csrfMatches(c.csrf, d))
  t.notOk(csrfMatches(undefined, d))
  t.notOk(csrfMatches('', d))
  t.equal(sessionIdFromCookie(`x=1; router_admin=${d.id}; y=2`), d.id)
  t.equal(sessionIdFromCookie('router_admin=bad value'), undefined)
  t.equal(sessionIdFromCookie(undefined), undefined)
  t.equal(sessionCookie('abc', 3600, true), 'router_admin=abc; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=3600; Secure')
})

t.test('parseSnapshot keeps what it can read of a worker message', async (t) => {
  t.equal(parseSnapshot(null), undefined)
  t.equal(parseSnapshot({ pid: 1 }), undefined)
  const s = parseSnapshot({
    pid: 7, namespace: 'ns', discovery: 'dns', balancer: 'p2c', mediaService: 'media', serving: true,
    routes: [{ name: 'media', format: '/media/<nodeId>/...' }, { noName: true }],
    ejected: [{ endpoint: '10.0.0.1:80', untilMs: 5, ejections: 1 }, { endpoint: 3 }],
    targets: [
      { key: 'service:media', notFound: false, stale: false, ageMs: 3, endpoints: [{ id: 'n1', host: '10.0.0.1', port: 80, attributes: { status: 'ACTIVE', n: 5 }, inFlight: 2, ejected: false }, { id: 'bad' }] },
      { key: 7, endpoints: [] },
    ],
  })
  t.same(s, {
    pid: 7, namespace: 'ns', discovery: 'dns', balancer: 'p2c', mediaService: 'media', serving: true,
    routes: [{ name: 'media', format: '/media/<nodeId>/...' }],
    ejected: [{ endpoint: '10.0.0.1:80', untilMs: 5, ejections: 1 }],
    targets: [{ key: 'service:media', notFound: false, stale: false, ageMs: 3, endpoints: [{ id: 'n1', host: '10.0.0.1', port: 80, attributes: { status: 'ACTIVE' }, inFlight: 2, ejected: false }] }],
  })
})

t.test('DashboardState: a node in the media service and its own lookup counts once per process', async (t) => {
  const nodes = new NodeAdmin({ token: undefined, timeoutMs: 500 })
  t.teardown(() => nodes.close())
  const endpoint = { id: 'n1', host: '127.0.0.1', port: 1, attributes: { status: 'ACTIVE', admin_port: '2' }, inFlight: 2, ejected: false }
  const snap = (pid: number): RouterSnapshot => ({
    pid, namespace: 'ns', discovery: 'static', balancer: 'p2c', mediaService: 'media', serving: true, routes: [{ name: 'media' }], ejected: [],
    targets: [
      { key: 'service:media', notFound: false, stale: false, ageMs: 1, endpoints: [endpoint] },
      { key: 'instance:media/n1', notFound: false, stale: false, ageMs: 1, endpoints: [endpoint] },
      { key: 'service:app', notFound: false, stale: false, ageMs: 1, endpoints: [{ ...endpoint, id: 'app-1', inFlight: 1 }] },
      // A blue/green registry (markers, not a deployment) and a route's own record type in the key.
      { key: 'service:_deployments.web@SRV', notFound: false, stale: false, ageMs: 1, endpoints: [{ ...endpoint, id: 'current-1.web-a' }] },
      { key: 'service:web-a@SRV', notFound: false, stale: false, ageMs: 1, endpoints: [{ ...endpoint, id: 'web-a-1', inFlight: 0 }] },
    ],
  })
  let processes = 1
  const state = new DashboardState({ snapshots: async () => Array.from({ length: processes }, (_, i) => snap(100 + i)), renderMetrics: async () => '', nodes })
  const one = await state.view()
  t.match(one.nodes, [{ id: 'n1', inFlight: 2, adminPort: 2, status: 'ACTIVE', statusSource: 'discovery', answering: false, drainable: false }], 'one process: its count')
  t.match(one.deployments, [{ id: 'app', instances: 1, endpoints: [{ id: 'app-1', inFlight: 1 }] }, { id: 'web-a', instances: 1 }])
  t.equal(one.deployments.length, 2, 'the registry is no deployment; `@SRV` is not part of the id')
  processes = 2
  const two = await state.view()
  t.match(two.nodes, [{ id: 'n1', inFlight: 4 }], 'two workers: the sum of their counts')
  t.match(two.deployments, [{ id: 'app', instances: 1, endpoints: [{ id: 'app-1', inFlight: 2 }] }, { id: 'web-a' }], 'the same instance from two workers is one row')
  t.equal(two.processes, 2)
})

t.test('appRows: the freshest registry answer wins, deployments merged across processes, drains by the wall clock', async (t) => {
  const NOW = Date.parse('2026-12-01T10:00:00Z')
  const ep = (id: string, attributes: Record<string, string> = {}, inFlight = 0, ejected = false) => ({ id, host: '10.0.0.1', port: 80, attributes, inFlight, ejected })
  const answer = (ids: string[], ageMs: number, extra: { notFound?: boolean; stale?: boolean; error?: string } = {}) => ({
    endpoints: ids.map((id) => ep(id)),
    notFound: extra.notFound ?? false,
    stale: extra.stale ?? false,
    ageMs,
    ...(extra.error !== undefined ? { error: extra.error } : {}),
  })
  const snap = (pid: number, apps: SnapshotApp[]): RouterSnapshot => ({ pid, namespace: 'ns', discovery: 'cloudmap', balancer: 'p2c', mediaService: 'media', serving: true, routes: [], ejected: [], targets: [], apps })
  const deadlineSoon = Math.floor(NOW / 1000) + 600
  const deadlinePast = Math.floor(NOW / 1000) - 1
  // Process 1 holds an older registry answer (A current); process 2 already saw the switch to B.
  const p1: SnapshotApp = {
    app: 'web', routes: ['web'],
    registry: answer(['a', 'b', 'current-1.a'], 900),
    deployments: [
      { id: 'a', ...answer([], 100), endpoints: [ep('a-1', { healthStatus: 'HEALTHY' }, 2), ep('a-2', { healthStatus: 'UNHEALTHY' })] },
      { id: 'b', ...answer([], 100), endpoints: [ep('b-1', {}, 1)] },
    ],
  }
  const p2: SnapshotApp = {
    app: 'web', routes: ['web-ws'],
    registry: answer(['a', 'b', 'current-2.b', `c.drain-${deadlineSoon}`, `d.drain-${deadlinePast}`], 50),
    deployments: [
      { id: 'a', ...answer([], 40), endpoints: [ep('a-1', { healthStatus: 'HEALTHY' }, 3, true)] },
      { id: 'b', ...answer([], 40, { stale: true }), endpoints: [ep('b-1', {}, 1)] },
      { id: 'c', ...answer([], 40), endpoints: [ep('c-1', { status: 'DRAINING' })] },
      { id: 'd', ...answer([], 0, { notFound: true }) },
    ],
  }
  const shop: SnapshotApp = { app: 'shop', routes: ['shop'], registry: answer([], 0, { notFound: true }), deployments: [] }
  const down: SnapshotApp = { app: 'down', routes: ['down'], registry: answer([], 0, { error: 'DNS timeout' }), deployments: [] }
  const rows = appRows([snap(1, [p1, shop]), snap(2, [p2, down])], NOW)
  t.same(rows.map((r) => [r.app, r.registryStatus, r.current]), [['web', 'ok', 'b'], ['shop', 'missing', null], ['down', 'error', null]])
  const web = rows[0]
  t.same(web?.routes, ['web', 'web-ws'])
  t.equal(web?.registryAgeMs, 50, "the freshest answer's age")
  t.same(web?.deployments.map((d) => d.id), ['b', 'a', 'c', 'd'], 'current first, then by id')
  t.match(web?.deployments, [
    { id: 'b', current: true, drainDeadline: null, instances: 1, inFlight: 2, stale: true, ageMs: 40 },
    { id: 'a', current: false, instances: 2, healthy: 1, unhealthy: 1, ejected: 1, usable: 0, inFlight: 5, endpoints: [{ id: 'a-1', inFlight: 5, ejected: true, health: 'HEALTHY' }, { id: 'a-2', health: 'UNHEALTHY' }] },
    { id: 'c', drainDeadline: new Date(deadlineSoon * 1000).toISOString(), drained: false, draining: 1, usable: 0 },
    { id: 'd', drainDeadline: new Date(deadlinePast * 1000).toISOString(), drained: true, notFound: true, instances: 0 },
  ])
  t.equal(rows[2]?.registryError, 'DNS timeout')
  t.same(appRows([snap(1, [])], NOW), [], 'no affinity route: no apps')
})

t.test('parseSnapshot reads the apps of a worker message', async (t) => {
  const base = { pid: 7, namespace: 'ns', discovery: 'dns', balancer: 'p2c', mediaService: 'media', serving: true, routes: [], ejected: [], targets: [] }
  const s = parseSnapshot({
    ...base,
    apps: [
      { app: 'web', routes: ['web', 3], registry: { endpoints: [{ id: 'a', host: '192.0.2.1', port: 9, attributes: {} }], notFound: false, stale: false, ageMs: 5 }, deployments: [{ id: 'a', endpoints: [], notFound: true, stale: false, ageMs: 0 }, { endpoints: [] }] },
      { app: 'broken' },
    ],
  })
  t.same(s?.apps, [
    { app: 'web', routes: ['web'], registry: { endpoints: [{ id: 'a', host: '192.0.2.1', port: 9, attributes: {}, inFlight: 0, ejected: false }], notFound: false, stale: false, ageMs: 5 }, deployments: [{ id: 'a', endpoints: [], notFound: true, stale: false, ageMs: 0 }] },
  ])
  t.equal(parseSnapshot(base)?.apps, undefined, 'a snapshot for /admin/routes has none')
})
