// One attempt at forwarding a request to one origin: waits its turn at the
// origin's gate, is dispatched to the undici Pool, and as undici's handler
// (the dispatcher API's onRequestStart / onResponseStart / onResponseData /
// onResponseEnd / onResponseError, undici 7) streams the response into the
// client's ServerResponse: the head once it passes the framing rules, the body
// with backpressure (the controller pauses llhttp while the client is full),
// the end. The client going away aborts it wherever it is: still waiting at the
// gate, queued in the pool, or on the wire (undici then destroys the socket).

import type { ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import type { ClientAbort } from '../client-abort.js'
import { downstreamHeaders } from '../headers.js'
import type { Origin, UpstreamOrigins } from './origins.js'
import { responseFraming, type ResponseHeaders } from './framing.js'
import type { Waiter } from './admission.js'
import { UpstreamFramingError } from './errors.js'

/** How an attempt ended. */
export type Outcome =
  /** The whole response reached the client's ServerResponse (end() was called); `ttfbMs`: dispatch to response head. */
  | { readonly kind: 'done'; readonly ttfbMs: number }
  /** Never admitted: the origin's queue was full, the wait timed out, or the router is closing. Nothing was sent. */
  | { readonly kind: 'busy'; readonly reason: 'full' | 'timeout' | 'closed' }
  /** Failed; `headSent` says whether the client already has the response head. */
  | { readonly kind: 'failed'; readonly error: unknown; readonly headSent: boolean }

function abortError(): Error {
  return Object.assign(new Error('the client closed the connection'), { name: 'AbortError' })
}

export class Exchange implements Dispatcher.DispatchHandler, Waiter {
  readonly #origins: UpstreamOrigins
  readonly #origin: Origin
  readonly #opts: Dispatcher.DispatchOptions
  readonly #res: ServerResponse
  readonly #requestId: string
  readonly #abort: ClientAbort
  readonly #settle: (o: Outcome) => void
  #controller: Dispatcher.DispatchController | null = null
  #admitted = false
  #settled = false
  /** The client response head is written (Node sends it with the first body bytes or the end). */
  #headSent = false
  /** A head that passed the framing rules, written with the first body bytes (so a body that fails before any byte arrives is still a clean 502). */
  #status = 0
  #headers: string[] | null = null
  /** end() was called on the client response. */
  #complete = false
  #drain: (() => void) | null = null
  /** performance.now() at dispatch and when the response head (≥ 200) arrived, for the access log's upstreamTtfbMs. */
  #dispatchedAt = 0
  #headAt = 0
  readonly #onAbort = (): void => this.#aborted()

  constructor(
    origins: UpstreamOrigins,
    origin: Origin,
    opts: Dispatcher.DispatchOptions,
    res: ServerResponse,
    requestId: string,
    abort: ClientAbort,
    settle: (o: Outcome) => void,
  ) {
    this.#origins = origins
    this.#origin = origin
    this.#opts = opts
    this.#res = res
    this.#requestId = requestId
    this.#abort = abort
    this.#settle = settle
  }

  /** Take a place at the gate and dispatch when admitted. */
  start(): void {
    if (this.#abort.aborted) {
      this.#finish({ kind: 'failed', error: abortError(), headSent: false })
      return
    }
    this.#abort.once('abort', this.#onAbort)
    const entry = this.#origin.gate.enter(this)
    if (entry === 'run') this.#dispatch()
    else if (entry === 'full') this.#finish({ kind: 'busy', reason: 'full' })
  }

  admitted(): void {
    this.#dispatch()
  }

  rejected(reason: 'timeout' | 'closed'): void {
    this.#finish({ kind: 'busy', reason })
  }

  #dispatch(): void {
    this.#admitted = true
    this.#dispatchedAt = performance.now()
    this.#origin.pool.dispatch(this.#opts, this)
  }

  // --- undici's DispatchHandler. onRequestStart must exist: undici tells the
  // new handler API from the deprecated one by it.

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#abort.aborted) controller.abort(abortError())
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders): void {
    // Interim responses (103 Early Hints) are not passed on; undici itself refuses a 100 it did not ask for.
    if (statusCode < 200) return
    this.#headAt = performance.now()
    const framing = responseFraming(statusCode, this.#opts.method, headers)
    if (!framing.ok) {
      controller.abort(new UpstreamFramingError(framing.problem))
      return
    }
    // Node then refuses to write more (or end with less) than the Content-Length it announced.
    if (framing.forwardLength) this.#res.strictContentLength = true
    this.#status = statusCode
    this.#headers = downstreamHeaders(headers, this.#requestId, !framing.forwardLength)
    if (framing.bodiless) {
      // Nothing follows the head. Ending here also covers a 304 with a
      // Content-Length, which undici then reports as a length mismatch.
      this.#writeHead()
      this.#res.end()
      this.#complete = true
    }
  }

  #writeHead(): void {
    if (this.#headSent || this.#headers === null) return
    const h = this.#headers
    // Headers the router set itself (Connection: close while draining, an affinity
    // Set-Cookie): writeHead(array) would then let each repeated field keep only its
    // last value (Node 20 merges the array with setHeader()), so the upstream's own
    // Set-Cookie lines would be lost. Append them instead.
    if (this.#res.hasHeader('set-cookie') || this.#res.hasHeader('connection')) {
      for (let i = 0; i + 1 < h.length; i += 2) this.#res.appendHeader(h[i] ?? '', h[i + 1] ?? '')
      this.#res.writeHead(this.#status)
    } else {
      this.#res.writeHead(this.#status, h)
    }
    this.#headSent = true
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#complete) return
    this.#writeHead()
    if (!this.#res.write(chunk)) {
      controller.pause()
      this.#res.once('drain', (this.#drain ??= () => this.#controller?.resume()))
    }
  }

  onResponseEnd(): void {
    if (!this.#complete) {
      this.#writeHead()
      this.#res.end()
      this.#complete = true
    }
    this.#finish(this.#done())
  }

  #done(): Outcome {
    return { kind: 'done', ttfbMs: this.#headAt - this.#dispatchedAt }
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#finish(this.#complete ? this.#done() : { kind: 'failed', error, headSent: this.#headSent })
  }

  #aborted(): void {
    if (this.#settled) return
    if (!this.#admitted) {
      if (this.#origin.gate.cancel(this)) this.#finish({ kind: 'failed', error: abortError(), headSent: false })
      return
    }
    // Not started yet (queued inside the pool): onRequestStart sees the abort.
    this.#controller?.abort(abortError())
  }

  #finish(o: Outcome): void {
    if (this.#settled) return
    this.#settled = true
    this.#abort.removeListener('abort', this.#onAbort)
    if (this.#drain !== null) this.#res.removeListener('drain', this.#drain)
    if (this.#admitted) {
      this.#origin.gate.leave()
      this.#origins.release(this.#origin)
    }
    this.#settle(o)
  }
}
