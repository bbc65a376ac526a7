// HTTP forwarding: one keep-alive pool per upstream origin (our lean
// UpstreamClient), bodies streamed both ways with backpressure, one retry on
// another instance when the connection failed before anything was sent, and
// the client's disconnect aborting the upstream request.

import type { IncomingMessage, ServerResponse } from 'node:http'
import { Transform, type TransformCallback } from 'node:stream'
import type { Endpoint } from '../discovery/discovery.js'
import { RouterError } from '../errors.js'
import { downstreamHeaderList, upstreamRequestHeaders, type ForwardContext } from './headers.js'
import { UpstreamClient } from './upstream/client.js'
import { isIdempotent } from './upstream/request-head.js'
import { classifyUpstreamError, type ClassifiedUpstreamError } from './upstream-errors.js'
import type { ClientAbort } from './client-abort.js'

export interface HttpForwarderOptions {
  readonly connectTimeoutMs: number
  readonly headersTimeoutMs: number
  readonly bodyTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly connectionsPerOrigin: number
  /** 0 = unlimited. */
  readonly maxBodyBytes: number
}

export class PayloadTooLargeError extends RouterError {
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`, 'PAYLOAD_TOO_LARGE', 413)
    this.name = 'PayloadTooLargeError'
  }
}

/** Counts body bytes of requests without Content-Length and fails past the limit. */
class BodyLimit extends Transform {
  #seen = 0
  constructor(readonly limit: number) {
    super()
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length
    if (this.#seen > this.limit) cb(new PayloadTooLargeError(this.limit))
    else cb(null, chunk)
  }
}

/** What happened to one forwarded request, for logs and metrics. */
export interface ForwardResult {
  readonly status: number
  readonly endpoint: Endpoint | undefined
  readonly attempts: number
  readonly upstreamError?: ClassifiedUpstreamError
}


/** The instances excluded from the first pick: none. */
const NONE_TRIED: ReadonlySet<string> = new Set()

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length']
  if (cl !== undefined) return cl !== '0'
  return req.headers['transfer-encoding'] !== undefined
}

export class HttpForwarder {
  readonly client: UpstreamClient
  readonly #opts: HttpForwarderOptions

  constructor(opts: HttpForwarderOptions) {
    this.#opts = opts
    this.client = new UpstreamClient(opts)
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
    pick: (exclude: ReadonlySet<string>) => Endpoint | undefined,
    onAttemptFailed: (endpoint: Endpoint, failure: ClassifiedUpstreamError) => void,
    /** Fired by the caller when the client goes away before the response is done. */
    abort: ClientAbort,
  ): Promise<ForwardResult> {
    const method = req.method ?? 'GET'
    const headers = upstreamRequestHeaders(req.headers, ctx)
    const withBody = hasBody(req)
    const limit = this.#opts.maxBodyBytes
    let body: IncomingMessage | BodyLimit | null = null
    if (withBody) {
      if (limit > 0 && req.headers['content-length'] === undefined) {
        const counted = new BodyLimit(limit)
        req.on('error', (e) => counted.destroy(e))
        req.pipe(counted)
        body = counted
      } else {
        body = req
      }
    }

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
        try {
          await this.client.request({ host: ep.host, port: ep.port, path, method, headers, body, signal: abort }, ({ status, rawHeaders, framing }) => {
            res.writeHead(status, downstreamHeaderList(rawHeaders, ctx.requestId, framing === 'chunked'))
            return res
          })
          return { status: res.statusCode, endpoint: ep, attempts }
        } catch (err) {
          if (err instanceof PayloadTooLargeError) {
            return { status: 413, endpoint: ep, attempts, upstreamError: { reason: 'other', beforeSend: false, clientAborted: false, error: err } }
          }
          ;(tried ??= new Set()).add(ep.id)
          last = classifyUpstreamError(err)
          if (!last.clientAborted) onAttemptFailed(ep, last)
          const bodyUntouched = body === null || (!req.readableDidRead && !(body instanceof BodyLimit))
          const safeReplay = !withBody && isIdempotent(method) && last.reason === 'reset'
          const retryable = !res.headersSent && !last.clientAborted && attempts < 2 && ((last.beforeSend && bodyUntouched) || safeReplay)
          if (!retryable) break
        }
      }
    } catch (err) {
      // forward() never rejects: anything unexpected becomes a 502.
      last = classifyUpstreamError(err)
    }
    if (last?.clientAborted === true) return { status: 499, endpoint, attempts, upstreamError: last }
    if (res.headersSent) {
      // The response had started: all we can do is cut the connection.
      res.destroy()
      return { status: res.statusCode, endpoint, attempts, ...(last !== undefined ? { upstreamError: last } : {}) }
    }
    return { status: last?.error.statusCode ?? 502, endpoint, attempts, ...(last !== undefined ? { upstreamError: last } : {}) }
  }

  async close(): Promise<void> {
    await this.client.close()
  }
}
