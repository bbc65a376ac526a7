// Metric cells for the per-request hot path. prom-client validates and hashes
// the labels on every inc()/observe(), even on a label-bound child (≈0.3 µs
// per counter increment and ≈0.7 µs per histogram observation on this
// machine: the largest metric cost of a proxied request). A cell is bound
// once per label set and is a plain number add; the Registry sees it when it
// reads the metric (scrape, or the cluster primary's aggregation):
// - CellCounter: a prom-client Counter whose cells' pending counts are added
//   to it just before it is read;
// - CellHistogram: a prom-client Histogram whose cells are exported next to
//   anything observed through the ordinary prom-client API, in the same
//   series format (cumulative `_bucket` with `le`, `_sum`, `_count`).

import { Counter, Histogram, type CounterConfiguration, type HistogramConfiguration, type MetricObjectWithValues } from 'prom-client'

/** One series value as prom-client's Histogram#getForPromString returns it (lib/histogram.js, prom-client 15). */
interface PromStringValue {
  readonly value: number
  readonly metricName?: string
  /** The value's own labels (`le` for a bucket); prom-client's get() merges sharedLabels into this object. */
  readonly labels: Record<string, string | number>
  readonly sharedLabels: Readonly<Record<string, string | number>>
  readonly exemplar?: unknown
}

declare module 'prom-client' {
  interface Histogram<T extends string> {
    /** Untyped in index.d.ts but present in prom-client 15: the series before sharedLabels are merged into labels. */
    getForPromString(): Promise<MetricObjectWithValues<PromStringValue>>
  }
}

/** A counter bound to one label set. */
export class CounterCell<T extends string> {
  /** Increments not yet added to the prom-client Counter. */
  pending = 0

  constructor(readonly labels: Readonly<Record<T, string>>) {}

  inc(n = 1): void {
    this.pending += n
  }
}

/** A histogram bound to one label set: counts per bucket (not cumulative), sum and count. */
export class HistogramCell<T extends string> {
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(
    readonly labels: Readonly<Record<T, string>>,
    readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length)
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return
    const bounds = this.bounds
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] ?? Infinity)) {
        this.counts[i] = (this.counts[i] ?? 0) + 1
        break
      }
    }
    this.sum += value
    this.count++
  }

  clear(): void {
    this.counts.fill(0)
    this.sum = 0
    this.count = 0
  }
}

/** Cells are keyed by their label values in labelNames order. */
function cellKey<T extends string>(labelNames: readonly T[], labels: Readonly<Record<T, string>>): string {
  let key = ''
  for (const n of labelNames) key += `${labels[n] ?? ''}\u0000`
  return key
}

/** The cell under `key`, made on first use. */
function cellFor<C>(cells: Map<string, C>, key: string, make: () => C): C {
  let c = cells.get(key)
  if (c === undefined) {
    c = make()
    cells.set(key, c)
  }
  return c
}

/** A bucket value's own labels (the series labels go in sharedLabels, as prom-client does). */
function le(bound: number | string): Record<string, string | number> {
  return { le: bound }
}

export class CellCounter<T extends string> extends Counter<T> {
  readonly #names: readonly T[]
  readonly #cells = new Map<string, CounterCell<T>>()

  constructor(config: CounterConfiguration<T>) {
    super(config)
    this.#names = config.labelNames ?? []
  }

  /** The cell for these label values (created on first use, then reused). */
  cell(labels: Readonly<Record<T, string>>): CounterCell<T> {
    return cellFor(this.#cells, cellKey(this.#names, labels), () => new CounterCell(labels))
  }

  override async get(): ReturnType<Counter<T>['get']> {
    // The constructor's reset() runs before the field exists.
    if (#cells in this) {
      for (const c of this.#cells.values()) {
        if (c.pending === 0) continue
        this.inc(c.labels, c.pending)
        c.pending = 0
      }
    }
    return super.get()
  }

  /** Zeroes the cells instead of dropping them: callers keep their references. */
  override reset(): void {
    super.reset()
    if (#cells in this) for (const c of this.#cells.values()) c.pending = 0
  }
}

export class CellHistogram<T extends string> extends Histogram<T> {
  readonly #name: string
  readonly #names: readonly T[]
  readonly #bounds: readonly number[]
  readonly #cells = new Map<string, HistogramCell<T>>()

  constructor(config: HistogramConfiguration<T> & { readonly buckets: number[] }) {
    super(config)
    this.#name = config.name
    this.#names = config.labelNames ?? []
    this.#bounds = [...config.buckets].sort((a, b) => a - b)
  }

  /** The cell for these label values (created on first use, then reused). */
  cell(labels: Readonly<Record<T, string>>): HistogramCell<T> {
    return cellFor(this.#cells, cellKey(this.#names, labels), () => new HistogramCell(labels, this.#bounds))
  }

  /**
   * prom-client's own get() calls this and merges each value's sharedLabels
   * into its labels; Registry#metrics() calls it for the text format. Cell
   * series are appended in the shape prom-client gives its own: bucket values
   * carry `le` in labels and the series labels in sharedLabels.
   */
  override async getForPromString(): Promise<MetricObjectWithValues<PromStringValue>> {
    const base = await super.getForPromString()
    const bucket = `${this.#name}_bucket`
    for (const c of this.#cells.values()) {
      // Like prom-client, no series until something was observed (a reset cell is empty).
      if (c.count === 0) continue
      let acc = 0
      for (let i = 0; i < this.#bounds.length; i++) {
        acc += c.counts[i] ?? 0
        base.values.push({ labels: le(this.#bounds[i] ?? Infinity), sharedLabels: c.labels, value: acc, metricName: bucket, exemplar: null })
      }
      // Fresh label objects each time: prom-client's get() merges sharedLabels into them in place.
      base.values.push({ labels: le('+Inf'), sharedLabels: c.labels, value: c.count, metricName: bucket, exemplar: null })
      base.values.push({ labels: {}, sharedLabels: c.labels, value: c.sum, metricName: `${this.#name}_sum`, exemplar: undefined })
      base.values.push({ labels: {}, sharedLabels: c.labels, value: c.count, metricName: `${this.#name}_count`, exemplar: undefined })
    }
    return base
  }

  /** Zeroes the cells instead of dropping them: callers keep their references. */
  override reset(): void {
    super.reset()
    if (#cells in this) for (const c of this.#cells.values()) c.clear()
  }
}
