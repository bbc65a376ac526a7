// Grafana's variable substitution as the dashboard test applies it, and the
// dashboard file's own shape: every panel has a query, every variable it uses
// exists, every metric it names is one the router or media node exports.
import t from 'tap'
import { interpolate, parseDashboard, rateIntervalSeconds, readDashboard, type DashboardVariable } from '../../infra/observability/src/grafana.js'

const ctx = { intervalSeconds: 15, scrapeIntervalSeconds: 15, rangeSeconds: 3600 }
const v = (name: string, current: string[], more: Partial<DashboardVariable> = {}): DashboardVariable => ({ name, type: 'custom', current, multi: false, includeAll: false, allValue: undefined, query: undefined, ...more })

t.test('$__rate_interval is max($__interval + scrape interval, 4 × scrape interval), as Grafana computes it', async (t) => {
  t.equal(rateIntervalSeconds({ intervalSeconds: 15, scrapeIntervalSeconds: 15, rangeSeconds: 0 }), 60)
  t.equal(rateIntervalSeconds({ intervalSeconds: 120, scrapeIntervalSeconds: 15, rangeSeconds: 0 }), 135)
  t.equal(rateIntervalSeconds({ intervalSeconds: 1, scrapeIntervalSeconds: 1, rangeSeconds: 0 }), 4)
})

t.test('variables are substituted the way the Prometheus data source does', async (t) => {
  const vars = [
    v('job', ['router']),
    v('route', ['$__all'], { type: 'query', multi: true, includeAll: true, allValue: '.*' }),
    v('two', ['services', 'media'], { type: 'query', multi: true }),
    v('dotted', ['a.b'], { type: 'query', multi: true }),
  ]
  const cases: Array<[string, string]> = [
    ['rate(x{job="$job"}[$__rate_interval])', 'rate(x{job="router"}[60s])'],
    ['x{job="${job}"}[$__interval]', 'x{job="router"}[15s]'],
    ['x{job="[[job]]"}[$__range]', 'x{job="router"}[3600s]'],
    ['x{route=~"$route"}', 'x{route=~".*"}'],
    ['x{route=~"$two"}', 'x{route=~"(services|media)"}'],
    ['x{route=~"$dotted"}', 'x{route=~"a\\\\.b"}'],
    ['x{route="${dotted:raw}"}', 'x{route="a.b"}'],
  ]
  for (const [expr, want] of cases) t.equal(interpolate(expr, vars, ctx), want, expr)
  t.throws(() => interpolate('x{job="$nope"}', vars, ctx), /unknown variable \$nope/)
  t.throws(() => interpolate('x{r=~"$r"}', [v('r', ['$__all'], { includeAll: true })], ctx), /allValue/)
})

t.test('the dashboard: panels with queries, known variables, exported metric names only', async (t) => {
  const d = readDashboard()
  t.equal(d.uid, 'ecs-edge-router')
  t.same(d.panelsWithoutQueries, [])
  t.ok(d.panelCount >= 30, `${d.panelCount} panels`)
  for (const q of d.queries) t.doesNotThrow(() => interpolate(q.expr, d.variables, ctx), `${q.panel} ${q.refId}: every variable is defined`)
  // Names our processes export (router/src/admin/metrics.ts, media-node/src/metrics.ts, prom-client defaults) and Prometheus's own `up`.
  const known = /^(up|router_[a-z_]+|media_node_[a-z_]+|process_[a-z_]+|nodejs_[a-z0-9_]+)$/
  for (const q of d.queries) {
    for (const m of q.expr.matchAll(/\b([a-z_][a-z0-9_]*)\{/g)) {
      const name = m[1] ?? ''
      t.match(name, known, `${q.panel} ${q.refId}: ${name}`)
    }
  }
  // Panels after a row header belong to that row.
  t.ok(d.queries.every((q) => q.row !== undefined), 'every panel sits in a row')
  t.same(parseDashboard(JSON.stringify({ title: 'x', uid: 'u', panels: [{ type: 'row', title: 'r', collapsed: true, panels: [{ type: 'stat', title: 'p', targets: [{ refId: 'A', expr: 'up' }] }] }], templating: { list: [] } })).queries, [{ panel: 'p', row: 'r', refId: 'A', expr: 'up' }], 'collapsed rows are read too')
})
