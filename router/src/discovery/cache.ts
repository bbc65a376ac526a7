// Discovery cache in front of any Discovery backend (lru-cache `fetch`), with
// stale-while-revalidate: once a target has an answer, no request waits for the
// backend again. A due refresh runs in the background (lru-cache keeps one
// fetch per key in flight) and requests are served the current answer
// meanwhile. Only the first lookup of a target, or one whose answer is older
// than max-stale, waits. It honours the answer's TTL within clamps, caches
// "not found" briefly (and serves it the same way), coalesces concurrent
// misses into one backend call, and when a refresh fails keeps the previous
// answer (stale) and retries every staleRetryMs, up to max-stale.

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

/**
 * How a lookup was answered, for metrics: `hit` fresh; `refresh` the current
 * answer, past its TTL, while a refresh runs in the background; `stale` an
 * answer kept after a failed refresh; `miss` waited for the backend;
 * `negative` a cached "not found"; `error` nothing to serve.
 */
export type CacheOutcome = 'hit' | 'refresh' | 'miss' | 'stale' | 'negative' | 'error'

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
  /** A backend call for it is in flight now. */
  readonly refreshing: boolean
  readonly ageMs: number
  readonly ttlRemainingMs: number
}

export class DiscoveryCache {
  readonly #backend: Discovery
  readonly #opts: DiscoveryCacheOptions
  readonly #now: () => number
  readonly #lru: LRUCache<string, Entry, FetchContext>
  /** Backend calls in flight per key (for the routes view and tests; an aborted one may overlap its successor). */
  readonly #inflight = new Map<string, number>()

  constructor(backend: Discovery, opts: DiscoveryCacheOptions) {
    this.#backend = backend
    this.#opts = opts
    const now = opts.now ?? (() => performance.now())
    this.#now = now
    this.#lru = new LRUCache<string, Entry, FetchContext>({
      max: opts.maxEntries,
      ttl: Math.max(1, opts.minTtlMs),
      // Stale-while-revalidate: fetch() of an expired entry starts one background
      // fetch and returns the current value at once (resolve() asks for a wait
      // only past max-stale). Expired entries are kept; eviction is by LRU size.
      allowStale: true,
      noDeleteOnStaleGet: true,
      perf: { now },
      // Check staleness against the clock on every read (no cached "now").
      ttlResolution: 0,
      fetchMethod: (key, staleValue, { options, context, signal }) => this.#fetch(key, context.target, staleValue, options, signal),
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
    const entry = this.#lru.get(targetKey(target), { allowStale: false })
    if (entry === undefined || entry.resolution === undefined || entry.stale) return undefined
    this.#opts.onLookup?.('hit')
    return entry.resolution
  }

  /** Resolve through the cache. Rejects with a RouterError (404 not found, 503 unavailable). */
  async resolve(target: Target): Promise<CachedResolution> {
    const key = targetKey(target)
    const status: LRUCache.Status<string, Entry, FetchContext> = {}
    const observe = this.#opts.onLookup
    // Past max-stale the current answer may not be served: this lookup waits.
    const current = this.#lru.peek(key, { allowStale: true })
    const allowStale = current === undefined || this.#now() - current.fetchedAt <= this.#opts.maxStaleMs
    let entry: Entry | undefined
    try {
      entry = await this.#lru.fetch(key, { context: { target }, status, allowStale })
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
    const outcome: CacheOutcome = entry.stale ? 'stale' : status.returnedStale === true ? 'refresh' : status.fetch === 'hit' ? 'hit' : 'miss'
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
        refreshing: (this.#inflight.get(key) ?? 0) > 0,
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

  /** Entries now holding an answer kept after a failed refresh (metrics, read at scrape time). */
  staleCount(): number {
    let n = 0
    // dump(), as in view(): a stale entry is past its (short) retry TTL between retries.
    for (const [, { value }] of this.#lru.dump()) if (value.stale) n++
    return n
  }

  async close(): Promise<void> {
    this.#lru.clear()
    await this.#backend.close()
  }

  /** True while a backend call for `target` is in flight. */
  refreshing(target: Target): boolean {
    return (this.#inflight.get(targetKey(target)) ?? 0) > 0
  }

  async #fetch(
    key: string,
    target: Target,
    staleValue: Entry | undefined,
    options: LRUCache.FetcherFetchOptions<string, Entry, FetchContext>,
    signal: AbortSignal,
  ): Promise<Entry> {
    const o = this.#opts
    this.#inflight.set(key, (this.#inflight.get(key) ?? 0) + 1)
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
      // Keep the previous answer (found or not found) while it is within max-stale; retry the backend later.
      if (staleValue !== undefined && this.#now() - staleValue.fetchedAt <= o.maxStaleMs) {
        const left = o.maxStaleMs - (this.#now() - staleValue.fetchedAt)
        options.ttl = Math.max(1, Math.min(o.staleRetryMs, left))
        return { ...staleValue, stale: staleValue.resolution !== undefined }
      }
      throw err
    } finally {
      const left = (this.#inflight.get(key) ?? 1) - 1
      if (left > 0) this.#inflight.set(key, left)
      else this.#inflight.delete(key)
    }
  }
}
