// Least outstanding requests by power of two choices: pick two distinct
// endpoints at random (weight-proportional) and send to the one with fewer
// requests in flight per unit of weight. Cheap, and it steers away from slow
// instances without global coordination.

import type { Endpoint } from '../discovery/discovery.js'
import type { Balancer } from './balancer.js'
import type { LoadTracker } from './load-tracker.js'
import { weightOf } from './weight.js'

export class P2cBalancer implements Balancer {
  readonly name = 'p2c'
  readonly #load: LoadTracker
  readonly #random: () => number

  constructor(load: LoadTracker, random: () => number = Math.random) {
    this.#load = load
    this.#random = random
  }

  pick(_key: string, endpoints: readonly Endpoint[], exclude?: ReadonlySet<string>): Endpoint | undefined {
    let c = exclude !== undefined && exclude.size > 0 ? endpoints.filter((e) => !exclude.has(e.id)) : endpoints
    if (c.length === 0) c = endpoints
    if (c.length > 1 && c.some((e) => weightOf(e) === 0)) {
      const positive = c.filter((e) => weightOf(e) > 0)
      if (positive.length > 0) c = positive
    }
    if (c.length <= 1) return c[0]
    const a = this.#weightedRandom(c, undefined)
    const b = this.#weightedRandom(c, a)
    if (a === undefined || b === undefined) return a ?? b
    const la = this.#load.get(a) / Math.max(1, weightOf(a))
    const lb = this.#load.get(b) / Math.max(1, weightOf(b))
    if (la !== lb) return la < lb ? a : b
    // Equal load: split by weight, so idle pools still follow the weights.
    const wa = Math.max(1, weightOf(a))
    return this.#random() * (wa + Math.max(1, weightOf(b))) < wa ? a : b
  }

  #weightedRandom(c: readonly Endpoint[], not: Endpoint | undefined): Endpoint | undefined {
    let total = 0
    for (const e of c) if (e !== not) total += Math.max(1, weightOf(e))
    let r = this.#random() * total
    for (const e of c) {
      if (e === not) continue
      r -= Math.max(1, weightOf(e))
      if (r < 0) return e
    }
    for (let i = c.length - 1; i >= 0; i--) if (c[i] !== not) return c[i]
    return undefined
  }
}
