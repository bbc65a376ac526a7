// Outstanding requests per endpoint (keyed by host:port), shared by the
// proxy paths (which count) and least-loaded balancers (which read).
// An endpoint's entry stays at 0 when its last request ends: deleting it and
// adding it back on the next request made V8 rebuild the Map's hash table
// twice per request, and for a long-lived Map it builds them in the old
// generation, so every request left old-space garbage behind (more major
// GCs). Entries at 0 are swept once the Map has doubled since the last sweep,
// so endpoints that went away do not pile up. An endpoint's key is made once
// per Endpoint object (discovery hands out the same objects until it
// refreshes).

import type { Endpoint } from '../discovery/discovery.js'

/** Each endpoint's key, made once: a request asks for it about seven times (balancer, load, outliers, pool, log). */
const keys = new WeakMap<Endpoint, string>()

/** `host:port`, the key of an endpoint's load, outlier state and upstream pool. */
export function endpointKey(e: Endpoint): string {
  let k = keys.get(e)
  if (k === undefined) {
    k = `${e.host}:${e.port}`
    keys.set(e, k)
  }
  return k
}

/** The fewest entries a sweep waits for. */
const MIN_SWEEP_AT = 64

export class LoadTracker {
  readonly #inflight = new Map<string, number>()
  #sweepAt = MIN_SWEEP_AT

  get(e: Endpoint): number {
    return this.#inflight.get(endpointKey(e)) ?? 0
  }

  start(e: Endpoint): void {
    const k = endpointKey(e)
    this.#inflight.set(k, (this.#inflight.get(k) ?? 0) + 1)
    if (this.#inflight.size > this.#sweepAt) this.#sweep()
  }

  end(e: Endpoint): void {
    const k = endpointKey(e)
    const n = (this.#inflight.get(k) ?? 0) - 1
    this.#inflight.set(k, n > 0 ? n : 0)
  }

  /** Entries kept (endpoints with requests in flight, and idle ones not swept yet). */
  get size(): number {
    return this.#inflight.size
  }

  #sweep(): void {
    for (const [k, n] of this.#inflight) if (n === 0) this.#inflight.delete(k)
    this.#sweepAt = Math.max(MIN_SWEEP_AT, 2 * this.#inflight.size)
  }
}
