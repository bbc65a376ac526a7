// A lean HTTP/1.1 client for forwarding to upstreams: a keep-alive pool per
// origin, strict response parsing, decoded bodies streamed into the caller's
// Writable with backpressure, and timeouts checked by one coarse sweep timer
// instead of a timer per request. It replaces undici on the proxy's hot path,
// where undici's general-purpose machinery cost about a fifth of the router's
// CPU per request (see loadtest/BENCHMARKS.md).

import { OriginPool } from './origin-pool.js'
import { Exchange, type OnHead, type UpstreamRequestSpec } from './exchange.js'
import { UpstreamClientError, abortError } from './errors.js'
import type { ConnectionOptions } from './connection.js'

export type { UpstreamRequestSpec, UpstreamResponseHead, AbortSignalLike } from './exchange.js'
export { UpstreamClientError, type UpstreamClientErrorCode } from './errors.js'

export interface UpstreamClientOptions {
  readonly connectTimeoutMs: number
  readonly headersTimeoutMs: number
  /** Max gap between response body chunks; 0 = none. */
  readonly bodyTimeoutMs: number
  /** How long an idle connection is kept for reuse. */
  readonly keepAliveTimeoutMs: number
  readonly connectionsPerOrigin: number
  /** Response head size limit in bytes (default 65536). */
  readonly maxHeaderBytes?: number
}

export interface UpstreamClientStats {
  readonly open: number
  readonly idle: number
  readonly busy: number
  readonly queued: number
}

/** Sweep period: a quarter of the shortest timeout, within 10 ms … 1 s. */
function sweepPeriod(o: UpstreamClientOptions): number {
  const shortest = Math.min(o.connectTimeoutMs, o.headersTimeoutMs, o.bodyTimeoutMs > 0 ? o.bodyTimeoutMs : Infinity, o.keepAliveTimeoutMs)
  return Math.max(10, Math.min(1000, Math.floor(shortest / 4)))
}

export class UpstreamClient {
  readonly #pools = new Map<string, OriginPool>()
  readonly #opts: ConnectionOptions
  readonly #limit: number
  #timer: NodeJS.Timeout | undefined

  constructor(opts: UpstreamClientOptions) {
    this.#opts = {
      connectTimeoutMs: opts.connectTimeoutMs,
      headersTimeoutMs: opts.headersTimeoutMs,
      bodyTimeoutMs: opts.bodyTimeoutMs,
      keepAliveTimeoutMs: opts.keepAliveTimeoutMs,
      maxHeaderBytes: opts.maxHeaderBytes ?? 65_536,
    }
    this.#limit = opts.connectionsPerOrigin
    this.#timer = setInterval(() => this.#sweep(), sweepPeriod(opts))
    this.#timer.unref()
  }

  /**
   * Sends the request and calls `onHead` once with the final (non-1xx)
   * response; the decoded body is written into the Writable it returns, then
   * end() is called on it. Resolves once end() was called. Rejects with an
   * UpstreamClientError, a socket error (`code` such as ECONNREFUSED), or an
   * Error named AbortError when the signal fired.
   */
  request(spec: UpstreamRequestSpec, onHead: OnHead): Promise<void> {
    if (spec.signal?.aborted === true) return Promise.reject(abortError())
    if (this.#timer === undefined) return Promise.reject(new UpstreamClientError('UPSTREAM_CLOSED', 'the upstream client is closed', true))
    return new Promise<void>((resolve, reject) => {
      const key = `${spec.host}|${spec.port}`
      let pool = this.#pools.get(key)
      if (pool === undefined) {
        pool = new OriginPool(spec.host, spec.port, this.#limit, this.#opts)
        this.#pools.set(key, pool)
      }
      pool.dispatch(new Exchange(spec, onHead, resolve, reject), performance.now())
    })
  }

  stats(): UpstreamClientStats {
    let open = 0
    let idle = 0
    let queued = 0
    for (const p of this.#pools.values()) {
      open += p.open
      idle += p.idle
      queued += p.queued
    }
    return { open, idle, busy: open - idle, queued }
  }

  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    for (const p of this.#pools.values()) p.close()
    this.#pools.clear()
  }

  #sweep(): void {
    const now = performance.now()
    for (const [key, pool] of this.#pools) {
      pool.sweep(now)
      if (pool.open === 0 && pool.queued === 0) this.#pools.delete(key)
    }
  }
}
