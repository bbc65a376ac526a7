// The throttle switch: which DiscoverInstances / DiscoverInstancesRevision
// calls get RequestLimitExceeded. Deterministic, so tests need no luck.

/** Tolerance for float products such as 0.29 × 100 = 28.999999999999996. */
const EPSILON = 1e-9

/**
 * Call n is throttled when floor(n·share) moves, so a share of 0.25 throttles
 * exactly every 4th call, and after N calls exactly floor(N·share) were throttled.
 */
export class Throttle {
  #share = 0
  #calls = 0

  /** Set the share (0..1) and restart the count. */
  set(share: number): void {
    if (!Number.isFinite(share) || share < 0 || share > 1) throw new RangeError(`throttle share must be within 0..1, got ${share}`)
    this.#share = share
    this.#calls = 0
  }

  /** Count one call; true when this one is to be throttled. */
  next(): boolean {
    const before = Math.floor(this.#calls * this.#share + EPSILON)
    this.#calls++
    return Math.floor(this.#calls * this.#share + EPSILON) > before
  }
}
