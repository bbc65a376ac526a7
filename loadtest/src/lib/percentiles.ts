// Latency samples and percentiles: a growable sample buffer plus pure summary
// functions (nearest-rank percentiles, mean, min/max, median with range).

/** A summary of one latency distribution, in the unit the samples were recorded in. */
export interface LatencySummary {
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p95: number
  p99: number
  max: number
}

/** Median of a set of repeated measurements with its spread. */
export interface MedianRange {
  median: number
  min: number
  max: number
  n: number
}

/** Element `i` of `a`; throws instead of returning undefined (callers check bounds first). */
function at(a: ArrayLike<number>, i: number): number {
  const v = a[i]
  if (v === undefined) throw new RangeError(`index ${i} out of range 0..${a.length - 1}`)
  return v
}

/**
 * Nearest-rank percentile of an ascending-sorted array.
 * `p` is in [0, 100]; returns NaN for an empty array.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new RangeError(`percentile must be within 0..100, got ${p}`)
  const n = sorted.length
  if (n === 0) return Number.NaN
  if (p === 0) return at(sorted, 0)
  const rank = Math.ceil((p / 100) * n)
  return at(sorted, Math.min(n, Math.max(1, rank)) - 1)
}

/** Nearest-rank percentile of an unsorted list (copies, does not mutate). */
export function percentile(values: ArrayLike<number>, p: number): number {
  return percentileSorted(sortedCopy(values), p)
}

function sortedCopy(values: ArrayLike<number>): Float64Array {
  const copy = Float64Array.from(values)
  copy.sort()
  return copy
}

/** Summarises samples; every field is NaN when there are none. */
export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = sortedCopy(values)
  const n = sorted.length
  if (n === 0) {
    return { count: 0, min: Number.NaN, mean: Number.NaN, p50: Number.NaN, p90: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN }
  }
  let sum = 0
  for (const v of sorted) sum += v
  return {
    count: n,
    min: at(sorted, 0),
    mean: sum / n,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p95: percentileSorted(sorted, 95),
    p99: percentileSorted(sorted, 99),
    max: at(sorted, n - 1),
  }
}

/**
 * Median (mean of the two middle values for an even count) with min and max,
 * ignoring NaN entries. Returns null when no finite value is left.
 */
export function medianRange(values: readonly number[]): MedianRange | null {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  const n = finite.length
  if (n === 0) return null
  const mid = Math.floor(n / 2)
  const median = n % 2 === 1 ? at(finite, mid) : (at(finite, mid - 1) + at(finite, mid)) / 2
  return { median, min: at(finite, 0), max: at(finite, n - 1), n }
}

/** An append-only buffer of numeric samples that grows without boxing. */
export class SampleBuffer {
  #data: Float64Array
  #length = 0
  readonly #limit: number

  /** `limit` caps memory: samples past it are dropped and counted in `dropped`. */
  constructor(initialCapacity = 1024, limit = 5_000_000) {
    this.#data = new Float64Array(Math.max(16, initialCapacity))
    this.#limit = limit
  }

  dropped = 0

  get length(): number {
    return this.#length
  }

  push(value: number): void {
    if (this.#length >= this.#limit) {
      this.dropped++
      return
    }
    if (this.#length === this.#data.length) {
      const next = new Float64Array(Math.min(this.#limit, this.#data.length * 2))
      next.set(this.#data)
      this.#data = next
    }
    this.#data[this.#length++] = value
  }

  /** A view of the recorded samples (shares memory; copy before mutating). */
  values(): Float64Array {
    return this.#data.subarray(0, this.#length)
  }

  summary(): LatencySummary {
    return summarize(this.values())
  }

  clear(): void {
    this.#length = 0
    this.dropped = 0
  }
}
