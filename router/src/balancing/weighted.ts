// Smooth weighted round-robin (the nginx algorithm): each pick adds every
// endpoint's weight to its current score, takes the highest, and subtracts the
// total from the winner. Exact proportions, spread out, per target key.

import type { Endpoint } from '../discovery/discovery.js'
import type { Balancer } from './balancer.js'
import { weightOf } from './weight.js'

export class WeightedBalancer implements Balancer {
  readonly name = 'weighted'
  /** target key → endpoint id → current score. */
  readonly #scores = new Map<string, Map<string, number>>()
  readonly #maxKeys: number

  constructor(maxKeys = 100_000) {
    this.#maxKeys = maxKeys
  }

  pick(key: string, endpoints: readonly Endpoint[], exclude?: ReadonlySet<string>): Endpoint | undefined {
    let candidates = exclude !== undefined && exclude.size > 0 ? endpoints.filter((e) => !exclude.has(e.id)) : endpoints
    if (candidates.length === 0) candidates = endpoints
    if (candidates.length <= 1) return candidates[0]
    let weighted: readonly Endpoint[] = candidates.filter((e) => weightOf(e) > 0)
    if (weighted.length === 0) weighted = candidates
    let scores = this.#scores.get(key)
    if (scores === undefined) {
      if (this.#scores.size >= this.#maxKeys) this.#scores.clear()
      scores = new Map()
      this.#scores.set(key, scores)
    }
    let total = 0
    let best: Endpoint | undefined
    let bestScore = Number.NEGATIVE_INFINITY
    for (const e of weighted) {
      const w = Math.max(1, weightOf(e))
      total += w
      const s = (scores.get(e.id) ?? 0) + w
      scores.set(e.id, s)
      if (s > bestScore) {
        bestScore = s
        best = e
      }
    }
    if (best !== undefined) scores.set(best.id, bestScore - total)
    // Forget endpoints that left the list.
    if (scores.size > weighted.length * 2) for (const id of [...scores.keys()]) if (!weighted.some((e) => e.id === id)) scores.delete(id)
    return best
  }
}
