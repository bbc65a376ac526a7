// Per-second rates of counters for the admin dashboard, from successive
// readings: each reading is kept with its time for a sliding window, and a
// rate is the increase since the oldest reading in the window divided by the
// time between them (a counter that went down, e.g. a restarted worker, counts
// from zero). The clock is injected.

export interface RateWindowOptions {
  /** Readings older than this are dropped (one older reading is kept as the base). */
  readonly windowMs: number
  /** At most this many readings are kept. */
  readonly maxReadings?: number
  readonly now?: () => number
}

interface Reading {
  readonly at: number
  readonly values: ReadonlyMap<string, number>
}

export class RateWindow {
  readonly #o: RateWindowOptions
  readonly #now: () => number
  #readings: Reading[] = []

  constructor(o: RateWindowOptions) {
    if (!(o.windowMs > 0)) throw new RangeError('RateWindow: windowMs must be > 0')
    this.#o = o
    this.#now = o.now ?? (() => performance.now())
  }

  /**
   * Record the counters' current values and return each one's rate per
   * second over the window; undefined for a key until there are two readings
   * at different times.
   */
  observe(values: ReadonlyMap<string, number>): Map<string, number | undefined> {
    const at = this.#now()
    const readings = this.#readings
    readings.push({ at, values })
    // Keep the newest reading at or before the window start as the base.
    let drop = 0
    while (drop + 1 < readings.length && (readings[drop + 1]?.at ?? at) <= at - this.#o.windowMs) drop++
    const max = Math.max(2, this.#o.maxReadings ?? 120)
    drop = Math.max(drop, readings.length - max)
    if (drop > 0) this.#readings = readings.slice(drop)
    const base = this.#readings[0]
    const rates = new Map<string, number | undefined>()
    for (const [key, value] of values) {
      if (base === undefined || base.at >= at) {
        rates.set(key, undefined)
        continue
      }
      const before = base.values.get(key) ?? 0
      const increase = value >= before ? value - before : value
      rates.set(key, (increase * 1000) / (at - base.at))
    }
    return rates
  }
}
