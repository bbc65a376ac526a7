// The waiting part of a drain. Once started, the node refuses new sockets
// (node.ts sets DRAINING); this waits, polling the connection count, until
// the clients have closed every socket, or until the drain timeout or a
// force-close, after which every remaining socket gets 1001 "Going Away"
// (and is terminated if its close handshake does not finish). What happens
// next (Cloud Map, task protection, exit) is the node's business.

import type { Logger } from './log.js'

/** Close code and reason sent when a drain stops waiting. */
export const DRAIN_CLOSE_CODE = 1001
export const DRAIN_CLOSE_REASON = 'Going Away'

/** What the drain needs from the node. */
export interface DrainHost {
  activeConnections(): number
  /** Close frames to every connection; stragglers are terminated after the node's close timeout. */
  closeAll(code: number, reason: string): void
  /** Destroys every connection at once. */
  terminateAll(): void
}

export interface DrainerOptions {
  /** How often to look at the connection count. */
  pollMs: number
  /** How long close handshakes may take after 1001 before sockets are destroyed. */
  closeTimeoutMs: number
  log: Logger
}

/** The drain as shown in /status. */
export interface DrainReport {
  startedAt: string
  timeoutMs: number
  /** When remaining sockets get 1001. */
  deadline: string
  /** True once the timeout passed or force-close was asked for. */
  closing: boolean
}

/** Runs one drain. */
export class Drainer {
  readonly #host: DrainHost
  readonly #options: DrainerOptions
  #report: DrainReport | undefined
  #running: Promise<void> | undefined
  #forced = false
  #wake: (() => void) | undefined

  constructor(host: DrainHost, options: DrainerOptions) {
    this.#host = host
    this.#options = options
  }

  /** Undefined until the drain starts. */
  get report(): DrainReport | undefined {
    return this.#report === undefined ? undefined : { ...this.#report }
  }

  /**
   * Starts the drain (later calls return the same promise, whatever their
   * timeout) and resolves once no connection is left.
   */
  run(timeoutMs: number): Promise<void> {
    if (this.#running !== undefined) return this.#running
    const started = Date.now()
    this.#report = {
      startedAt: new Date(started).toISOString(),
      timeoutMs,
      deadline: new Date(started + timeoutMs).toISOString(),
      closing: this.#forced,
    }
    this.#options.log({ level: 'info', msg: 'draining', activeConnections: this.#host.activeConnections(), timeoutMs, deadline: this.#report.deadline })
    this.#running = this.#run(started + timeoutMs)
    return this.#running
  }

  /** Stops waiting: every open connection gets 1001 now. Returns how many were open. */
  forceClose(): number {
    const open = this.#host.activeConnections()
    this.#forced = true
    if (this.#report !== undefined) this.#report.closing = true
    this.#wake?.()
    return open
  }

  async #run(deadline: number): Promise<void> {
    while (this.#host.activeConnections() > 0 && !this.#forced && Date.now() < deadline) {
      await this.#sleep(Math.min(this.#options.pollMs, Math.max(1, deadline - Date.now())))
    }
    const left = this.#host.activeConnections()
    if (left === 0) {
      this.#options.log({ level: 'info', msg: 'drained: no connections left' })
      return
    }
    if (this.#report !== undefined) this.#report.closing = true
    this.#options.log({
      level: 'info',
      msg: this.#forced ? 'force-close: closing connections with 1001' : 'drain timeout: closing connections with 1001',
      activeConnections: left,
    })
    this.#host.closeAll(DRAIN_CLOSE_CODE, DRAIN_CLOSE_REASON)
    const cutoff = Date.now() + this.#options.closeTimeoutMs + 1000
    while (this.#host.activeConnections() > 0 && Date.now() < cutoff) await this.#sleep(20)
    if (this.#host.activeConnections() > 0) this.#host.terminateAll()
    const last = Date.now() + 1000
    while (this.#host.activeConnections() > 0 && Date.now() < last) await this.#sleep(20)
    this.#options.log({ level: 'info', msg: 'drained: connections closed', activeConnections: this.#host.activeConnections() })
  }

  /** Sleeps `ms`, or less when forceClose() wakes it. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = done
    })
  }
}
