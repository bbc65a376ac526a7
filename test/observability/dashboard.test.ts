// The Grafana dashboard against a real Prometheus (Debian's `prometheus`)
// scraping the real local stack: the dev stack's router and media nodes, plus
// a second router in DISCOVERY_MODE=cloudmap on the same emulator (the Cloud
// Map panels). After HTTP traffic (2xx, 4xx, 5xx from a deployment whose
// instances refuse connections), WebSockets (opened, closed with 1000 and an
// application code, refused by a draining node), a drain and Cloud Map
// throttling, EVERY target of EVERY panel, with Grafana's variables
// substituted as Grafana would, must return a non-empty result from
// /api/v1/query. Prometheus also loads the alert rules: each must evaluate
// without error. Waits poll the API with deadlines.
import t from 'tap'
import WebSocket from 'ws'
import { request } from 'undici'
import { createServer } from 'node:net'
import { startDevStack } from '../../infra/local/src/dev-stack.js'
import { emulatorClient, ensurePrivateDnsNamespace, ensureService, registerInstance } from '../../infra/local/src/emulator/sdk-setup.js'
import { loadConfig } from '../../router/src/config.js'
import { createRouter } from '../../router/src/router.js'
import { createLogger } from '../../router/src/log.js'
import { ensurePrometheus } from '../../infra/observability/src/install.js'
import { PrometheusServer, pollUntil } from '../../infra/observability/src/prometheus-server.js'
import { interpolate, readDashboard, type QueryContext } from '../../infra/observability/src/grafana.js'
import { RULES_FILE, readAlertRules } from '../../infra/observability/src/alert-rules.js'

const skip = ensurePrometheus()
if (skip !== undefined) t.comment(`SKIPPED: ${skip}`)

/** Grafana with a 1 s scrape interval set on the data source: $__interval 1s, so $__rate_interval = 4s. */
const CONTEXT: QueryContext = { intervalSeconds: 1, scrapeIntervalSeconds: 1, rangeSeconds: 300 }

/** A port nothing listens on (bound, then released). */
function deadPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => resolve(a !== null && typeof a === 'object' ? a.port : 0))
    })
  })
}

function openWs(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${String(res.statusCode)}`)))
  })
}

function closed(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve())))
}

const hostPort = (url: string): string => new URL(url).host

t.test('every dashboard panel query returns data from a real Prometheus scraping the local stack', { skip }, async (t) => {
  const dashboard = readDashboard()
  t.same(dashboard.panelsWithoutQueries, [], 'every panel has a query')
  // Parse every query with Grafana's substitution first: an unknown variable fails here, before any server starts.
  const queries = dashboard.queries.map((q) => ({ ...q, promql: interpolate(q.expr, dashboard.variables, CONTEXT) }))

  // The SDK in the Cloud Map router reads credentials from the environment (the emulator accepts any).
  process.env.AWS_ACCESS_KEY_ID ??= 'local'
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local'
  const stack = await startDevStack({ routerPort: 0, adminPort: 0, quiet: true })
  t.teardown(() => stack.close())
  const cmRouter = createRouter(
    loadConfig({
      HOST: '127.0.0.1',
      ADMIN_HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_PORT: '0',
      ADMIN_TOKEN: stack.adminToken,
      CLOUDMAP_NAMESPACE: 'ecs.internal',
      DISCOVERY_MODE: 'cloudmap',
      CLOUDMAP_ENDPOINT: stack.emulator.apiEndpoint,
      CLOUDMAP_REGION: 'us-east-1',
      CLOUDMAP_REVISION_POLL_MS: '100',
      CLOUDMAP_BACKOFF_BASE_MS: '50',
      CLOUDMAP_BACKOFF_MAX_MS: '200',
    }),
    { logger: createLogger({ write: () => undefined }) },
  )
  await cmRouter.listen()
  t.teardown(() => cmRouter.close())
  const cmUrl = `http://127.0.0.1:${cmRouter.port()}`

  // A deployment whose two registered instances refuse connections: 502s, retries, an ejection.
  const client = emulatorClient(stack.emulator.apiEndpoint)
  t.teardown(() => client.destroy())
  const namespaceId = await ensurePrivateDnsNamespace(client, 'ecs.internal')
  const ghost = await ensureService(client, { namespaceId, name: 'ghost', records: [{ type: 'SRV', ttl: 5 }], customHealth: true })
  for (const id of ['ghost-1', 'ghost-2']) await registerInstance(client, { serviceId: ghost, instanceId: id, ipv4: '127.0.0.1', port: await deadPort(), attributes: { status: 'ACTIVE' } })

  const prom = await PrometheusServer.start({
    scrapeIntervalSeconds: 1,
    ruleFiles: [RULES_FILE],
    jobs: [
      { job: 'router', targets: [hostPort(stack.adminUrl), `127.0.0.1:${cmRouter.adminPort()}`] },
      { job: 'media-node', targets: stack.mediaNodeAdminUrls.map(hostPort) },
    ],
  })
  t.teardown(() => prom.close())
  const up = await pollUntil('every target scraped', 30_000, async () => {
    const targets = await prom.targets()
    return targets.length === 4 && targets.every((x) => x.health === 'up') ? targets : undefined
  })
  t.same(up.map((x) => x.job).sort(), ['media-node', 'media-node', 'router', 'router'], 'two routers and two media nodes are up')

  // HTTP through the router: 2xx, a 404, 502s.
  const statuses = new Set<number>()
  const get = async (url: string): Promise<void> => {
    const r = await request(url)
    await r.body.text()
    statuses.add(r.statusCode)
  }
  for (let i = 0; i < 10; i++) await get(`${stack.routerUrl}/services/hello/x`)
  await get(`${stack.routerUrl}/services/nope/x`)
  for (let i = 0; i < 6; i++) await get(`${stack.routerUrl}/services/ghost/x`)
  await get(`${stack.routerUrl}/media/node-1/status`)
  t.ok(statuses.has(200) && statuses.has(404) && statuses.has(502), `2xx, 4xx and 5xx answered: ${[...statuses].join(', ')}`)

  // WebSockets through the router: a relayed message, a normal close and an application code.
  const wsBase = `${stack.routerUrl.replace('http', 'ws')}/media`
  const a = await openWs(`${wsBase}/node-1/ws/observability`)
  const b = await openWs(`${wsBase}/node-1/ws/observability`)
  const got = new Promise<string>((r) => b.once('message', (d: Buffer) => r(d.toString())))
  a.send('hello through the router')
  t.equal(await got, 'hello through the router')
  a.close(1000)
  b.close(4000, 'app reason')
  await Promise.all([closed(a), closed(b)])
  // A drain: node-2 keeps one session (so it stays DRAINING) and refuses a new one.
  const keep = await openWs(`${wsBase}/node-2/ws/keep`)
  t.teardown(() => keep.terminate())
  // Drained as an operator would: POST /admin/drain on the node's admin port (a deadline, 1001 at its end).
  const drain = await request(`${stack.mediaNodeAdminUrls[1] ?? ''}/admin/drain`, { method: 'POST', headers: { authorization: `Bearer ${stack.adminToken}` } })
  await drain.body.text()
  t.equal(drain.statusCode, 202, 'node-2 drains')
  await t.rejects(openWs(`${wsBase}/node-2/ws/late`), /unexpected response 503/, 'a draining node refuses new WebSockets')

  // Cloud Map: lookups through the cloudmap router, then throttling until Prometheus has seen a throttled call.
  for (let i = 0; i < 3; i++) {
    const r = await request(`${cmUrl}/services/hello/x`)
    await r.body.text()
    t.equal(r.statusCode, 200, 'the Cloud Map router routes')
  }
  stack.emulator.setThrottle(0.5)
  await pollUntil('a throttled Cloud Map call in Prometheus', 30_000, async () => {
    const r = await request(`${cmUrl}/services/echo/x`)
    await r.body.text()
    return (await prom.query('sum(router_cloudmap_calls_total{job="router",outcome="throttled"}) > 0')).series.length > 0 ? true : undefined
  })
  stack.emulator.setThrottle(0)

  // The check itself: every panel query, until each has data or the deadline passes.
  const pending = new Map(queries.map((q) => [`${q.row ?? ''} / ${q.panel} / ${q.refId}`, q]))
  const errors = new Map<string, string>()
  try {
    await pollUntil(`data for every panel query`, 45_000, async () => {
      await Promise.all(
        [...pending].map(async ([key, q]) => {
          try {
            if ((await prom.query(q.promql)).series.length > 0) pending.delete(key)
            errors.delete(key)
          } catch (err) {
            errors.set(key, String(err))
          }
        }),
      )
      return pending.size === 0 ? true : undefined
    }, 500)
  } catch {
    // Reported per query below.
  }
  for (const q of queries) {
    const key = `${q.row ?? ''} / ${q.panel} / ${q.refId}`
    t.notOk(pending.has(key), `${key} returns data`, { promql: q.promql, error: errors.get(key) })
  }
  t.ok(queries.length >= 40, `${queries.length} queries in ${dashboard.panelCount} panels checked`)

  // The variable query of $route, as Grafana runs label_values() on Prometheus.
  const route = dashboard.variables.find((v) => v.name === 'route')
  t.equal(route?.query, 'label_values(router_http_requests_total{job="$router_job"}, route)')
  const routes = await prom.labelValues('route', 'router_http_requests_total{job="router"}')
  t.ok(routes.includes('services') && routes.includes('media'), `$route offers ${routes.join(', ')}`)

  // The alert rules loaded into this Prometheus evaluate without error against real series.
  const names = readAlertRules().map((r) => r.alert).sort()
  const rules = await pollUntil('every alert rule evaluated', 20_000, async () => {
    const rs = await prom.rules()
    return rs.length === names.length && rs.every((r) => r.health !== 'unknown') ? rs : undefined
  })
  t.same(rules.map((r) => r.name).sort(), names, 'Prometheus loaded every alert')
  for (const r of rules) t.equal(r.health, 'ok', `${r.name} evaluates${r.lastError !== '' ? `: ${r.lastError}` : ''}`)

  // The check can fail: a query for a series nobody exports is empty.
  t.same((await prom.query('router_no_such_metric_total')).series, [], 'an unknown metric returns no data')
})
