// One request/response exchange with an upstream: what the caller asked for,
// where it is in its life (queued, connecting, waiting for the head, reading
// the body) and the promise it settles. The connection drives it.

import type { Readable, Writable } from 'node:stream'
import type { BodyFraming } from './response-head.js'
import type { ChunkedDecoder } from './chunked.js'
import { abortError } from './errors.js'

/** The abort signal the router passes (its ClientAbort); anything with `aborted`, once('abort') and removeListener works. */
export interface AbortSignalLike {
  readonly aborted: boolean
  once(event: 'abort', fn: () => void): unknown
  removeListener(event: 'abort', fn: () => void): unknown
}

export interface UpstreamRequestSpec {
  readonly host: string
  readonly port: number
  readonly method: string
  readonly path: string
  /** Lower-case names → value(s), hop-by-hop headers already removed. `host` is added when absent. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>
  /** null = no body. Sent with Content-Length when the headers carry one, else chunked. */
  readonly body: Readable | null
  readonly signal?: AbortSignalLike
}

export interface UpstreamResponseHead {
  readonly status: number
  /** Flat [name, value, …] as received (case, duplicates and order kept). */
  readonly rawHeaders: readonly string[]
  /** How the upstream delimited the body (the body handed on is always decoded). */
  readonly framing: BodyFraming
}

export type OnHead = (head: UpstreamResponseHead) => Writable

function ignoreError(): void {}

export const Phase = { Queued: 0, Connecting: 1, Head: 2, Body: 3, Done: 4 } as const
export type Phase = (typeof Phase)[keyof typeof Phase]

/** Where an exchange that must be cancelled is held (its pool or its connection). */
export interface ExchangeOwner {
  cancel(ex: Exchange, err: Error): void
}

export class Exchange {
  readonly spec: UpstreamRequestSpec
  readonly onHead: OnHead
  readonly #resolve: () => void
  readonly #reject: (err: Error) => void
  phase: Phase = Phase.Queued
  owner: ExchangeOwner | null = null
  /** performance.now() past which the current phase has timed out. */
  deadline = Infinity
  /** Ran on a connection that had served earlier requests. */
  reused = false
  /** Already re-sent once on a fresh connection after a stale keep-alive one failed. */
  retried = false
  /** Some response byte has arrived. */
  gotBytes = false
  headBuf: Buffer | null = null
  framing: BodyFraming = 'none'
  remaining = 0
  decoder: ChunkedDecoder | null = null
  sink: Writable | null = null
  /** The connection may serve another request after this one. */
  keepConn = true
  /** Keep-Alive: timeout from the upstream, ms, or -1. */
  keepAliveMs = -1
  /** The request (head and body) has been written completely. */
  requestDone = false
  /** Reading from the upstream is paused until the sink drains. */
  sinkPaused = false
  /** Detaches the request-body listeners; set while a body is being sent. */
  stopBody: (() => void) | null = null
  #onAbort: (() => void) | null = null
  #onBodyError: ((err: Error) => void) | null = null

  constructor(spec: UpstreamRequestSpec, onHead: OnHead, resolve: () => void, reject: (err: Error) => void) {
    this.spec = spec
    this.onHead = onHead
    this.#resolve = resolve
    this.#reject = reject
    const signal = spec.signal
    if (signal !== undefined) {
      this.#onAbort = () => this.owner?.cancel(this, abortError())
      signal.once('abort', this.#onAbort)
    }
    const body = spec.body
    if (body !== null) {
      // Watched from the start: the body may fail (a size limit, the client
      // going away) while the request still waits for a connection.
      this.#onBodyError = (err: Error) => this.owner?.cancel(this, err)
      body.on('error', this.#onBodyError)
    }
  }

  /** Settles the exchange (once): detaches the signal and the body listeners. */
  settle(err: Error | undefined): void {
    if (this.phase === Phase.Done) return
    this.phase = Phase.Done
    this.owner = null
    if (this.#onAbort !== null && this.spec.signal !== undefined) this.spec.signal.removeListener('abort', this.#onAbort)
    this.#onAbort = null
    if (this.#onBodyError !== null && this.spec.body !== null) {
      // Keep a listener: a late error from the caller's stream must not go unhandled.
      this.spec.body.on('error', ignoreError)
      this.spec.body.removeListener('error', this.#onBodyError)
    }
    this.#onBodyError = null
    if (this.stopBody !== null) {
      this.stopBody()
      this.stopBody = null
    }
    if (err === undefined) this.#resolve()
    else this.#reject(err)
  }
}
