// HTTP forwarding through undici: one keep-alive Pool per upstream origin
// behind an admission gate (upstream/origins.ts), each attempt an undici
// dispatch whose handler streams the response into the client's
// ServerResponse (upstream/exchange.ts). Retries: once on another instance
// when nothing was sent (connect refused / timed out); once more on the same
// instance when a kept-alive connection turns out to have been closed by the
// upstream (idempotent requests with no body); and on another instance when a
// bodiless idempotent request was reset. The client going away aborts the
// upstream request. Request bodies are read by request-body.ts: the first
// REQUEST_BUFFER_BYTES before any connection is taken, at a minimum pace.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { Endpoint } from '../discovery/discovery.js'
import { RouterError, UpstreamBusyError } from '../errors.js'
import { endpointKey } from '../balancing/load-tracker.js'
import { upstreamRequestHeaders, type ForwardContext } from './headers.js'
import { UpstreamOrigins, type UpstreamOptions, type UpstreamStats } from './upstream/origins.js'
import { Exchange, type Outcome } from './upstream/exchange.js'
import { classifyUpstreamError, isStaleConnection, type ClassifiedUpstreamError } from './upstream-errors.js'
import type { ClientAbort } from './client-abort.js'
import { BodyWatch, RequestBody, type BodyLimits, type WatchClock } from './request-body.js'

/** A route's overrides of the upstream timeouts (undefined fields keep the defaults). */
export interface ForwardTimeouts {
  readonly connectMs?: number
  readonly headersMs?: number
  readonly bodyMs?: number
}

export interface HttpForwarderOptions extends UpstreamOptions {
  /** How request bodies are read (size limit, buffering, pace). */
  readonly body: BodyLimits
  /** Retry-After (seconds) sent with 503 UPSTREAM_BUSY. */
  readonly busyRetryAfterSeconds: number
  /** Test hook: the clock of the request-body watch. */
  readonly bodyClock?: WatchClock
}

/** What happened to one forwarded request, for logs and metrics. */
export interface ForwardResult {
  readonly status: number
  readonly endpoint: Endpoint | undefined
  readonly attempts: number
  /** The last attempt's dispatch to its response head, ms; -1 when no response came. */
  readonly upstreamTtfbMs: number
  readonly upstreamError?: ClassifiedUpstreamError
}

/** The instances excluded from the first pick: none. */
const NONE_TRIED: ReadonlySet<string> = new Set()

/** Methods that may be sent again after a failure without changing the outcome (RFC 9110 §9.2.2). */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length']
  if (cl !== undefined) return cl !== '0'
  return req.headers['transfer-encoding'] !== undefined
}

/** A request body that failed: its own 408/413, or the client gone. */
function bodyFailure(err: unknown): ClassifiedUpstreamError {
  if (err instanceof RouterError) return { reason: 'other', beforeSend: true, clientAborted: false, error: err }
  return classifyUpstreamError(err)
}

/** The result of a forward that did not complete: 499 when the client left, the connection cut when the response had started. */
function ended(res: ServerResponse, endpoint: Endpoint | undefined, attempts: number, last: ClassifiedUpstreamError | undefined): ForwardResult {
  if (last?.clientAborted === true) return { status: 499, endpoint, attempts, upstreamTtfbMs: -1, upstreamError: last }
  if (res.headersSent) {
    // The response had started: all we can do is cut the connection.
    res.destroy()
    return { status: res.statusCode, endpoint, attempts, upstreamTtfbMs: -1, ...(last !== undefined ? { upstreamError: last } : {}) }
  }
  return { status: last?.error.statusCode ?? 502, endpoint, attempts, upstreamTtfbMs: -1, ...(last !== undefined ? { upstreamError: last } : {}) }
}

function busy(reason: 'full' | 'timeout' | 'closed', retryAfterSeconds: number): ClassifiedUpstreamError {
  return { reason: 'other', beforeSend: true, clientAborted: false, error: new UpstreamBusyError(reason, retryAfterSeconds) }
}

export class HttpForwarder {
  readonly origins: UpstreamOrigins
  readonly #opts: HttpForwarderOptions
  readonly #bodies: BodyWatch

  constructor(opts: HttpForwarderOptions) {
    this.#opts = opts
    this.origins = new UpstreamOrigins(opts)
    this.#bodies = new BodyWatch(opts.body, opts.bodyClock)
  }

  /** Connection counts for router_upstream_connections. */
  stats(): UpstreamStats {
    return this.origins.stats()
  }

  /**
   * Forward `req` to one of the endpoints (picked by `pick`), streaming the
   * response into `res`. Resolves when the exchange is over; never rejects.
   * On failure before the response started, the returned `upstreamError` says
   * what to answer; after it started, the client connection is cut.
   */
  async forward(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    ctx: ForwardContext,
    /** An instance not in `exclude`, or undefined when none is left. */
    pick: (exclude: ReadonlySet<string>) => Endpoint | undefined,
    onAttemptFailed: (endpoint: Endpoint, failure: ClassifiedUpstreamError) => void,
    /** Fired by the caller when the client goes away before the response is done. */
    abort: ClientAbort,
    /** The route's timeouts. */
    timeouts?: ForwardTimeouts,
  ): Promise<ForwardResult> {
    const method = req.method ?? 'GET'
    const withBody = hasBody(req)
    let body: Buffer | Readable | null = null
    let reader: RequestBody | undefined
    if (withBody) {
      // Read (the start of) the body before taking an upstream connection.
      reader = new RequestBody(req, this.#bodies)
      try {
        body = await reader.body()
      } catch (err) {
        return ended(res, undefined, 0, bodyFailure(err))
      }
    }
    const opts: Dispatcher.DispatchOptions = { path, method, headers: upstreamRequestHeaders(req.headers, ctx), body }
    if (timeouts?.headersMs !== undefined) opts.headersTimeout = timeouts.headersMs
    if (timeouts?.bodyMs !== undefined) opts.bodyTimeout = timeouts.bodyMs
    const connectMs = timeouts?.connectMs
    const replayable = !withBody && IDEMPOTENT.has(method)

    // Made on the first failure only: most requests never retry.
    let tried: Set<string> | undefined
    let attempts = 0
    let last: ClassifiedUpstreamError | undefined
    let endpoint: Endpoint | undefined
    try {
      for (;;) {
        endpoint = pick(tried ?? NONE_TRIED)
        if (endpoint === undefined) break
        attempts++
        const ep = endpoint
        let outcome = await this.#attempt(ep, opts, res, ctx.requestId, abort, connectMs)
        if (outcome.kind === 'failed' && replayable && !outcome.headSent && !abort.aborted && isStaleConnection(outcome.error)) {
          // A kept-alive connection the upstream had just closed: once more, same instance.
          outcome = await this.#attempt(ep, opts, res, ctx.requestId, abort, connectMs)
        }
        if (outcome.kind === 'done') return { status: res.statusCode, endpoint: ep, attempts, upstreamTtfbMs: outcome.ttfbMs }
        if (outcome.kind === 'busy') {
          // Never reached the upstream: not a failure of the instance.
          last = busy(outcome.reason, this.#opts.busyRetryAfterSeconds)
          break
        }
        // The client's body stopped the request (too slow, too large, gone): the client's failure, not the instance's.
        const bodyError = reader?.failure ?? null
        if (bodyError !== null) return ended(res, ep, attempts, bodyFailure(bodyError))
        last = classifyUpstreamError(abort.aborted ? abort.reason : outcome.error)
        if (last.clientAborted) break
        onAttemptFailed(ep, last)
        if (outcome.headSent || attempts >= 2) break
        ;(tried ??= new Set()).add(ep.id)
        const bodyUntouched = body === null || Buffer.isBuffer(body) || !body.readableDidRead
        if (!((last.beforeSend && bodyUntouched) || (replayable && last.reason === 'reset'))) break
      }
    } catch (err) {
      // forward() never rejects: anything unexpected becomes a 502.
      last = classifyUpstreamError(err)
    }
    return ended(res, endpoint, attempts, last)
  }

  /** One dispatch to `ep` through its origin's gate and pool. */
  #attempt(ep: Endpoint, opts: Dispatcher.DispatchOptions, res: ServerResponse, requestId: string, abort: ClientAbort, connectMs: number | undefined): Promise<Outcome> {
    const origin = this.origins.get(endpointKey(ep), ep.host, ep.port, connectMs)
    if (origin === undefined) return Promise.resolve({ kind: 'busy', reason: 'closed' })
    return new Promise<Outcome>((settle) => new Exchange(this.origins, origin, opts, res, requestId, abort, settle).start())
  }

  async close(): Promise<void> {
    await this.origins.close()
  }
}
