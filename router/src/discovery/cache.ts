// Discovery cache in front of any Discovery backend (lru-cache `fetch`):
// honours the answer's TTL within clamps, caches "not found" briefly, coalesces
// concurrent misses into one backend call, and serves an expired answer for a
// bounded time (max-stale) while the backend fails, retrying it periodically.

import { LRUCache } from 'lru-cache'
import type { Discovery, Resolution, Target } from './discovery.js'
import { targetKey } from './discovery.js'
import { DiscoveryUnavailableError, RouterError, TargetNotFoundError } from '../errors.js'

export interface DiscoveryCacheOptions {
  readonly minTtlMs: number
  readonly maxTtlMs: number
  readonly negativeTtlMs: number
  readonly maxStaleMs: number
  readonly staleRetryMs: number
  readonly maxEntries: number
  /** Clock for tests; defaults to performance.now-based time in ms. */
  readonly now?: () => number
  /** Called once per lookup with how it was answered (metrics). */
  readonly onLookup?: (outcome: CacheOutcome) => void
}

/** How a lookup was answered, for metrics. */
export type CacheOutcome = 'hit' | 'miss' | 'stale' | 'negative' | 'error'

/** lru-cache fetch context (an object: its conditional types distribute over unions). */
interface FetchContext {
  readonly target: Target
}

interface Entry {
  /** Present on success. */
  readonly resolution?: Resolution
  /** Present for a cached "not found". */
  readonly notFound?: TargetNotFoundError
  /** When the backend last answered successfully for this entry (clock ms). */
  readonly fetchedAt: number
  /** True when this entry is an old answer kept after a failed refresh. */
  readonly stale: boolean
}

export interface CachedResolution extends Resolution {
  readonly outcome: CacheOutcome
  /** Age of the answer in ms (grows while stale). */
  readonly ageMs: number
}

/** One row of the admin routes view. */
export interface CacheView {
  readonly key: string
  readonly endpoints: Resolution['endpoints']
  readonly notFound: boolean
  readonly stale: boolean
  /** Past its TTL: the next lookup refreshes it. */
  readonly expired: boolean
  readonly ageMs: number
  readonly ttlRemainingMs: number
}

export class DiscoveryCache {
  readonly #backend: Discovery
  readonly #opts: DiscoveryCacheOptions
  readonly #now: () => number
  readonly #lru: LRUCache<string, Entry, FetchContext>

  constructor(backend: Discovery, opts: DiscoveryCacheOptions) {
    this.#backend = backend
    this.#opts = opts
    const now = opts.now ?? (() => performance.now())
    this.#now = now
    this.#lru = new LRUCache<string, Entry, FetchContext>({
      max: opts.maxEntries,
      ttl: Math.max(1, opts.minTtlMs),
      // Keep expired entries around so they can be served stale; eviction is by LRU size.
      allowStale: false,
      noDeleteOnStaleGet: true,
      perf: { now },
      // Check staleness against the clock on every read (no cached "now").
      ttlResolution: 0,
      fetchMethod: (_key, staleValue, { options, context, signal }) => this.#fetch(context.target, staleValue, options, signal),
    })
  }

  get backendName(): string {
    return this.#backend.name
  }

  /**
   * The fresh cached answer for `target`, synchronously, or undefined when the
   * caller must go through resolve() (miss, expired, negative, in flight).
   * This is the hot path: no promise, no allocation beyond the result.
   */
  peek(target: Target): Resolution | undefined {
    const entry = this.#lru.get(targetKey(target))
    if (entry === undefined || entry.resolution === undefined || entry.stale) return undefined
    this.#opts.onLookup?.('hit')
    return entry.resolution
  }

  /** Resolve through the cache. Rejects with a RouterError (404 not found, 503 unavailable). */
  async resolve(target: Target): Promise<CachedResolution> {
    const key = targetKey(target)
    const status: LRUCache.Status<string, Entry, FetchContext> = {}
    const observe = this.#opts.onLookup
    let entry: Entry | undefined
    try {
      entry = await this.#lru.fetch(key, { context: { target }, status })
    } catch (err) {
      observe?.('error')
      throw err instanceof RouterError ? err : new DiscoveryUnavailableError(`discovery failed: ${String(err)}`, { cause: err })
    }
    if (entry?.notFound !== undefined) {
      observe?.('negative')
      throw entry.notFound
    }
    const resolution = entry?.resolution
    if (entry === undefined || resolution === undefined) {
      observe?.('error')
      throw new DiscoveryUnavailableError('discovery returned nothing')
    }
    const outcome: CacheOutcome = entry.stale ? 'stale' : status.fetch === 'hit' ? 'hit' : 'miss'
    observe?.(outcome)
    return { endpoints: resolution.endpoints, ttlSeconds: resolution.ttlSeconds, outcome, ageMs: this.#now() - entry.fetchedAt }
  }

  /** Drop one target (e.g. after every endpoint failed) so the next request re-resolves. */
  invalidate(target: Target): void {
    this.#lru.delete(targetKey(target))
  }

  /** What the cache holds now, for /admin/routes. */
  view(): CacheView[] {
    const rows: CacheView[] = []
    const now = this.#now()
    // dump() includes expired entries (entries() skips them): they are still what the router knows.
    for (const [key, { value: entry }] of this.#lru.dump()) {
      const ttlRemainingMs = Math.max(0, Math.round(this.#lru.getRemainingTTL(key)))
      rows.push({
        key,
        endpoints: entry.resolution?.endpoints ?? [],
        notFound: entry.notFound !== undefined,
        stale: entry.stale,
        expired: ttlRemainingMs === 0,
        ageMs: Math.round(now - entry.fetchedAt),
        ttlRemainingMs,
      })
    }
    return rows
  }


  async close(): Promise<void> {
    this.#lru.clear()
    await this.#backend.close()
  }

  async #fetch(
    target: Target,
    staleValue: Entry | undefined,
    options: LRUCache.FetcherFetchOptions<string, Entry, FetchContext>,
    signal: AbortSignal,
  ): Promise<Entry> {
    const o = this.#opts
    try {
      const resolution = await this.#backend.resolve(target, signal)
      const ttlMs = Math.min(o.maxTtlMs, Math.max(o.minTtlMs, resolution.ttlSeconds * 1000))
      options.ttl = Math.max(1, ttlMs)
      return { resolution, fetchedAt: this.#now(), stale: false }
    } catch (err) {
      if (err instanceof TargetNotFoundError) {
        options.ttl = Math.max(1, o.negativeTtlMs)
        return { notFound: err, fetchedAt: this.#now(), stale: false }
      }
      // Serve the previous answer while it is within max-stale; retry the backend later.
      if (staleValue?.resolution !== undefined && this.#now() - staleValue.fetchedAt <= o.maxStaleMs) {
        const left = o.maxStaleMs - (this.#now() - staleValue.fetchedAt)
        options.ttl = Math.max(1, Math.min(o.staleRetryMs, left))
        return { resolution: staleValue.resolution, fetchedAt: staleValue.fetchedAt, stale: true }
      }
      throw err
    }
  }
}
