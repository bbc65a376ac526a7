// SLO evaluation and formatting, and the runner's summary/exit code built on it.

import t from 'tap'
import { allMet, compare, evaluateSlos, formatSlo, formatValue, type Slo } from '../../loadtest/src/lib/slo.js'
import { evaluateReport, exitCode, summaryTable } from '../../loadtest/src/lib/summary.js'

t.test('compare', async (t) => {
  t.ok(compare(1, '<', 2))
  t.notOk(compare(2, '<', 2))
  t.ok(compare(2, '<=', 2))
  t.ok(compare(3, '>', 2))
  t.notOk(compare(2, '>', 2))
  t.ok(compare(2, '>=', 2))
  t.notOk(compare(Number.NaN, '<', 1), 'NaN never meets an objective')
  t.notOk(compare(Number.NaN, '>=', 0))
})

t.test('evaluateSlos: table of cases', async (t) => {
  const slos: Slo[] = [
    { metric: 'p95', op: '<', limit: 300, unit: 'ms' },
    { metric: 'errors', op: '<', limit: 1, unit: '%' },
    { metric: 'missing', op: '<', limit: 1, unit: '' },
  ]
  const cases: { m: Record<string, number>; ok: boolean[] }[] = [
    { m: { p95: 120, errors: 0.001 }, ok: [true, true, false] },
    { m: { p95: 300, errors: 0.01 }, ok: [false, false, false] },
    { m: { p95: 299.9, errors: 0.0099 }, ok: [true, true, false] },
    { m: { p95: Number.NaN, errors: 0, missing: 0 }, ok: [false, true, true] },
  ]
  for (const c of cases) {
    const r = evaluateSlos(slos, c.m)
    t.same(r.map((x) => x.ok), c.ok, JSON.stringify(c.m))
  }
  const r = evaluateSlos(slos, { p95: 1, errors: 0 })
  t.equal(r[2]?.value, null, 'missing metric has null value')
  t.notOk(allMet(r))
  t.ok(allMet([]))
  t.ok(allMet(evaluateSlos(slos.slice(0, 2), { p95: 1, errors: 0 })))
})

t.test('evaluateSlos ignores inherited keys', async (t) => {
  const r = evaluateSlos([{ metric: 'toString', op: '>', limit: 0, unit: '' }], {})
  t.equal(r[0]?.ok, false)
})

t.test('formatting', async (t) => {
  t.equal(formatSlo({ metric: 'http.p95', op: '<', limit: 300, unit: 'ms' }), 'http.p95 < 300 ms')
  t.equal(formatSlo({ metric: 'x', op: '>=', limit: 1, unit: '' }), 'x >= 1')
  t.equal(formatValue(0.0123, '%'), '1.23 %')
  t.equal(formatValue(1.234, 'ms'), '1.23 ms')
  t.equal(formatValue(12.34, 'ms'), '12.3 ms')
  t.equal(formatValue(1234.5, 'ms'), '1235 ms')
  t.equal(formatValue(3, ''), '3', 'counts print as integers')
  t.equal(formatValue(0.5, ''), '0.50')
  t.equal(formatValue(null, 'ms'), 'not measured')
  t.equal(formatValue(Number.NaN, 'ms'), 'n/a')
})

t.test('summary table and exit code', async (t) => {
  const pass = evaluateReport({ name: 'a', question: 'q', measurements: { p95: 10 }, slos: [{ metric: 'p95', op: '<', limit: 300, unit: 'ms' }], notes: [] })
  const fail = evaluateReport({ name: 'b', question: 'q', measurements: { p95: 900 }, slos: [{ metric: 'p95', op: '<', limit: 300, unit: 'ms' }], notes: [] })
  const skip = evaluateReport({ name: 'c', question: 'q', measurements: {}, slos: [{ metric: 'p95', op: '<', limit: 1, unit: 'ms' }], notes: [], skipped: 'no nodes' })
  const crash = evaluateReport({ name: 'd', question: 'q', measurements: {}, slos: [], notes: [], error: 'boom' })
  t.ok(pass.ok)
  t.notOk(fail.ok)
  t.ok(skip.ok, 'skipped scenarios pass')
  t.notOk(crash.ok, 'a crash fails')
  t.equal(exitCode([pass, skip]), 0)
  t.equal(exitCode([pass, fail]), 1)
  t.equal(exitCode([crash]), 1)
  const table = summaryTable([pass, fail, skip, crash])
  const lines = table.split('\n')
  t.match(lines[0] ?? '', /^scenario\s+objective\s+measured\s+result$/)
  t.match(table, /a\s+p95 < 300 ms\s+10.0 ms\s+pass/)
  t.match(table, /b\s+p95 < 300 ms\s+900 ms\s+FAIL/)
  t.match(table, /c\s+skipped: no nodes\s+—\s+SKIP/)
  t.match(table, /d\s+error: boom\s+—\s+FAIL/)
})
