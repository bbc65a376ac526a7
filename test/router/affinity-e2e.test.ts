// Blue/green end to end: the real emulator (API + DNS), a real router with an
// app route (ROUTES_FILE, `affinity`), real upstream servers registered as
// deployments, and `npm run deployments`' module driving switch and drain.
// Register A, switch to A, register B, switch to B: a client holding A's
// cookie still reaches A; drain A: it keeps A until the deadline (injected
// wall clock), then moves to B with the cookie re-set; fallback when the
// pinned deployment dies; forged cookie (no lookup); WebSocket affinity; and
// the same switch seen by API discovery. Waits poll the router's answers
// (event-driven on what it serves), never fixed sleeps.
import t, { type Test } from 'tap'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import WebSocket, { WebSocketServer } from 'ws'
import { startCloudMap, NAMESPACE, type CloudMapFixture } from '../fixtures/cloudmap.js'
import { eventually, ADMIN_TOKEN } from '../fixtures/router.js'
import { loadConfig } from '../../router/src/config.js'
import { createRouter, type Router } from '../../router/src/router.js'
import { createLogger } from '../../router/src/log.js'
import { DeploymentRegistry } from '../../router/src/deployments/registry.js'

process.env.AWS_ACCESS_KEY_ID = 'test'
process.env.AWS_SECRET_ACCESS_KEY = 'test'

const A = 'web-20251027-122112Z'
const B = 'web-20251028-090000Z'
const a = A.toLowerCase()
const b = B.toLowerCase()
const COOKIE = 'deployment-web'

/** One instance of a deployment: HTTP answers {deployment}, WebSocket greets with the deployment name. */
interface Instance {
  readonly port: number
  close(): Promise<void>
}

async function startInstance(deployment: string): Promise<Instance> {
  const server: Server = createServer((req, res) => {
    req.resume()
    const body = JSON.stringify({ deployment, path: req.url })
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'app-session=1; Path=/' })
    res.end(body)
  })
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws) => ws.send(deployment))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

interface Stack {
  cm: CloudMapFixture
  router: Router
  url: string
  reg: DeploymentRegistry
  clock: { now: number }
  services: Map<string, string>
  instances: Instance[]
  logs: Array<Record<string, unknown>>
  /** Register one instance of `deployment` (creating its service). */
  deploy(deployment: string, instanceId: string): Promise<Instance>
}

async function stack(t: Test, env: Record<string, string>): Promise<Stack> {
  const cm = await startCloudMap()
  const dir = mkdtempSync(join(tmpdir(), 'affinity-e2e-'))
  const routesFile = join(dir, 'routes.json')
  // recordType SRV on the route: the deployments are SRV services although SERVICES_RECORD_TYPE may say A (the registry is always read as SRV).
  writeFileSync(routesFile, JSON.stringify({ routes: [{ name: 'web', path: '/*', service: 'web', recordType: 'SRV', affinity: { maxAgeSeconds: 3600 } }] }))
  const clock = { now: Date.parse('2026-12-01T10:00:00Z') }
  const logs: Array<Record<string, unknown>> = []
  const logger = createLogger({
    level: 'debug',
    write: (chunk) => {
      for (const line of chunk.split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
    },
  })
  const config = loadConfig({
    HOST: '127.0.0.1',
    ADMIN_HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_PORT: '0',
    ADMIN_TOKEN,
    ROUTES_FILE: routesFile,
    CACHE_MIN_TTL_MS: '0',
    CACHE_MAX_TTL_MS: '200',
    CACHE_NEGATIVE_TTL_MS: '100',
    DNS_TIMEOUT_MS: '2000',
    ...env,
    ...(env['DISCOVERY_MODE'] === 'cloudmap' ? { CLOUDMAP_ENDPOINT: cm.emulator.apiEndpoint, CLOUDMAP_REGION: 'us-east-1' } : { DNS_SERVERS: cm.dnsServer }),
  })
  const router = createRouter(config, { logger, wallClock: () => clock.now })
  await router.listen()
  const s: Stack = {
    cm,
    router,
    url: `http://127.0.0.1:${router.port()}`,
    reg: new DeploymentRegistry({ client: cm.client, namespace: NAMESPACE, ttlSeconds: 1, now: () => clock.now, sleep: async () => undefined }),
    clock,
    services: new Map(),
    instances: [],
    // Reading the lines writes what the logger holds first (access lines are batched).
    get logs() {
      logger.flush()
      return logs
    },
    async deploy(deployment, instanceId) {
      const inst = await startInstance(deployment.toLowerCase())
      s.instances.push(inst)
      let id = s.services.get(deployment)
      if (id === undefined) {
        id = await cm.service(deployment, { records: ['SRV'], ttl: 1 })
        s.services.set(deployment, id)
      }
      await cm.register(id, instanceId, inst.port, { status: 'ACTIVE' })
      return inst
    },
  }
  t.teardown(async () => {
    await router.close()
    await Promise.all(s.instances.map((i) => i.close()))
    await cm.close()
  })
  return s
}

interface Answer {
  status: number
  deployment: string | undefined
  cookies: string[]
  code: string | undefined
}

async function get(s: Stack, cookie?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await request(`${s.url}/page`, { headers: { ...(cookie !== undefined ? { cookie: `other=1; ${COOKIE}=${cookie}` } : {}), ...headers } })
  const text = await res.body.text()
  const body = JSON.parse(text) as { deployment?: string; code?: string }
  const sc = res.headers['set-cookie']
  return { status: res.statusCode, deployment: body.deployment, code: body.code, cookies: sc === undefined ? [] : Array.isArray(sc) ? sc : [sc] }
}

function affinityCookie(ans: Answer): string | undefined {
  const c = ans.cookies.find((x) => x.startsWith(`${COOKIE}=`))
  return c?.slice(COOKIE.length + 1).split(';')[0]
}

/** Poll the router until `fn`'s answer passes (the registry refresh is asynchronous). */
async function until(s: Stack, fn: () => Promise<Answer>, ok: (a: Answer) => boolean): Promise<Answer> {
  let last: Answer | undefined
  await eventually(async () => ok((last = await fn())), 20_000)
  if (last === undefined) throw new Error('no answer')
  return last
}

t.test('DNS discovery: seed flow, drain deadline, fallback, forged cookie, WebSocket', async (t) => {
  const s = await stack(t, { DISCOVERY_MODE: 'dns', SERVICES_RECORD_TYPE: 'A', SERVICES_DEFAULT_PORT: '1' })
  t.equal((await get(s)).status, 404, 'no registry yet: 404')

  await s.deploy(A, 'a-1')
  await s.reg.switchTo('web', A)
  const first = await until(s, () => get(s), (x) => x.deployment === a)
  t.equal(affinityCookie(first), a, 'first response sets the affinity cookie to A')
  const setCookie = first.cookies.find((c) => c.startsWith(COOKIE)) ?? ''
  t.match(setCookie, /; Max-Age=3600; HttpOnly; SameSite=Lax$/, 'HttpOnly, SameSite=Lax, bounded Max-Age, no Secure over plain HTTP')
  t.ok(first.cookies.includes('app-session=1; Path=/'), `the upstream's own Set-Cookie is kept (${first.cookies.join(' / ')})`)
  const https = await get(s, undefined, { 'x-forwarded-proto': 'https' })
  t.match(https.cookies.find((c) => c.startsWith(COOKIE)) ?? '', /; Secure$/, 'Secure when the ALB says the client used HTTPS')

  await s.deploy(B, 'b-1')
  await s.reg.switchTo('web', B)
  const fresh = await until(s, () => get(s), (x) => x.deployment === b)
  t.equal(affinityCookie(fresh), b, 'a new visitor gets B after the switch (no restart)')
  const holder = await get(s, a)
  t.equal(holder.deployment, a, "A's cookie holder still reaches A")
  t.equal(affinityCookie(holder), undefined, 'and is not re-set')
  t.equal((await get(s, A)).deployment, a, 'cookie values are case-insensitive')
  t.equal((await get(s, undefined, { 'x-deployment': A })).deployment, a, 'X-Deployment pins too')

  // Forged and unknown values: current, and no lookup of them.
  const forged = await get(s, 'evil-deployment')
  t.equal(forged.deployment, b)
  t.equal(affinityCookie(forged), b, 'forged cookie is replaced')
  t.equal((await get(s, '../../etc')).deployment, b)
  const keys = s.router.cache.view().map((v) => v.key)
  t.notOk(keys.some((k) => k.includes('evil') || k.includes('etc')), `no discovery lookup of forged values (${keys.join(', ')})`)

  // WebSocket: same rule, cookie on the 101.
  const ws = async (cookie?: string): Promise<{ greeting: string; cookie: string | undefined }> => {
    const sock = new WebSocket(`${s.url.replace('http', 'ws')}/live`, cookie !== undefined ? { headers: { cookie: `${COOKIE}=${cookie}` } } : {})
    let setCookie: string | undefined
    sock.on('upgrade', (res) => {
      const sc = res.headers['set-cookie']
      setCookie = (Array.isArray(sc) ? sc : []).find((c) => c.startsWith(COOKIE))
    })
    const greeting = await new Promise<string>((resolve, reject) => {
      sock.once('message', (m) => resolve(String(m)))
      sock.once('error', reject)
    })
    sock.close()
    return { greeting, cookie: setCookie }
  }
  t.same(await ws(a), { greeting: a, cookie: undefined }, 'WebSocket with A cookie reaches A')
  const wsNew = await ws()
  t.equal(wsNew.greeting, b, 'WebSocket without cookie reaches current')
  t.match(wsNew.cookie ?? '', `${COOKIE}=${b};`, 'the 101 sets the cookie')

  // Drain A with a deadline one minute ahead (wall clock injected on both sides).
  await s.reg.drain('web', A, s.clock.now + 60_000)
  t.equal((await get(s, a)).deployment, a, 'before the deadline the holder keeps A (its instances are DRAINING)')
  s.clock.now += 61_000
  const moved = await until(s, () => get(s, a), (x) => x.deployment === b)
  t.equal(affinityCookie(moved), b, 'after the deadline the holder moves to B and the cookie is re-set')
  t.equal((await ws(a)).greeting, b, 'WebSocket of a holder past the deadline goes to B')

  // Fallback when the pinned deployment dies: C pinned, then its instance deregistered.
  const C = 'web-20251029-000000Z'
  await s.deploy(C, 'c-1')
  await s.reg.switchTo('web', C)
  await s.reg.switchTo('web', B)
  await until(s, () => get(s, 'web-20251029-000000z'), (x) => x.deployment === 'web-20251029-000000z')
  const cId = s.services.get(C) ?? ''
  await s.cm.deregister(cId, 'c-1')
  const fallback = await until(s, () => get(s, 'web-20251029-000000z'), (x) => x.deployment === b)
  t.equal(affinityCookie(fallback), b, 'pinned deployment gone: current, cookie re-set')
  const last = s.logs.filter((l) => l['route'] === 'web').at(-1)
  t.equal(last?.['instance'], 'b-1', "the access log's instance is the chosen deployment's")
})

t.test('API discovery: switch seen within the poll interval, holder kept', async (t) => {
  const s = await stack(t, { DISCOVERY_MODE: 'cloudmap', CLOUDMAP_REVISION_POLL_MS: '100', CLOUDMAP_FULL_REFRESH_MS: '60000' })
  await s.deploy(A, 'a-1')
  await s.reg.switchTo('web', A)
  await until(s, () => get(s), (x) => x.deployment === a)
  await s.deploy(B, 'b-1')
  await s.reg.switchTo('web', B)
  await until(s, () => get(s), (x) => x.deployment === b)
  t.equal((await get(s, a)).deployment, a, 'holder of A reaches A')
  await s.reg.drain('web', A, s.clock.now + 60_000)
  // Regression (holders got 503 NO_HEALTHY_ENDPOINT once discovery showed the DRAINING attribute):
  // wait until the router itself sees A's instance DRAINING, then the holder must still reach A.
  // (The holder's own requests are what make the cache refresh A's answer.)
  await eventually(async () => {
    await get(s, a)
    return s.router.cache.view().some((v) => v.key.startsWith(`service:${a}`) && v.endpoints.some((e) => e.attributes['status'] === 'DRAINING'))
  }, 20_000)
  const held = await get(s, a)
  t.equal(held.deployment, a, `before the deadline the holder reaches A's DRAINING instance over HTTP (${held.status} ${held.code ?? ''})`)
  const sock = new WebSocket(`${s.url.replace('http', 'ws')}/live`, { headers: { cookie: `${COOKIE}=${a}` } })
  const greeting = await new Promise<string>((resolve, reject) => {
    sock.once('message', (m) => resolve(String(m)))
    sock.once('error', reject)
  })
  sock.close()
  t.equal(greeting, a, 'and with a WebSocket')
  t.equal((await get(s)).deployment, b, 'new visitors: B')
  s.clock.now += 61_000
  await until(s, () => get(s, a), (x) => x.deployment === b)
  t.pass('holder moved after the deadline')
})
