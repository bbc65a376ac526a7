// End to end: emulator (API + DNS) ← router (DNS discovery) → real upstreams.
import t from 'tap'
import { request } from 'undici'
import { startCloudMap, type CloudMapFixture } from '../fixtures/cloudmap.js'
import { closedPort, startUpstream, type Upstream } from '../fixtures/upstream.js'
import { rawGet } from '../fixtures/raw-http.js'
import { eventually, startRouter, type RouterFixture } from '../fixtures/router.js'

interface Seen { name: string; url: string; headers: Record<string, string> }
function isSeen(v: unknown): v is Seen {
  return typeof v === 'object' && v !== null && 'name' in v && 'url' in v && 'headers' in v
}
async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; headers: Record<string, string | string[] | undefined> }> {
  const res = await request(url, { headers })
  const text = await res.body.text()
  return { status: res.statusCode, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: res.headers }
}

let cm: CloudMapFixture
let rt: RouterFixture
const ups: Upstream[] = []
let depId = ''
let mediaId = ''

t.before(async () => {
  cm = await startCloudMap()
  const a = await startUpstream('dep-a-1')
  const b = await startUpstream('dep-a-2')
  const n1 = await startUpstream('node-1')
  ups.push(a, b, n1)
  depId = await cm.service('dep-a')
  await cm.register(depId, 'task-1', a.port)
  await cm.register(depId, 'task-2', b.port)
  mediaId = await cm.service('media')
  await cm.register(mediaId, 'node-1', n1.port, { status: 'ACTIVE' })
  // Timeouts a healthy answer must beat are generous: a busy machine may be slow.
  rt = await startRouter({ DNS_SERVERS: cm.dnsServer, DNS_TIMEOUT_MS: '5000', DNS_TRIES: '1', CACHE_MAX_TTL_MS: '1000', UPSTREAM_HEADERS_TIMEOUT_MS: '2000' })
})
t.teardown(async () => {
  await rt.close()
  await Promise.all(ups.map((u) => u.close()))
  await cm.close()
})

t.test('/services/<id> balances over the deployment, prefix stripped, forwarded headers set', async (t) => {
  const names = new Set<string>()
  // The default balancer (P2C) picks at random between idle instances: 40 requests reach both.
  for (let i = 0; i < 40; i++) {
    const r = await getJson(`${rt.url}/services/dep-a/api/items?x=1`, { 'x-request-id': `req-${i}`, host: 'edge.example.com' })
    t.equal(r.status, 200)
    t.ok(isSeen(r.body))
    if (!isSeen(r.body)) return
    names.add(r.body.name)
    t.equal(r.body.url, '/api/items?x=1')
    t.equal(r.body.headers['x-forwarded-prefix'], '/services/dep-a')
    t.equal(r.body.headers['x-forwarded-for'], '127.0.0.1')
    t.equal(r.body.headers['x-forwarded-proto'], 'http')
    t.equal(r.body.headers['x-forwarded-host'], 'edge.example.com')
    t.equal(r.body.headers['x-request-id'], `req-${i}`)
    t.equal(r.headers['x-request-id'], `req-${i}`, 'request id echoed to the client')
    t.equal(r.headers['x-upstream'] !== undefined, true)
    t.not(r.headers['keep-alive'], 'timeout=5', "upstream's hop-by-hop Keep-Alive not passed through")
  }
  t.same([...names].sort(), ['dep-a-1', 'dep-a-2'], 'the balancer reached both instances')
})

t.test('/media/<nodeId> reaches that node', async (t) => {
  const r = await getJson(`${rt.url}/media/node-1/status`)
  t.equal(r.status, 200)
  t.ok(isSeen(r.body) && r.body.name === 'node-1' && r.body.url === '/status')
  const gen = await getJson(`${rt.url}/media/node-1/x`)
  t.match(gen.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'request id generated when absent')
})

t.test('errors', async (t) => {
  const noRoute = await getJson(`${rt.url}/nope`)
  t.equal(noRoute.status, 404)
  t.match(noRoute.body, { code: 'NO_ROUTE', error: /\/services\/<deploymentId>/ })
  const unknownDep = await getJson(`${rt.url}/services/no-such-dep/x`)
  t.equal(unknownDep.status, 404)
  t.match(unknownDep.body, { code: 'TARGET_NOT_FOUND' })
  const unknownNode = await getJson(`${rt.url}/media/no-such-node/x`)
  t.equal(unknownNode.status, 404)
  t.match(unknownNode.body, { code: 'TARGET_NOT_FOUND' })

  // exists, but nothing healthy → 503 + Retry-After
  const sick = await cm.service('dep-sick')
  const su = await startUpstream('sick')
  ups.push(su)
  await cm.register(sick, 'task-1', su.port)
  await cm.setHealth(sick, 'task-1', 'UNHEALTHY')
  const unhealthy = await getJson(`${rt.url}/services/dep-sick/x`)
  t.equal(unhealthy.status, 503)
  t.equal(unhealthy.headers['retry-after'], '5')
  t.match(unhealthy.body, { code: 'NO_HEALTHY_ENDPOINT' })

  // upstream refuses → 502
  const refused = await cm.service('dep-refused')
  await cm.register(refused, 'task-1', await closedPort())
  const r502 = await getJson(`${rt.url}/services/dep-refused/x`)
  t.equal(r502.status, 502)
  t.match(r502.body, { code: 'UPSTREAM_ERROR' })

  // upstream never answers → 504
  const hang = await getJson(`${rt.url}/services/dep-a/hang`)
  t.equal(hang.status, 504)
  t.match(hang.body, { code: 'UPSTREAM_TIMEOUT' })

  const health = await getJson(`${rt.url}/health`)
  t.equal(health.status, 200)
})

t.test('invalid captures are 400 and send no DNS query', async (t) => {
  const bad = ['/services/UP_PER/x', '/services/a.b/x', '/services/..%2F..%2Fetc/x', '/services/%2e%2e/x', '/media/evil.com/x', `/services/${'a'.repeat(64)}/x`, '/services//x', '/media/-x/y', '/services/a%2Fb/x', '/media/169.254.169.254/latest']
  const before = cm.emulator.stats.dnsQueries()
  for (const path of bad) {
    const r = await rawGet(rt.router.port(), path)
    t.equal(r.status, 400, path)
    t.match(JSON.parse(r.body), { code: 'INVALID_TARGET' }, path)
  }
  t.equal(cm.emulator.stats.dnsQueries(), before, 'no DNS query was sent')
})

t.test('100 concurrent first requests to a new deployment → one lookup of its name', async (t) => {
  const id = await cm.service('dep-burst')
  const u = await startUpstream('burst')
  ups.push(u)
  await cm.register(id, 'task-1', u.port)
  const name = 'dep-burst.ecs.internal'
  t.equal(cm.emulator.stats.dnsQueriesFor(name), 0)
  // A router whose answers cannot expire during the burst, however slow the machine: any
  // second query would then be a failure to coalesce, not a refresh that fell due.
  const burst = await startRouter({ DNS_SERVERS: cm.dnsServer, DNS_TIMEOUT_MS: '5000', DNS_TRIES: '1', CACHE_MIN_TTL_MS: '600000', CACHE_MAX_TTL_MS: '600000' })
  t.teardown(() => burst.close())
  const results = await Promise.all(Array.from({ length: 100 }, () => getJson(`${burst.url}/services/dep-burst/x`)))
  t.ok(results.every((r) => r.status === 200), 'all 100 succeeded')
  t.equal(cm.emulator.stats.dnsQueriesFor(name), 1, 'exactly one SRV query for the deployment')
  t.equal(cm.emulator.stats.dnsQueriesFor(`task-1.${name}`), 1, 'and one A query for its instance')
})

t.test('a backend registered while the router runs becomes reachable; new instances appear after the TTL', async (t) => {
  const before = await getJson(`${rt.url}/services/dep-late/x`)
  t.equal(before.status, 404)
  const id = await cm.service('dep-late')
  const u1 = await startUpstream('late-1')
  const u2 = await startUpstream('late-2')
  ups.push(u1, u2)
  await cm.register(id, 'task-1', u1.port)
  await eventually(async () => (await getJson(`${rt.url}/services/dep-late/x`)).status === 200)
  await cm.register(id, 'task-2', u2.port)
  // TTL 1 s (max clamp 1 s): within a few TTLs the second instance takes traffic.
  await eventually(async () => {
    const r = await getJson(`${rt.url}/services/dep-late/x`)
    return isSeen(r.body) && r.body.name === 'late-2'
  })
  t.pass('new instance reached without restart')
})

t.test('retry on another instance when the connection is refused', async (t) => {
  const id = await cm.service('dep-retry')
  const good = await startUpstream('good')
  ups.push(good)
  await cm.register(id, 'task-bad', await closedPort())
  await cm.register(id, 'task-good', good.port)
  // P2C chooses at random between the two: 30 requests pick the dead one at least once (miss: p = 2^-30).
  for (let i = 0; i < 30; i++) {
    const r = await getJson(`${rt.url}/services/dep-retry/x`)
    t.equal(r.status, 200, `request ${i}`)
  }
  const metrics = await (await request(`${rt.adminUrl}/metrics`)).body.text()
  t.match(metrics, /router_upstream_retries_total\{route="services"\} [1-9]/)
  t.match(metrics, /router_upstream_errors_total\{route="services",reason="connect"\} [1-9]/)
})

t.test('one access-log line per request', async (t) => {
  const before = rt.logs.filter((l) => l.msg === 'access').length
  await getJson(`${rt.url}/services/dep-a/one-line`, { 'x-request-id': 'log-check' })
  rt.router.logger.flush()
  await eventually(() => rt.logs.some((l) => l.requestId === 'log-check'))
  const lines = rt.logs.filter((l) => l.requestId === 'log-check')
  t.equal(lines.length, 1)
  t.match(lines[0], { msg: 'access', route: 'services', status: 200, method: 'GET', attempts: 1, instance: /^task-/ })
  t.ok(rt.logs.filter((l) => l.msg === 'access').length > before)
})
