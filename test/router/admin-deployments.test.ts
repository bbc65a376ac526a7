// The admin dashboard's blue/green actions over HTTP (undici) against the real
// Cloud Map emulator (API + DNS), real routers with an app route
// (ROUTES_FILE, `affinity`) and DEPLOYMENT_CONTROL on, and real upstream
// servers registered as deployments A and B: the state lists the app's
// deployments with their instances; "make current" through the API writes
// the registry with the SDK client the router builds from its own config,
// and new visitors land on B once the router's discovery refreshes (waits
// poll what the router serves, never a fixed sleep) while A's cookie holders
// stay; drain marks A's instances DRAINING with its deadline. Refusals, each
// with its status and code and without a Cloud Map call (the emulator counts
// them): CSRF and Origin on a session, the action switched off, ids that are
// not DNS labels, an app no route serves, a deployment the registry does not
// list, draining the current one, a bad deadline.
import t, { type Test } from 'tap'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { startCloudMap, NAMESPACE, type CloudMapFixture } from '../fixtures/cloudmap.js'
import { ADMIN_TOKEN, eventually, startRouter, type RouterFixture } from '../fixtures/router.js'
import { DeploymentRegistry } from '../../router/src/deployments/registry.js'

// The router's SDK clients use the default credential chain; the emulator accepts any keys.
process.env.AWS_ACCESS_KEY_ID = 'test'
process.env.AWS_SECRET_ACCESS_KEY = 'test'

const A = 'web-20251027-122112Z'
const B = 'web-20251028-090000Z'
const a = A.toLowerCase()
const b = B.toLowerCase()
const COOKIE = 'deployment-web'

interface Stack {
  readonly cm: CloudMapFixture
  readonly reg: DeploymentRegistry
  readonly routesFile: string
  router(env: Record<string, string>): Promise<RouterFixture>
}

/** The emulator with deployments A (2 instances) and B (1), the registry listing both with A current, and a route file. */
async function stack(t: Test): Promise<Stack> {
  const cm = await startCloudMap()
  const servers: Server[] = []
  t.teardown(async () => {
    for (const s of servers) {
      s.closeAllConnections()
      await new Promise<void>((r) => s.close(() => r()))
    }
    await cm.close()
  })
  for (const [dep, ids] of [[A, ['a-1', 'a-2']], [B, ['b-1']]] as const) {
    const serviceId = await cm.service(dep, { records: ['SRV'], ttl: 1 })
    for (const id of ids) {
      const server = createServer((req, res) => {
        req.resume()
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ deployment: dep.toLowerCase(), instance: id }))
      })
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
      servers.push(server)
      await cm.register(serviceId, id, (server.address() as AddressInfo).port, { status: 'ACTIVE' })
    }
  }
  const reg = new DeploymentRegistry({ client: cm.client, namespace: NAMESPACE, ttlSeconds: 1, sleep: async () => undefined })
  // What a release pipeline does with `npm run deployments -- switch`: B known, A current.
  await reg.switchTo('web', B)
  await reg.switchTo('web', A)
  const routesFile = join(mkdtempSync(join(tmpdir(), 'admin-deployments-')), 'routes.json')
  writeFileSync(routesFile, JSON.stringify({ routes: [{ name: 'web', path: '/*', service: 'web', affinity: true }] }))
  return {
    cm,
    reg,
    routesFile,
    async router(env) {
      const rt = await startRouter({
        ROUTES_FILE: routesFile,
        CACHE_MAX_TTL_MS: '200',
        CACHE_NEGATIVE_TTL_MS: '100',
        CLOUDMAP_ENDPOINT: cm.emulator.apiEndpoint,
        CLOUDMAP_REGION: 'us-east-1',
        DNS_SERVERS: cm.dnsServer,
        ...env,
      })
      t.teardown(() => rt.close())
      return rt
    },
  }
}

async function json(r: { body: { text(): Promise<string> } }): Promise<Record<string, unknown>> {
  return JSON.parse(await r.body.text()) as Record<string, unknown>
}

const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` }

async function state(rt: RouterFixture): Promise<Record<string, unknown>> {
  return json(await request(`${rt.adminUrl}/admin/api/state`, { headers: bearer }))
}

async function visit(rt: RouterFixture, cookie?: string): Promise<{ deployment: string; setCookie: string | undefined }> {
  const r = await request(`${rt.url}/page`, cookie !== undefined ? { headers: { cookie: `${COOKIE}=${cookie}` } } : {})
  const body = (await json(r)) as { deployment?: string }
  const sc = r.headers['set-cookie']
  return { deployment: body.deployment ?? '', setCookie: (Array.isArray(sc) ? sc : sc === undefined ? [] : [sc]).find((c) => c.startsWith(`${COOKIE}=`)) }
}

function action(rt: RouterFixture, app: string, dep: string, verb: string, headers: Record<string, string>, body?: string) {
  return request(`${rt.adminUrl}/admin/api/apps/${app}/deployments/${dep}/${verb}`, { method: 'POST', headers, ...(body !== undefined ? { body } : {}) })
}

interface Login {
  readonly cookie: string
  readonly csrf: string
}

async function login(adminUrl: string): Promise<Login> {
  const r = await request(`${adminUrl}/admin/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: adminUrl }, body: `token=${ADMIN_TOKEN}` })
  await r.body.text()
  const cookie = String(r.headers['set-cookie']).split(';')[0] ?? ''
  const html = await (await request(`${adminUrl}/admin/`, { headers: { cookie } })).body.text()
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1]
  if (csrf === undefined) throw new Error('no CSRF token in the page')
  return { cookie, csrf }
}

/** The registry's current deployment as Cloud Map holds it. */
async function currentOf(s: Stack): Promise<string | undefined> {
  return (await s.reg.list('web')).current
}

t.test('the state lists the app; make current switches it, drain drains (API discovery)', async (t) => {
  const s = await stack(t)
  const rt = await s.router({ DISCOVERY_MODE: 'cloudmap', CLOUDMAP_REVISION_POLL_MS: '100', DEPLOYMENT_CONTROL: 'true' })

  const first = await visit(rt)
  t.equal(first.deployment, a, 'a new visitor gets A, the current deployment')
  t.match(first.setCookie, `${COOKIE}=${a};`)

  const view = await state(rt)
  t.match(view.actions, { deployments: true, deploymentsDisabled: null })
  t.match(view.apps, [
    {
      app: 'web',
      routes: ['web'],
      registry: '_deployments.web',
      registryStatus: 'ok',
      current: a,
      deployments: [
        { id: a, current: true, drainDeadline: null, instances: 2, healthy: 2, unhealthy: 0, draining: 0, usable: 2, notFound: false, endpoints: [{ id: 'a-1', status: 'ACTIVE', health: 'HEALTHY' }, { id: 'a-2' }] },
        { id: b, current: false, drainDeadline: null, instances: 1, healthy: 1, usable: 1 },
      ],
    },
  ], 'the app with both deployments, instance counts and health, looked up before any visitor asked for B')
  t.notOk((view.deployments as Array<{ id: string }>).some((d) => d.id.startsWith('_')), 'the registry is not listed as a deployment')

  const switched = await action(rt, 'web', B, 'switch', bearer)
  t.equal(switched.statusCode, 200, 'bearer: no CSRF token needed')
  t.same(await json(switched), { app: 'web', previous: a, current: b }, 'upper case in the id is looked up in lower case')
  t.equal(await currentOf(s), b, 'the registry in Cloud Map says B')
  t.match(rt.logs.find((l) => l['msg'] === 'deployment switched'), { level: 'info', app: 'web', previous: a, current: b, by: 'bearer' }, 'the switch is logged')

  let fresh = await visit(rt)
  await eventually(async () => (fresh = await visit(rt)).deployment === b, 20_000)
  t.match(fresh.setCookie, `${COOKIE}=${b};`, 'new visitors get B (and its cookie) once discovery refreshes')
  t.equal((await visit(rt, a)).deployment, a, "A's cookie holders stay on A")
  await eventually(async () => ((await state(rt)).apps as Array<{ current: string }>)[0]?.current === b, 20_000)
  t.pass('the dashboard state shows B current')

  const drained = await action(rt, 'web', a, 'drain', { ...bearer, 'content-type': 'application/json' }, JSON.stringify({ deadline: '2m' }))
  t.equal(drained.statusCode, 202)
  const d = await json(drained)
  t.match(d, { app: 'web', deployment: a, instances: 2 })
  const deadlineMs = Date.parse(String(d.deadline))
  t.ok(deadlineMs > Date.now() + 60_000 && deadlineMs <= Date.now() + 121_000, `deadline about 2 minutes ahead (${String(d.deadline)})`)
  await eventually(async () => {
    const row = ((await state(rt)).apps as Array<{ deployments: Array<{ id: string; draining: number; drainDeadline: string | null }> }>)[0]?.deployments.find((x) => x.id === a)
    return row?.draining === 2 && row.drainDeadline === d.deadline
  }, 20_000)
  t.pass('the state shows A draining: its deadline and both instances DRAINING')
  t.equal((await visit(rt, a)).deployment, a, 'holders keep A before the deadline')
  t.equal((await visit(rt)).deployment, b, 'new visitors: B')

  const back = await action(rt, 'web', a, 'switch', bearer)
  t.equal(back.statusCode, 200, 'switching back to a draining deployment undrains it')
  await back.body.text()
  t.equal(await currentOf(s), a)
})

t.test('refusals: CSRF and Origin, action off, bad ids, unknown app or deployment, conflicts (DNS discovery)', async (t) => {
  const s = await stack(t)
  const on = await s.router({ DISCOVERY_MODE: 'dns', DEPLOYMENT_CONTROL: 'true' })
  const off = await s.router({ DISCOVERY_MODE: 'dns' })
  const calls = (): number => s.cm.emulator.stats.apiCalls()
  // DNS discovery makes no API call: every call counted here is a registry write's.
  t.equal((await visit(on)).deployment, a)
  await state(on)
  const before = calls()

  const session = await login(on.adminUrl)
  const o = on.adminUrl
  const cases: Array<[string, Promise<{ statusCode: number; body: { text(): Promise<string> } }>, number, string]> = [
    ['session without the CSRF token', action(on, 'web', b, 'switch', { cookie: session.cookie, origin: o }), 403, 'CSRF_TOKEN'],
    ['session with a wrong CSRF token', action(on, 'web', b, 'switch', { cookie: session.cookie, origin: o, 'x-csrf-token': `${session.csrf.slice(0, -1)}x` }), 403, 'CSRF_TOKEN'],
    ['session from another origin', action(on, 'web', b, 'switch', { cookie: session.cookie, origin: 'http://evil.example', 'x-csrf-token': session.csrf }), 403, 'CSRF_ORIGIN'],
    ['session without Origin or Referer', action(on, 'web', b, 'drain', { cookie: session.cookie, 'x-csrf-token': session.csrf }), 403, 'CSRF_ORIGIN'],
    ['no credentials', action(on, 'web', b, 'switch', { origin: o }), 401, 'UNAUTHORIZED'],
    ['app not a DNS label', action(on, 'We.b', b, 'switch', bearer), 400, 'INVALID_TARGET'],
    ['deployment not a DNS label', action(on, 'web', 'web_b', 'switch', bearer), 400, 'INVALID_TARGET'],
    ['an escaped slash', action(on, 'web', 'web%2Fb', 'switch', bearer), 400, 'INVALID_TARGET'],
    ['a deployment id too long for a marker', action(on, 'web', 'd'.repeat(46), 'switch', bearer), 400, 'INVALID_TARGET'],
    ['an app no route serves', action(on, 'shop', b, 'switch', bearer), 404, 'APP_NOT_FOUND'],
    ['a bad deadline', action(on, 'web', b, 'drain', { ...bearer, 'content-type': 'application/json' }, '{"deadline":"soon"}'), 400, 'INVALID_DEADLINE'],
    ['a deadline in the past', action(on, 'web', b, 'drain', { ...bearer, 'content-type': 'application/json' }, '{"deadline":"2020-01-01T00:00:00Z"}'), 400, 'INVALID_DEADLINE'],
    ['drain options not JSON', action(on, 'web', b, 'drain', { ...bearer, 'content-type': 'text/plain' }, 'deadline=2m'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an unknown drain option', action(on, 'web', b, 'drain', { ...bearer, 'content-type': 'application/json' }, '{"when":"2m"}'), 400, 'BAD_REQUEST'],
    ['actions off (DEPLOYMENT_CONTROL unset)', action(off, 'web', b, 'switch', bearer), 409, 'ACTION_DISABLED'],
    ['actions off, drain', action(off, 'web', b, 'drain', bearer), 409, 'ACTION_DISABLED'],
  ]
  for (const [what, pending, status, code] of cases) {
    const r = await pending
    t.equal(r.statusCode, status, what)
    t.match(await json(r), { code, error: String }, `${what}: JSON {"error","code"}`)
  }
  t.equal(calls(), before, 'none of those made a Cloud Map call')
  const get = await request(`${o}/admin/api/apps/web/deployments/${b}/switch`, { headers: bearer })
  t.equal(get.statusCode, 405)
  t.equal(get.headers.allow, 'POST')
  await get.body.text()

  // Past the checks, the registry decides.
  const unknown = await action(on, 'web', 'web-20990101-000000z', 'switch', bearer)
  t.equal(unknown.statusCode, 404, 'a deployment with no Cloud Map service')
  t.match(await json(unknown), { code: 'DEPLOYMENT_NOT_FOUND' })
  await s.cm.service('web-unlisted', { records: ['SRV'] })
  const unlisted = await action(on, 'web', 'web-unlisted', 'switch', bearer)
  t.equal(unlisted.statusCode, 404, 'a service the registry does not list: add it with npm run deployments, not from the dashboard')
  t.match(await json(unlisted), { code: 'DEPLOYMENT_NOT_FOUND', error: /not one of app web's deployments/ })
  const drainCurrent = await action(on, 'web', a, 'drain', bearer)
  t.equal(drainCurrent.statusCode, 409, 'the current deployment cannot be drained')
  t.match(await json(drainCurrent), { code: 'DEPLOYMENT_CONFLICT' })
  t.equal(await currentOf(s), a, 'the registry is unchanged')

  const offView = await state(off)
  t.match(offView.actions, { deployments: false, deploymentsDisabled: 'DEPLOYMENT_CONTROL is not set on this router' }, 'the state says why the buttons are off')
  t.match(offView.apps, [{ app: 'web', current: a, deployments: [{ id: a, current: true, instances: 2 }, { id: b, instances: 1 }] }], 'and still shows the app (DNS discovery: counts without health)')

  const ok = await action(on, 'web', b, 'switch', { cookie: session.cookie, origin: o, 'x-csrf-token': session.csrf })
  t.equal(ok.statusCode, 200, 'session + CSRF token + same Origin: switched')
  t.match(await json(ok), { previous: a, current: b })
  t.equal(await currentOf(s), b)
  t.match(on.logs.find((l) => l['msg'] === 'deployment switched'), { by: 'session' })
  let fresh = await visit(on)
  await eventually(async () => (fresh = await visit(on)).deployment === b, 20_000)
  t.equal(fresh.deployment, b, 'DNS discovery: new visitors follow within the registry TTL')
})
