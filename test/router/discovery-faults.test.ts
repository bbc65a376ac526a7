// The router against a faulty Cloud Map, through the emulator's fault
// switches, in both discovery modes: API hang, API slower than the timeout,
// API slow within it (cloudmap mode); DNS SERVFAIL and DNS drop (dns mode).
// A warmed target keeps answering 200 from the last good answer, timed-out
// API calls are counted as outcome="timeout" and backed off (never more than
// one call in flight per service), a cold target gets 503 DISCOVERY_UNAVAILABLE,
// and everything recovers when the fault is cleared. Waits are on events
// (counters, metrics), never on elapsed time.
import t, { type Test } from 'tap'
import { request } from 'undici'
import { startCloudMap, type CloudMapFixture } from '../fixtures/cloudmap.js'
import { startUpstream, type Upstream } from '../fixtures/upstream.js'
import { eventually, startRouter, type RouterFixture } from '../fixtures/router.js'

// The router's SDK client uses the default credential chain; the emulator accepts any keys.
process.env.AWS_ACCESS_KEY_ID = 'test'
process.env.AWS_SECRET_ACCESS_KEY = 'test'

interface Ctx {
  readonly cm: CloudMapFixture
  readonly rt: RouterFixture
  readonly up: Upstream
}

async function setup(t: Test, mode: 'cloudmap' | 'dns', env: Record<string, string> = {}): Promise<Ctx> {
  const cm = await startCloudMap()
  const up = await startUpstream('a')
  const id = await cm.service('dep-f')
  await cm.register(id, 'i-a', up.port)
  const rt = await startRouter({
    ...(mode === 'cloudmap'
      ? {
          DISCOVERY_MODE: 'cloudmap',
          CLOUDMAP_ENDPOINT: cm.emulator.apiEndpoint,
          CLOUDMAP_REGION: 'us-east-1',
          CLOUDMAP_REVISION_POLL_MS: '100',
          CLOUDMAP_TIMEOUT_MS: '1000',
          CLOUDMAP_BACKOFF_BASE_MS: '50',
          CLOUDMAP_BACKOFF_MAX_MS: '200',
        }
      : { DNS_SERVERS: cm.dnsServer, DNS_TIMEOUT_MS: '1000', DNS_TRIES: '1' }),
    CACHE_MAX_TTL_MS: '100',
    CACHE_STALE_RETRY_MS: '100',
    ...env,
  })
  t.teardown(async () => {
    await rt.close()
    await up.close()
    await cm.close()
  })
  return { cm, rt, up }
}

async function status(rt: RouterFixture, path: string): Promise<{ status: number; code: unknown }> {
  const r = await request(`${rt.url}${path}`)
  const text = await r.body.text()
  const body: unknown = JSON.parse(text)
  return { status: r.statusCode, code: typeof body === 'object' && body !== null && 'code' in body ? body.code : undefined }
}

async function metric(rt: RouterFixture, series: RegExp): Promise<number> {
  const text = await (await request(`${rt.adminUrl}/metrics`)).body.text()
  const m = series.exec(text)
  return m?.[1] !== undefined ? Number(m[1]) : 0
}

const TIMEOUTS = /router_cloudmap_calls_total\{operation="DiscoverInstancesRevision",outcome="timeout"\} (\d+)/

for (const fault of [
  { name: 'API hang (accepts, never answers)', set: (cm: CloudMapFixture) => cm.emulator.setApiFault({ mode: 'hang', operations: ['DiscoverInstances', 'DiscoverInstancesRevision'] }) },
  { name: 'API slower than CLOUDMAP_TIMEOUT_MS', set: (cm: CloudMapFixture) => cm.emulator.setApiFault({ mode: 'slow', delayMs: 5000, operations: ['DiscoverInstances', 'DiscoverInstancesRevision'] }) },
]) {
  t.test(`cloudmap mode, ${fault.name}: the last good list is served, calls time out and back off, then recover`, async (t) => {
    const { cm, rt } = await setup(t, 'cloudmap')
    t.equal((await status(rt, '/services/dep-f/x')).status, 200, 'warmed')
    fault.set(cm)
    const seen: number[] = []
    let mostHeld = 0
    await eventually(async () => {
      seen.push((await status(rt, '/services/dep-f/x')).status)
      mostHeld = Math.max(mostHeld, cm.emulator.stats.apiHeld())
      return (await metric(rt, TIMEOUTS)) >= 2
    })
    t.ok(seen.every((s) => s === 200), `every request during the fault was served (${seen.length})`)
    t.ok(mostHeld <= 1, 'one call per service at a time, however many requests')
    t.equal((await status(rt, '/services/cold/x')).code, 'DISCOVERY_UNAVAILABLE', 'a target never resolved has nothing to serve: 503')
    cm.emulator.clearFaults()
    const b = await startUpstream('b')
    t.teardown(() => b.close())
    await cm.register(await cm.service('dep-f'), 'i-b', b.port)
    await eventually(async () => {
      const r = await request(`${rt.url}/services/dep-f/x`)
      return (await r.body.text()).includes('"name":"b"')
    })
    t.pass('the new instance is seen once the API answers again')
  })
}

t.test('cloudmap mode, API slow within CLOUDMAP_TIMEOUT_MS: calls succeed, no timeout counted', async (t) => {
  const { cm, rt } = await setup(t, 'cloudmap', { CLOUDMAP_TIMEOUT_MS: '20000' })
  cm.emulator.setApiFault({ mode: 'slow', delayMs: 50 })
  t.equal((await status(rt, '/services/dep-f/x')).status, 200)
  await eventually(async () => {
    t.equal((await status(rt, '/services/dep-f/x')).status, 200)
    return (await metric(rt, /router_cloudmap_calls_total\{operation="DiscoverInstancesRevision",outcome="success"\} (\d+)/)) >= 2
  })
  t.equal(await metric(rt, TIMEOUTS), 0)
})

for (const mode of ['servfail', 'drop'] as const) {
  t.test(`dns mode, DNS ${mode}: the last answer is served stale, then fresh again`, async (t) => {
    const { cm, rt } = await setup(t, 'dns')
    t.equal((await status(rt, '/services/dep-f/x')).status, 200, 'warmed')
    cm.emulator.setDnsMode(mode)
    const seen: number[] = []
    await eventually(async () => {
      seen.push((await status(rt, '/services/dep-f/x')).status)
      return (await metric(rt, /router_discovery_lookups_total\{backend="dns",outcome="stale"\} (\d+)/)) >= 2
    })
    t.ok(seen.every((s) => s === 200), `every request during the fault was served (${seen.length})`)
    t.equal((await status(rt, '/services/cold/x')).code, 'DISCOVERY_UNAVAILABLE', 'a target never resolved: 503')
    cm.emulator.clearFaults()
    await eventually(async () => (await status(rt, '/services/cold/x')).code === 'TARGET_NOT_FOUND')
    t.pass('answers again: the unknown target is a plain 404')
  })
}

// Stale-while-revalidate, end to end: with the backend's own timeout far away,
// the refresh a warmed target triggers stays pending for the whole test, and
// every request meanwhile is answered from the current answer.
for (const mode of ['cloudmap', 'dns'] as const) {
  t.test(`${mode} mode: warmed requests complete while the discovery call they triggered is still pending`, async (t) => {
    const { cm, rt } = await setup(t, mode, mode === 'cloudmap' ? { CLOUDMAP_TIMEOUT_MS: '60000' } : { DNS_TIMEOUT_MS: '60000' })
    const target = { kind: 'service', service: 'dep-f' } as const
    t.equal((await status(rt, '/services/dep-f/x')).status, 200, 'warmed')
    if (mode === 'cloudmap') cm.emulator.setApiFault({ mode: 'hang' })
    else cm.emulator.setDnsMode('drop')
    const queries = cm.emulator.stats.dnsQueries()
    // Requests until one finds the answer past its TTL and starts a refresh.
    await eventually(async () => {
      t.equal((await status(rt, '/services/dep-f/x')).status, 200)
      return rt.router.cache.refreshing(target)
    })
    if (mode === 'cloudmap') await eventually(() => cm.emulator.stats.apiHeld() === 1)
    else await eventually(() => cm.emulator.stats.dnsQueries() > queries)
    const statuses = await Promise.all(Array.from({ length: 50 }, async () => (await status(rt, '/services/dep-f/x')).status))
    t.same(new Set(statuses), new Set([200]), '50 requests answered')
    t.ok(rt.router.cache.refreshing(target), 'while the discovery call is still pending')
    if (mode === 'cloudmap') t.equal(cm.emulator.stats.apiHeld(), 1, 'one call held by the hung API, no second one')
    const lookups = await metric(rt, new RegExp(`router_discovery_lookups_total\\{backend="${mode}",outcome="refresh"\\} (\\d+)`))
    t.ok(lookups >= 50, `counted as refresh (${lookups})`)
  })
}
