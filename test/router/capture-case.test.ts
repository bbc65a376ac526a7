// Upper-case captures (issue 17, item 4) end to end against the emulator, in
// DNS and API discovery: a deployment created with upper-case letters in its
// name (blue/green ids like `Rel-20251027-122112Z`) and a media node with an
// upper-case instance id are reached whatever the case of the request, because
// the capture is looked up in lower case; a capture that is not one DNS label
// is still 400 before any lookup.
import t from 'tap'
import { request } from 'undici'
import { startCloudMap, type CloudMapFixture } from '../fixtures/cloudmap.js'
import { startUpstream, type Upstream } from '../fixtures/upstream.js'
import { rawGet } from '../fixtures/raw-http.js'
import { startRouter, type RouterFixture } from '../fixtures/router.js'

// The API-mode router's SDK client uses the default credential chain; the emulator accepts any keys.
process.env.AWS_ACCESS_KEY_ID = 'test'
process.env.AWS_SECRET_ACCESS_KEY = 'test'

let cm: CloudMapFixture
const ups: Upstream[] = []
const routers: Array<[mode: string, rt: RouterFixture]> = []

t.before(async () => {
  cm = await startCloudMap()
  const dep = await startUpstream('release')
  const node = await startUpstream('node-up')
  ups.push(dep, node)
  await cm.register(await cm.service('Rel-20251027-122112Z'), 'task-1', dep.port)
  await cm.register(await cm.service('media'), 'Node-Up', node.port, { status: 'ACTIVE' })
  routers.push(['dns', await startRouter({ DNS_SERVERS: cm.dnsServer, DNS_TIMEOUT_MS: '5000', DNS_TRIES: '1' })])
  routers.push(['cloudmap', await startRouter({ DISCOVERY_MODE: 'cloudmap', CLOUDMAP_ENDPOINT: cm.emulator.apiEndpoint, CLOUDMAP_REGION: 'us-east-1', CLOUDMAP_TIMEOUT_MS: '10000' })])
})
t.teardown(async () => {
  for (const [, rt] of routers) await rt.close()
  await Promise.all(ups.map((u) => u.close()))
  await cm.close()
})

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await request(url)
  return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> }
}

t.test('a service named with upper case is reached in any case, in both discovery modes', async (t) => {
  for (const [mode, rt] of routers) {
    for (const id of ['Rel-20251027-122112Z', 'rel-20251027-122112z', 'REL-20251027-122112Z']) {
      const r = await get(`${rt.url}/services/${id}/api/x`)
      t.equal(r.status, 200, `${mode}: /services/${id}`)
      t.match(r.body, { name: 'release', url: '/api/x', headers: { 'x-forwarded-prefix': `/services/${id}` } }, `${mode}: ${id}`)
    }
    const line = rt.logs.find((l) => l.msg === 'access' && typeof l.path === 'string' && l.path.startsWith('/services/REL-'))
    t.match(line, { route: 'services', status: 200 }, `${mode}: the route name is the label`)
  }
})

t.test('a media node with an upper-case instance id is reached in any case, in both modes', async (t) => {
  for (const [mode, rt] of routers) {
    for (const id of ['Node-Up', 'node-up', 'NODE-UP']) {
      const r = await get(`${rt.url}/media/${id}/status`)
      t.equal(r.status, 200, `${mode}: /media/${id}`)
      t.match(r.body, { name: 'node-up', url: '/status' }, `${mode}: ${id}`)
    }
  }
})

t.test('a capture that is not one DNS label is still 400 before any lookup', async (t) => {
  const [, rt] = routers[0] ?? []
  if (rt === undefined) return
  const before = cm.emulator.stats.dnsQueries()
  for (const path of ['/services/Rel_1/x', '/services/REL.example/x', `/services/${'A'.repeat(64)}/x`, '/media/-Node/x', '/services/%52EL/x']) {
    const r = await rawGet(rt.router.port(), path)
    t.equal(r.status, 400, path)
    t.match(JSON.parse(r.body), { code: 'INVALID_TARGET' }, path)
  }
  t.equal(cm.emulator.stats.dnsQueries(), before, 'no DNS query was sent')
})
