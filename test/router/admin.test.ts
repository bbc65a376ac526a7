// Admin listener: bearer auth (401 without/with a wrong token), the routes
// view, and /metrics in valid Prometheus text with bounded labels.
import t from 'tap'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { request } from 'undici'
import { assertPromtoolAccepts } from '../fixtures/promtool.js'
import { MISNAMED_DEFAULT_GAUGES } from '../../router/src/admin/metrics.js'
import { ADMIN_TOKEN, startRouter } from '../fixtures/router.js'
import { startUpstream } from '../fixtures/upstream.js'
import { bearerMatches } from '../../router/src/admin/auth.js'

/** Minimal exposition-format check: every sample line parses and has a TYPE. */
function checkExposition(text: string): string[] {
  const problems: string[] = []
  const typed = new Set<string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const ty = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (ty?.[1] !== undefined) {
      typed.add(ty[1])
      continue
    }
    if (line.startsWith('# HELP ')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( \d+)?$/.exec(line)
    if (m?.[1] === undefined) {
      problems.push(`unparsable: ${line}`)
      continue
    }
    const base = m[1].replace(/_(bucket|sum|count|total|created)$/, '')
    if (!typed.has(m[1]) && !typed.has(base) && !typed.has(`${base}_total`)) problems.push(`no TYPE for ${m[1]}`)
  }
  return problems
}

t.test('bearer comparison', async (t) => {
  t.ok(bearerMatches('Bearer abc', 'abc'))
  t.ok(bearerMatches('bearer abc', 'abc'))
  t.notOk(bearerMatches('Bearer abd', 'abc'))
  t.notOk(bearerMatches('Bearer abcd', 'abc'))
  t.notOk(bearerMatches('Basic abc', 'abc'))
  t.notOk(bearerMatches(undefined, 'abc'))
  t.notOk(bearerMatches('Bearer ', ''))
  t.notOk(bearerMatches('Bearer abc', undefined))
})

t.test('admin endpoints and metrics', async (t) => {
  const up = await startUpstream('a')
  const file = staticDiscoveryFile({ 'dep-123': [{ id: 'i-1', port: up.port }], media: [{ id: 'node-77', port: up.port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file })
  t.teardown(async () => {
    await rt.close()
    await up.close()
  })
  for (const path of ['/services/dep-123/a', '/media/node-77/b', '/services/missing/c', '/nope']) {
    const r = await request(`${rt.url}${path}`)
    await r.body.text()
  }

  const none = await request(`${rt.adminUrl}/admin/routes`)
  t.equal(none.statusCode, 401)
  t.match(JSON.parse(await none.body.text()), { code: 'UNAUTHORIZED' })
  const wrong = await request(`${rt.adminUrl}/admin/routes`, { headers: { authorization: 'Bearer not-the-token-at-all' } })
  t.equal(wrong.statusCode, 401)
  await wrong.body.text()
  const ok = await request(`${rt.adminUrl}/admin/routes`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(ok.statusCode, 200)
  const view = JSON.parse(await ok.body.text()) as { routes: Array<{ name: string }>; targets: Array<{ key: string }> }
  t.same(view.routes.map((r) => r.name), ['media', 'services'])
  t.ok(view.targets.some((x) => x.key === 'service:dep-123'))

  const mainAdmin = await request(`${rt.url}/admin/routes`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(mainAdmin.statusCode, 404, 'admin is not served on the main port')
  await mainAdmin.body.text()

  const m = await request(`${rt.adminUrl}/metrics`)
  t.equal(m.statusCode, 200)
  t.match(m.headers['content-type'], /text\/plain/)
  const text = await m.body.text()
  t.same(checkExposition(text), [], 'exposition parses')
  t.match(text, /router_http_requests_total\{route="services",status_class="2xx"\} 1/)
  t.match(text, /router_http_requests_total\{route="media",status_class="2xx"\} 1/)
  t.match(text, /router_http_requests_total\{route="services",status_class="4xx"\} 1/)
  t.match(text, /router_http_requests_total\{route="none",status_class="4xx"\} 2/, "/nope and /admin/routes on the main port")
  t.match(text, /router_discovery_lookups_total\{backend="static",outcome="negative"\} 1/)
  // The duration histogram (metric cells): one series per route template, counted per request.
  t.match(text, /\nrouter_http_request_duration_seconds_count\{route="services"\} 2\n/)
  t.match(text, /\nrouter_http_request_duration_seconds_bucket\{le="\+Inf",route="media"\} 1\n/)
  t.match(text, /\nrouter_http_request_duration_seconds_count\{route="none"\} 2\n/)
  t.match(text, /\nrouter_http_request_duration_seconds_sum\{route="media"\} [0-9.e-]+\n/)
  t.match(text, /process_cpu_user_seconds_total/)
  t.match(text, /\nrouter_draining 0\n/, 'not draining')
  t.match(text, /\nrouter_discovery_stale_targets 0\n/, 'nothing served stale')
  t.notMatch(text, /dep-123|node-77|missing/, 'no raw ids in labels')

  for (const name of MISNAMED_DEFAULT_GAUGES) t.notMatch(text, new RegExp(`^${name} `, 'm'), `${name} (a gauge with a counter's suffix) is not exported`)
  t.match(text, /\nnodejs_active_handles\{type="[A-Za-z]+"\} \d+\n/, 'the per-type handle gauge stays')
  t.match(text, /\nnodejs_eventloop_lag_p99_seconds \d/, 'other default metrics stay')
  assertPromtoolAccepts(t, text, "the router's /metrics")

  rt.router.setServing(false)
  const draining = await (await request(`${rt.adminUrl}/metrics`)).body.text()
  t.match(draining, /\nrouter_draining 1\n/, 'draining shows at the next scrape')
})
