// Passive outlier ejection: an endpoint failing N connects in a row is skipped
// for an interval that doubles on each repeat ejection (capped), then tried
// again. Never ejects the last usable endpoint of a list.

import type { Endpoint } from '../discovery/discovery.js'
import { endpointKey } from './load-tracker.js'

export interface OutlierOptions {
  readonly consecutiveFailures: number
  readonly baseEjectionMs: number
  readonly maxEjectionMs: number
  readonly now?: () => number
}

interface Health {
  failures: number
  ejections: number
  ejectedUntil: number
}

export class OutlierDetector {
  readonly #o: OutlierOptions
  readonly #now: () => number
  readonly #state = new Map<string, Health>()

  constructor(o: OutlierOptions) {
    this.#o = o
    this.#now = o.now ?? (() => performance.now())
  }

  /** A connection to `e` failed. Returns true when this ejected it. */
  failure(e: Endpoint): boolean {
    const k = endpointKey(e)
    let h = this.#state.get(k)
    if (h === undefined) {
      h = { failures: 0, ejections: 0, ejectedUntil: 0 }
      this.#state.set(k, h)
    }
    h.failures++
    if (h.failures >= this.#o.consecutiveFailures && h.ejectedUntil <= this.#now()) {
      h.ejections++
      const ms = Math.min(this.#o.maxEjectionMs, this.#o.baseEjectionMs * 2 ** Math.min(h.ejections - 1, 20))
      h.ejectedUntil = this.#now() + ms
      h.failures = 0
      return true
    }
    return false
  }

  /** `e` answered: its failure streak ends (ejection count decays only on success). */
  success(e: Endpoint): void {
    const k = endpointKey(e)
    const h = this.#state.get(k)
    if (h === undefined) return
    if (h.ejectedUntil <= this.#now()) this.#state.delete(k)
    else h.failures = 0
  }

  isEjected(e: Endpoint): boolean {
    const h = this.#state.get(endpointKey(e))
    return h !== undefined && h.ejectedUntil > this.#now()
  }

  /** Drop ejected endpoints, unless that would leave none. */
  filter(endpoints: readonly Endpoint[]): readonly Endpoint[] {
    if (this.#state.size === 0) return endpoints
    const kept = endpoints.filter((e) => !this.isEjected(e))
    return kept.length > 0 ? kept : endpoints
  }

  /** Endpoints ejected now, for the admin view. */
  ejected(): Array<{ endpoint: string; untilMs: number; ejections: number }> {
    const now = this.#now()
    return [...this.#state.entries()].filter(([, h]) => h.ejectedUntil > now).map(([endpoint, h]) => ({ endpoint, untilMs: Math.round(h.ejectedUntil - now), ejections: h.ejections }))
  }
}
