// Metric cells (router/src/admin/metric-cells.ts) against prom-client itself:
// the same observations through a cell and through prom-client's own
// Counter/Histogram give the same text exposition, the same JSON (what the
// cluster primary aggregates) and the same aggregate over two "workers".
import t from 'tap'
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client'
import { CellCounter, CellHistogram } from '../../router/src/admin/metric-cells.js'
import { prng } from '../fixtures/prng.js'

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

interface Pair {
  readonly cells: Registry
  readonly reference: Registry
  readonly cellCounter: CellCounter<'route' | 'status_class'>
  readonly cellHistogram: CellHistogram<'route'>
  readonly refCounter: Counter<'route' | 'status_class'>
  readonly refHistogram: Histogram<'route'>
}

function pair(): Pair {
  const cells = new Registry()
  const reference = new Registry()
  const counter = { name: 'test_requests_total', help: 'Requests.', labelNames: ['route', 'status_class'] as const }
  const histogram = { name: 'test_duration_seconds', help: 'Durations.', labelNames: ['route'] as const, buckets: BUCKETS }
  return {
    cells,
    reference,
    cellCounter: new CellCounter({ ...counter, labelNames: [...counter.labelNames], registers: [cells] }),
    cellHistogram: new CellHistogram({ ...histogram, labelNames: [...histogram.labelNames], buckets: [...BUCKETS], registers: [cells] }),
    refCounter: new Counter({ ...counter, labelNames: [...counter.labelNames], registers: [reference] }),
    refHistogram: new Histogram({ ...histogram, labelNames: [...histogram.labelNames], buckets: [...BUCKETS], registers: [reference] }),
  }
}

const ROUTES = ['services', 'media', 'none'] as const
const CLASSES = ['2xx', '4xx', '5xx'] as const

/** Feed `n` seeded observations to both sides; values cover every bucket, the bounds themselves and +Inf. */
function feed(p: Pair, seed: number, n: number): void {
  const rnd = prng(seed)
  for (let i = 0; i < n; i++) {
    const route = ROUTES[Math.floor(rnd() * ROUTES.length)] ?? 'none'
    const cls = CLASSES[Math.floor(rnd() * CLASSES.length)] ?? '2xx'
    const pick = rnd()
    const value = pick < 0.1 ? (BUCKETS[Math.floor(rnd() * BUCKETS.length)] ?? 1) : pick < 0.15 ? 31 + rnd() * 100 : Math.exp(rnd() * 12 - 9)
    p.cellCounter.cell({ route, status_class: cls }).inc()
    p.refCounter.labels(route, cls).inc()
    p.cellHistogram.cell({ route }).observe(value)
    p.refHistogram.labels(route).observe(value)
  }
}

t.test('text exposition equals prom-client after the same observations', async (t) => {
  const p = pair()
  feed(p, 1, 5000)
  t.equal(await p.cells.metrics(), await p.reference.metrics())
  // Reading again (pending counts were added on the first read) changes nothing.
  t.equal(await p.cells.metrics(), await p.reference.metrics(), 'a second scrape is the same')
  feed(p, 2, 1000)
  t.equal(await p.cells.metrics(), await p.reference.metrics(), 'and after more traffic')
  t.match(await p.cells.metrics(), /test_duration_seconds_bucket\{le="\+Inf",route="services"\} \d+/)
})

t.test('JSON (what cluster workers send) and the primary\'s aggregate equal prom-client\'s', async (t) => {
  const a = pair()
  const b = pair()
  feed(a, 3, 2000)
  feed(b, 4, 3000)
  t.same(await a.cells.getMetricsAsJSON(), await a.reference.getMetricsAsJSON())
  const cellsAgg = AggregatorRegistry.aggregate([await a.cells.getMetricsAsJSON(), await b.cells.getMetricsAsJSON()])
  const refAgg = AggregatorRegistry.aggregate([await a.reference.getMetricsAsJSON(), await b.reference.getMetricsAsJSON()])
  t.equal(await cellsAgg.metrics(), await refAgg.metrics())
})

t.test('the ordinary prom-client API still counts on a cell metric', async (t) => {
  const p = pair()
  p.cellCounter.labels('none', '4xx').inc()
  p.cellCounter.cell({ route: 'none', status_class: '4xx' }).inc(2)
  p.refCounter.labels('none', '4xx').inc(3)
  p.cellHistogram.observe({ route: 'media' }, 0.003)
  p.refHistogram.observe({ route: 'media' }, 0.003)
  t.equal(await p.cells.metrics(), await p.reference.metrics())
})

t.test('non-finite observations are ignored; reset empties cells that callers still hold', async (t) => {
  const p = pair()
  const cell = p.cellHistogram.cell({ route: 'services' })
  const counter = p.cellCounter.cell({ route: 'services', status_class: '2xx' })
  cell.observe(Number.NaN)
  cell.observe(Number.POSITIVE_INFINITY)
  cell.observe(0.002)
  counter.inc()
  p.refHistogram.labels('services').observe(0.002)
  p.refCounter.labels('services', '2xx').inc()
  t.equal(await p.cells.metrics(), await p.reference.metrics())
  counter.inc(5)
  p.cells.resetMetrics()
  p.reference.resetMetrics()
  t.notMatch(await p.cells.metrics(), /route="services"/, 'no series after reset, pending counts dropped')
  t.equal(await p.cells.metrics(), await p.reference.metrics())
  t.equal(p.cellHistogram.cell({ route: 'services' }), cell, 'the same cell after reset')
  cell.observe(0.2)
  counter.inc()
  p.refHistogram.labels('services').observe(0.2)
  p.refCounter.labels('services', '2xx').inc()
  t.equal(await p.cells.metrics(), await p.reference.metrics(), 'held cells count again after reset')
})
