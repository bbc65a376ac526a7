// Round-robin balancing: a counter per target key walks its endpoint list.

import type { Endpoint } from '../discovery/discovery.js'
import type { Balancer } from './balancer.js'

export class RoundRobinBalancer implements Balancer {
  readonly name = 'round-robin'
  readonly #next = new Map<string, number>()
  readonly #maxKeys: number

  constructor(maxKeys = 100_000) {
    this.#maxKeys = maxKeys
  }

  pick(key: string, endpoints: readonly Endpoint[], exclude?: ReadonlySet<string>): Endpoint | undefined {
    const n = endpoints.length
    if (n === 0) return undefined
    if (n === 1) return endpoints[0]
    let i = this.#next.get(key) ?? 0
    if (i === 0 && this.#next.size >= this.#maxKeys) this.#next.clear()
    for (let tries = 0; tries < n; tries++) {
      const e = endpoints[(i + tries) % n]
      if (e !== undefined && (exclude === undefined || !exclude.has(e.id))) {
        this.#next.set(key, (i + tries + 1) % n)
        return e
      }
    }
    i = i % n
    this.#next.set(key, (i + 1) % n)
    return endpoints[i]
  }
}
