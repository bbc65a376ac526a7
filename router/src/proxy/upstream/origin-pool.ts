// The connections to one upstream origin (host:port): idle ones reused last-in
// first-out (the warmest, least likely to have been closed by the upstream),
// at most `limit` open, requests queued beyond that in arrival order.

import { Connection, type ConnectionOptions, type ConnectionPool } from './connection.js'
import { Exchange, Phase, type ExchangeOwner } from './exchange.js'
import { UpstreamClientError } from './errors.js'

export class OriginPool implements ConnectionPool, ExchangeOwner {
  readonly #all = new Set<Connection>()
  readonly #idle: Connection[] = []
  readonly #queue: Exchange[] = []
  readonly #host: string
  readonly #port: number
  readonly #limit: number
  readonly #o: ConnectionOptions

  constructor(host: string, port: number, limit: number, opts: ConnectionOptions) {
    this.#host = host
    this.#port = port
    this.#limit = limit
    this.#o = opts
  }

  get open(): number {
    return this.#all.size
  }
  get idle(): number {
    return this.#idle.length
  }
  get queued(): number {
    return this.#queue.length
  }

  dispatch(ex: Exchange, now: number): void {
    const conn = this.#idle.pop()
    if (conn !== undefined) conn.assign(ex, now)
    else if (this.#all.size < this.#limit) this.#open(now).assign(ex, now)
    else {
      ex.phase = Phase.Queued
      ex.owner = this
      // Waiting for a free connection counts against the time to the response head.
      ex.deadline = now + this.#o.headersTimeoutMs
      this.#queue.push(ex)
    }
  }

  released(conn: Connection): void {
    const next = this.#queue.shift()
    if (next !== undefined) conn.assign(next, performance.now())
    else this.#idle.push(conn)
  }

  closed(conn: Connection): void {
    this.#all.delete(conn)
    const i = this.#idle.indexOf(conn)
    if (i !== -1) this.#idle.splice(i, 1)
    if (this.#queue.length > 0 && this.#all.size < this.#limit) {
      const next = this.#queue.shift()
      if (next !== undefined) {
        const now = performance.now()
        this.#open(now).assign(next, now)
      }
    }
  }

  /** Queues `ex` ahead of the others; the stale connection's close opens its fresh one. */
  retry(ex: Exchange): void {
    ex.phase = Phase.Queued
    ex.owner = this
    ex.deadline = performance.now() + this.#o.headersTimeoutMs
    this.#queue.unshift(ex)
  }

  /** A queued exchange is cancelled (abort): it leaves the queue. */
  cancel(ex: Exchange, err: Error): void {
    const i = this.#queue.indexOf(ex)
    if (i !== -1) this.#queue.splice(i, 1)
    ex.settle(err)
  }

  /** Timeouts of queued and running exchanges, and idle expiry. */
  sweep(now: number): void {
    while (this.#queue.length > 0) {
      const first = this.#queue[0]
      if (first === undefined || now <= first.deadline) break
      this.#queue.shift()
      first.settle(new UpstreamClientError('UPSTREAM_HEADERS_TIMEOUT', 'no upstream connection became free in time', true))
    }
    for (const conn of this.#all) conn.sweep(now)
  }

  /** Rejects queued requests and closes every connection. */
  close(): void {
    for (const ex of this.#queue.splice(0)) ex.settle(new UpstreamClientError('UPSTREAM_CLOSED', 'the upstream client is closing', true))
    for (const conn of [...this.#all]) {
      const ex = conn.exchange
      if (ex !== null) conn.cancel(ex, new UpstreamClientError('UPSTREAM_CLOSED', 'the upstream client is closing'))
      else conn.destroy()
    }
  }

  #open(now: number): Connection {
    const conn = new Connection(this, this.#o, this.#host, this.#port, now)
    this.#all.add(conn)
    return conn
  }
}
