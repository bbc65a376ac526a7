// ROUTER_WORKERS=2: workers share the main port, the primary's /metrics sums
// both workers, /admin/routes shows each worker's view, SIGTERM drains all.
import t from 'tap'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { request } from 'undici'
import { startUpstream } from '../fixtures/upstream.js'
import { startRouterProcess } from '../fixtures/router-process.js'
import { ADMIN_TOKEN } from '../fixtures/router.js'
import { assertPromtoolAccepts } from '../fixtures/promtool.js'

t.test('cluster mode', async (t) => {
  const up = await startUpstream('a')
  t.teardown(() => up.close())
  const file = staticDiscoveryFile({ dep: [{ id: 'a', port: up.port }] })
  const rp = await startRouterProcess({ ROUTER_WORKERS: '2', DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, ADMIN_TOKEN, DRAIN_DELAY_MS: '0', ACCESS_LOG: 'false' })
  t.teardown(() => rp.stop('SIGKILL'))
  const N = 60
  for (let i = 0; i < N; i++) {
    // A new connection each time so both workers get some.
    const r = await request(`http://127.0.0.1:${rp.port}/services/dep/x`, { reset: true })
    t.equal(r.statusCode, 200)
    await r.body.text()
  }
  const metrics = await (await request(`http://127.0.0.1:${rp.adminPort}/metrics`)).body.text()
  t.comment(metrics.split('\n').filter((l) => l.startsWith('router_http_requests_total')).join(' / '))
  t.match(metrics, new RegExp(`router_http_requests_total\\{route="services",status_class="2xx"\\} ${N}\\b`), 'aggregated across workers')
  assertPromtoolAccepts(t, metrics, "the cluster primary's aggregated /metrics")
  const routes = await request(`http://127.0.0.1:${rp.adminPort}/admin/routes`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  const view = JSON.parse(await routes.body.text()) as { workers: Array<{ pid: number; targets: unknown[]; routes: Array<{ name: string }> }> }
  t.equal(view.workers.length, 2, 'one view per worker')
  for (const w of view.workers) t.same(w.routes.map((r) => r.name), ['media', 'services'], 'each worker shows its route table')
  t.equal(new Set(view.workers.map((w) => w.pid)).size, 2)
  const served = view.workers.filter((w) => w.targets.length > 0).length
  t.equal(served, 2, 'both workers served requests')
  const unauth = await request(`http://127.0.0.1:${rp.adminPort}/admin/routes`)
  t.equal(unauth.statusCode, 401)
  await unauth.body.text()
  t.equal(await rp.stop('SIGTERM'), 0, 'drained and exited 0')
})
