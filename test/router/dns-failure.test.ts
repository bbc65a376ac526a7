// DNS outage: the router keeps serving the last answer (stale) for a bounded
// time, then answers 503; when DNS is back it recovers.
import t from 'tap'
import { request } from 'undici'
import { startCloudMap } from '../fixtures/cloudmap.js'
import { startUpstream } from '../fixtures/upstream.js'
import { eventually, startRouter } from '../fixtures/router.js'

t.test('stale answers while DNS is down, then 503 after max-stale', async (t) => {
  const cm = await startCloudMap()
  const up = await startUpstream('a')
  const id = await cm.service('dep-x')
  await cm.register(id, 'task-1', up.port)
  const rt = await startRouter({
    DNS_SERVERS: cm.dnsServer,
    // Generous against a loaded machine: a healthy answer must not time out, and
    // max-stale must not pass before the test has seen stale answers.
    DNS_TIMEOUT_MS: '1000',
    DNS_TRIES: '1',
    CACHE_MAX_TTL_MS: '200',
    CACHE_STALE_RETRY_MS: '100',
    CACHE_MAX_STALE_MS: '6000',
  })
  t.teardown(async () => {
    await rt.close()
    await up.close()
    await cm.close()
  })
  const get = async (): Promise<{ status: number; body: string; retryAfter: unknown }> => {
    const r = await request(`${rt.url}/services/dep-x/x`)
    return { status: r.statusCode, body: await r.body.text(), retryAfter: r.headers['retry-after'] }
  }
  t.equal((await get()).status, 200)

  cm.emulator.setDnsMode('drop') // queries time out
  const queriesAtOutage = cm.emulator.stats.dnsQueries()
  // Past the TTL the router asks DNS again, the query times out, and the stale answer is served.
  const staleServed = async (): Promise<boolean> => /router_discovery_lookups_total\{backend="dns",outcome="stale"\} [1-9]/.test(await (await request(`${rt.adminUrl}/metrics`)).body.text())
  const statuses: number[] = []
  await eventually(async () => {
    statuses.push((await get()).status)
    return staleServed()
  }, 10_000, 100)
  t.ok(cm.emulator.stats.dnsQueries() > queriesAtOutage, 'the router did ask DNS during the outage')
  t.ok(statuses.every((s) => s === 200), 'every request during the outage was answered from the stale entry')

  // After max-stale the error surfaces as 503.
  await eventually(async () => (await get()).status === 503, 10_000, 100)
  const down = await get()
  t.equal(down.status, 503)
  t.match(JSON.parse(down.body), { code: 'DISCOVERY_UNAVAILABLE' })
  t.ok(down.retryAfter !== undefined, 'Retry-After set')

  cm.emulator.setDnsMode('answer')
  await eventually(async () => (await get()).status === 200, 10_000, 100)
  t.pass('recovered when DNS answered again')
})

t.test('DNS server stopped (connection refused) with nothing cached → 503', async (t) => {
  const cm = await startCloudMap()
  const rt = await startRouter({ DNS_SERVERS: cm.dnsServer, DNS_TIMEOUT_MS: '200', DNS_TRIES: '1' })
  t.teardown(async () => {
    await rt.close()
    await cm.close()
  })
  await cm.emulator.stopDns()
  const r = await request(`${rt.url}/services/anything/x`)
  t.equal(r.statusCode, 503)
  t.match(JSON.parse(await r.body.text()), { code: 'DISCOVERY_UNAVAILABLE' })
})
