// Percentiles, summaries, median-with-range and the sample buffer.

import t from 'tap'
import { SampleBuffer, medianRange, percentile, percentileSorted, summarize } from '../../loadtest/src/lib/percentiles.js'

t.test('nearest-rank percentiles', async (t) => {
  const v = Array.from({ length: 100 }, (_, i) => 100 - i) // 100..1, unsorted
  t.equal(percentile(v, 50), 50)
  t.equal(percentile(v, 95), 95)
  t.equal(percentile(v, 99), 99)
  t.equal(percentile(v, 100), 100)
  t.equal(percentile(v, 0), 1)
  t.equal(percentile([7], 99), 7, 'a single sample is every percentile')
  t.equal(percentile([1, 2, 3, 4], 50), 2, 'rank ceil(0.5*4)=2')
  t.equal(percentile([1, 2, 3, 4], 51), 3)
  t.ok(Number.isNaN(percentile([], 50)), 'empty → NaN')
  t.throws(() => percentileSorted([1], 101), RangeError)
  t.throws(() => percentileSorted([1], -1), RangeError)
})

t.test('percentile does not mutate its input', async (t) => {
  const v = [3, 1, 2]
  percentile(v, 50)
  t.same(v, [3, 1, 2])
})

t.test('summarize', async (t) => {
  const s = summarize([5, 1, 4, 2, 3])
  t.same(s, { count: 5, min: 1, mean: 3, p50: 3, p90: 5, p95: 5, p99: 5, max: 5 })
  const empty = summarize([])
  t.equal(empty.count, 0)
  t.ok(Number.isNaN(empty.p99))
})

t.test('medianRange', async (t) => {
  t.same(medianRange([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 })
  t.same(medianRange([4, 1, 2, 3]), { median: 2.5, min: 1, max: 4, n: 4 })
  t.same(medianRange([Number.NaN, 5]), { median: 5, min: 5, max: 5, n: 1 }, 'NaN ignored')
  t.equal(medianRange([]), null)
  t.equal(medianRange([Number.NaN]), null)
})

t.test('SampleBuffer grows and caps', async (t) => {
  const b = new SampleBuffer(16, 40)
  for (let i = 1; i <= 50; i++) b.push(i)
  t.equal(b.length, 40)
  t.equal(b.dropped, 10)
  t.equal(b.summary().max, 40)
  t.equal(b.values()[0], 1)
  b.clear()
  t.equal(b.length, 0)
  t.equal(b.summary().count, 0)
})
