// The admission gate in front of one origin's undici Pool. At most `limit`
// requests (UPSTREAM_CONNECTIONS) are handed to the pool at once, so the
// pool's own queue — which has no timeout and no bound — stays empty; the rest
// wait here in arrival order, at most `queueMax` of them and each at most
// `queueTimeoutMs`, after which they are turned away (503 UPSTREAM_BUSY). A
// request that was never admitted reached no upstream: its rejection says
// nothing about the instance's health. One timer per gate, armed only while
// something waits; the clock is injected so tests need no real time.

import { realClock, type Clock } from '../../clock.js'

/** What waits for a turn: told once, either admitted or rejected. */
export interface Waiter {
  admitted(): void
  rejected(reason: 'timeout' | 'closed'): void
}

/** The part of the router's clock the gate uses. */
export type GateClock = Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>

export interface GateOptions {
  /** Requests running at once. */
  readonly limit: number
  /** Requests that may wait; beyond that `enter` refuses at once. */
  readonly queueMax: number
  readonly queueTimeoutMs: number
  readonly clock?: GateClock
}

interface Queued {
  readonly waiter: Waiter
  readonly deadline: number
}

/** The outcome of `enter`: run now, wait for `admitted()`, or turned away because the queue is full. */
export type Entry = 'run' | 'queued' | 'full'

export class AdmissionGate {
  #running = 0
  #queue: Queued[] = []
  #head = 0
  #timer: unknown = undefined
  readonly #o: GateOptions
  readonly #clock: GateClock

  constructor(opts: GateOptions) {
    this.#o = opts
    this.#clock = opts.clock ?? realClock
  }

  get running(): number {
    return this.#running
  }

  get queued(): number {
    return this.#queue.length - this.#head
  }

  /** Ask to run. 'run': counted as running now, call `leave()` when done. 'queued': `waiter` will be told. */
  enter(waiter: Waiter): Entry {
    if (this.#running < this.#o.limit && this.queued === 0) {
      this.#running++
      return 'run'
    }
    if (this.queued >= this.#o.queueMax) return 'full'
    const deadline = this.#clock.now() + this.#o.queueTimeoutMs
    this.#queue.push({ waiter, deadline })
    if (this.#timer === undefined) this.#arm(deadline)
    return 'queued'
  }

  /** A running request is done: the next waiter, if any, takes its place. */
  leave(): void {
    this.#running--
    while (this.#running < this.#o.limit) {
      const next = this.#shift()
      if (next === undefined) break
      this.#running++
      next.waiter.admitted()
    }
  }

  /** Remove a waiting request (its client went away). False when it was not waiting. */
  cancel(waiter: Waiter): boolean {
    for (let i = this.#head; i < this.#queue.length; i++) {
      if (this.#queue[i]?.waiter === waiter) {
        this.#queue.splice(i, 1)
        if (this.queued === 0) this.#reset()
        return true
      }
    }
    return false
  }

  /** Reject everything still waiting (shutdown). */
  close(): void {
    for (let q = this.#shift(); q !== undefined; q = this.#shift()) q.waiter.rejected('closed')
  }

  #shift(): Queued | undefined {
    if (this.#head >= this.#queue.length) return undefined
    const q = this.#queue[this.#head]
    this.#head++
    if (this.#head === this.#queue.length) this.#reset()
    else if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
    return q
  }

  #reset(): void {
    this.#queue = []
    this.#head = 0
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #arm(at: number): void {
    this.#timer = this.#clock.setTimeout(() => this.#expire(), Math.max(0, at - this.#clock.now()))
  }

  /** Turn away every waiter whose time is up (FIFO with one timeout: they are at the front). */
  #expire(): void {
    this.#timer = undefined
    const now = this.#clock.now()
    for (;;) {
      const first = this.#queue[this.#head]
      if (first === undefined || first.deadline > now) break
      this.#shift()
      first.waiter.rejected('timeout')
    }
    const first = this.#queue[this.#head]
    if (first !== undefined && this.#timer === undefined) this.#arm(first.deadline)
  }
}
