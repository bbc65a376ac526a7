// Outstanding requests per endpoint (keyed by host:port), shared by the
// proxy paths (which count) and least-loaded balancers (which read).

import type { Endpoint } from '../discovery/discovery.js'

export function endpointKey(e: Endpoint): string {
  return `${e.host}:${e.port}`
}

export class LoadTracker {
  readonly #inflight = new Map<string, number>()

  get(e: Endpoint): number {
    return this.#inflight.get(endpointKey(e)) ?? 0
  }

  start(e: Endpoint): void {
    const k = endpointKey(e)
    this.#inflight.set(k, (this.#inflight.get(k) ?? 0) + 1)
  }

  end(e: Endpoint): void {
    const k = endpointKey(e)
    const n = (this.#inflight.get(k) ?? 0) - 1
    if (n <= 0) this.#inflight.delete(k)
    else this.#inflight.set(k, n)
  }
}
