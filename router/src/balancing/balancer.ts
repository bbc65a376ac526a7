// The balancing contract: pick one endpoint of a target's current list. A
// strategy is a small object chosen by name; it may keep per-target state.

import type { Endpoint } from '../discovery/discovery.js'

export interface Balancer {
  readonly name: string
  /**
   * Pick an endpoint for `key` (the target key) from `endpoints`, avoiding
   * those in `exclude` when possible. Returns undefined only for an empty list.
   */
  pick(key: string, endpoints: readonly Endpoint[], exclude?: ReadonlySet<string>): Endpoint | undefined
}
