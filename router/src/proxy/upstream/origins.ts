// One undici Pool per upstream origin (host:port) with its admission gate in
// front. undici (llhttp) does the HTTP/1.1 work: writing requests, framing and
// parsing responses, keep-alive reuse, connect/headers/body timeouts. An origin
// is forgotten (and its pool closed) once it has no connection and nothing
// running or waiting, so instances that come and go leave nothing behind.

import { Pool } from 'undici'
import type { RouterConfig } from '../../config.js'
import { AdmissionGate, type GateClock } from './admission.js'

/** The `upstream` block of RouterConfig (timeouts, connections, queue; documented there), plus test hooks. */
export type UpstreamOptions = RouterConfig['upstream'] & {
  /** Response head size limit in bytes (default 65536). */
  readonly maxHeaderBytes?: number
  readonly clock?: GateClock
}

export interface UpstreamStats {
  readonly open: number
  readonly idle: number
  readonly busy: number
  readonly queued: number
}

export interface Origin {
  readonly key: string
  readonly pool: Pool
  readonly gate: AdmissionGate
  /** Open connections, counted from the pool's connect/disconnect events. */
  connections: number
}

export class UpstreamOrigins {
  readonly #origins = new Map<string, Origin>()
  readonly #o: UpstreamOptions
  readonly #poolOptions: Pool.Options
  #closed = false

  constructor(opts: UpstreamOptions) {
    this.#o = opts
    this.#poolOptions = {
      connections: opts.connectionsPerOrigin,
      pipelining: 1,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      keepAliveMaxTimeout: opts.keepAliveTimeoutMs,
      // Stop reusing a connection a second before the upstream's announced idle timeout.
      keepAliveTimeoutThreshold: 1000,
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
      maxHeaderSize: opts.maxHeaderBytes ?? 65_536,
      strictContentLength: true,
      connect: { timeout: opts.connectTimeoutMs, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 },
    }
  }

  /**
   * The pool and gate for host:port (made on first use); undefined once closed.
   * A route's own connect timeout (undici sets it per pool) gets a pool and gate of its own.
   */
  get(endpoint: string, host: string, port: number, connectTimeoutMs?: number): Origin | undefined {
    const own = connectTimeoutMs !== undefined && connectTimeoutMs !== this.#o.connectTimeoutMs
    const key = own ? `${endpoint}#connect=${connectTimeoutMs}` : endpoint
    const found = this.#origins.get(key)
    if (found !== undefined || this.#closed) return found
    const options = own ? { ...this.#poolOptions, connect: { ...this.#poolOptions.connect, timeout: connectTimeoutMs } } : this.#poolOptions
    const pool = new Pool(`http://${host.includes(':') ? `[${host}]` : host}:${port}`, options)
    const gate = new AdmissionGate({ limit: this.#o.connectionsPerOrigin, queueMax: this.#o.queueMax, queueTimeoutMs: this.#o.queueTimeoutMs, ...(this.#o.clock !== undefined ? { clock: this.#o.clock } : {}) })
    const origin: Origin = { key, pool, gate, connections: 0 }
    pool
      .on('connect', () => origin.connections++)
      .on('disconnect', () => {
        origin.connections--
        this.release(origin)
      })
      .on('connectionError', () => this.release(origin))
    this.#origins.set(key, origin)
    return origin
  }

  /** Forget `origin` when it holds nothing: no connection, nothing running or waiting. Cheap; called after each request. */
  release(origin: Origin): void {
    if (origin.connections > 0 || origin.gate.running > 0 || origin.gate.queued > 0 || this.#origins.get(origin.key) !== origin) return
    this.#origins.delete(origin.key)
    void origin.pool.close()
  }

  /** Connections now (summed over origins), for router_upstream_connections. */
  stats(): UpstreamStats {
    let open = 0
    let idle = 0
    let queued = 0
    for (const { pool, gate } of this.#origins.values()) {
      const s = pool.stats
      open += s.connected
      idle += s.free
      queued += s.queued + gate.queued
    }
    return { open, idle, busy: open - idle, queued }
  }

  /** Origins known now (tests: nothing is kept for instances that went away). */
  get size(): number {
    return this.#origins.size
  }

  /** Turn away waiting requests and close every connection (running requests fail). */
  async close(): Promise<void> {
    this.#closed = true
    const all = [...this.#origins.values()]
    this.#origins.clear()
    for (const { gate } of all) gate.close()
    await Promise.all(all.map(({ pool }) => pool.destroy()))
  }
}
