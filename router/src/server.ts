// The main listener: GET /health, HTTP requests and WebSocket upgrades on the
// route templates. Each request: match route (pure) → resolve target through
// the discovery cache → filter eligible endpoints → balance → forward. Every
// error becomes a JSON response (or a raw HTTP response on an upgrade socket).
// Each request gets its trace context (proxy/trace-context.ts) and, at its end,
// one access-log line (access-log.ts).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { Agent } from 'undici'
import type { RouterConfig } from './config.js'
import type { DiscoveryCache } from './discovery/cache.js'
import { targetKey, type Endpoint } from './discovery/discovery.js'
import { NoHealthyEndpointError, PayloadTooLargeError, RouterError } from './errors.js'
import type { Logger } from './log.js'
import { statusClass, type RouterMetrics, type WsCloseReason } from './admin/metrics.js'
import type { Balancer } from './balancing/balancer.js'
import { endpointKey, type LoadTracker } from './balancing/load-tracker.js'
import type { OutlierDetector } from './balancing/outlier.js'
import { eligibleEndpoints, isDraining } from './balancing/eligibility.js'
import { matchRoute, type RouteMatch, type RouteTable } from './routing/routes.js'
import type { BalancerName } from './routing/route.js'
import { checkHost, checkMethod } from './routing/request-target.js'
import { HttpForwarder, type ForwardResult } from './proxy/http.js'
import { ClientAbort } from './proxy/client-abort.js'
import { WebSocketProxy } from './proxy/websocket.js'
import type { Tunnel } from './proxy/tunnel.js'
import { requestIdFrom, type ForwardContext } from './proxy/headers.js'
import { sendError, sendJson, writeRawError } from './proxy/respond.js'
import { traceContextFrom, type TraceContext } from './proxy/trace-context.js'
import { httpAccessJson, wsAccessEnd, wsAccessHead, wsAccessRefused } from './access-log.js'
import { AllocationHandler } from './allocation/handler.js'
import { chooseDeployment } from './affinity/resolve.js'
import { clientUsedHttps } from './affinity/decide.js'

export interface MainServerDeps {
  readonly config: RouterConfig
  readonly routes: () => RouteTable
  readonly cache: DiscoveryCache
  /** The balancer a route names. */
  readonly balancerFor: (name: BalancerName) => Balancer
  readonly load: LoadTracker
  readonly outliers: OutlierDetector
  readonly metrics: RouterMetrics
  readonly logger: Logger
  /** False once draining: /health answers 503. */
  readonly isServing: () => boolean
  /** Wall clock in epoch ms (drain deadlines of deployments); tests inject one. */
  readonly wallClock?: () => number
}

function clientIp(socket: Socket | Duplex | null): string {
  if (socket === null) return ''
  const addr = 'remoteAddress' in socket && typeof socket.remoteAddress === 'string' ? socket.remoteAddress : ''
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr
}

/** The request target as logged: capped so one client cannot write huge log lines. */
function logPath(url: string): string {
  return url.length > 512 ? `${url.slice(0, 512)}…` : url
}

/** Shared 'error' listener for upgrade sockets (no per-socket closure). */
function destroySelf(this: Duplex): void {
  this.destroy()
}

/** Per client connection: its address and its byte counters when its previous request ended (for per-request bytesIn/bytesOut). */
class ClientConnection {
  readBefore = 0
  writtenBefore = 0
  constructor(readonly client: string) {}
}

const kConnection = Symbol('clientConnection')
interface ClientSocket extends Socket {
  [kConnection]?: ClientConnection
}

/**
 * Gives every client socket, as it connects, its ClientConnection: its
 * address (read once, not per request) and its byte counters. Set here, all
 * sockets take the same hidden-class transitions at the same point; added
 * during the first request (reading remoteAddress caches `_peername` on the
 * socket), they gave sockets shapes that V8 dropped with the socket, and the
 * stream code optimised for them was thrown away and compiled again on the
 * next connection. One property, read once per request (a socket's keyed
 * loads are megamorphic; the ClientConnection's fields are not).
 */
function onConnection(socket: Socket): void {
  ;(socket as ClientSocket)[kConnection] = new ClientConnection(clientIp(socket))
}

/** A request's ClientConnection (made on 'connection'; made now for a socket that came another way). */
function connectionOf(socket: Socket): ClientConnection {
  const s = socket as ClientSocket
  return (s[kConnection] ??= new ClientConnection(clientIp(socket)))
}

function isTls(socket: Socket | Duplex | null): boolean {
  return socket !== null && 'encrypted' in socket && socket.encrypted === true
}

export class MainServer {
  readonly server: Server
  readonly http: HttpForwarder
  readonly ws: WebSocketProxy
  readonly #d: MainServerDeps
  /** HTTP requests between their start and their response's 'close' (a count: adding and removing each response in a Set made V8 rebuild its table in old space twice per request). */
  #inflight = 0
  readonly #allocation: AllocationHandler
  /** undici pool for the allocation handler's occasional GET /status to media nodes. */
  readonly #statusAgent: Agent

  constructor(deps: MainServerDeps) {
    this.#d = deps
    const c = deps.config
    this.http = new HttpForwarder({
      ...c.upstream,
      body: { maxBodyBytes: c.client.maxBodyBytes, bufferBytes: c.client.requestBufferBytes, gapTimeoutMs: c.client.bodyGapTimeoutMs, minRate: c.client.bodyMinRate },
      busyRetryAfterSeconds: 1,
    })
    deps.metrics.watchUpstreamPool(() => this.http.stats())
    this.ws = new WebSocketProxy({ handshakeTimeoutMs: c.websocket.handshakeTimeoutMs, idleTimeoutMs: c.websocket.idleTimeoutMs }, (t, reason) => this.#tunnelClosed(t, reason))
    this.#statusAgent = new Agent({ connect: { timeout: c.upstream.connectTimeoutMs }, keepAliveTimeout: c.upstream.keepAliveTimeoutMs })
    this.#allocation = new AllocationHandler({
      cache: deps.cache,
      mediaService: c.routes.mediaService,
      outliers: deps.outliers,
      dispatcher: this.#statusAgent,
      retryAfterSeconds: c.retryAfterSeconds,
    })
    this.server = createServer(
      {
        maxHeaderSize: c.client.maxHeaderBytes,
        headersTimeout: c.client.headersTimeoutMs,
        requestTimeout: c.client.requestTimeoutMs,
        keepAliveTimeout: c.client.keepAliveTimeoutMs,
        noDelay: true,
        // A missing Host is refused by the router (JSON 400), not by Node's bare 400.
        requireHostHeader: false,
        connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(c.client.headersTimeoutMs / 4))),
      },
      (req, res) => void this.#onRequest(req, res),
    )
    this.server.on('connection', onConnection)
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#onUpgrade(req, socket, head))
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#onClientError(err, socket))
    // CONNECT never reaches the request handler; without this Node would close the socket without a word.
    this.server.on('connect', (req: IncomingMessage, socket: Duplex) => this.#onConnect(req, socket))
  }

  #now(): number {
    return this.#d.wallClock !== undefined ? this.#d.wallClock() : Date.now()
  }

  /** In-flight HTTP requests (for draining). */
  get inflight(): number {
    return this.#inflight
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now()
    const url = req.url ?? '/'
    if (url === '/health' || url.startsWith('/health?')) {
      const ok = this.#d.isServing()
      sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'draining' })
      return
    }
    const requestId = requestIdFrom(req.headers)
    const trace = traceContextFrom(req.headers.traceparent, req.headers.tracestate)
    // While draining, every response ends its connection so clients move to other routers.
    if (!this.#d.isServing()) res.setHeader('connection', 'close')
    const socket = req.socket
    const conn = connectionOf(socket)
    const client = conn.client
    this.#inflight++
    let routeName = 'none'
    let endpoint: Endpoint | undefined
    let attempts = 0
    let upstreamTtfbMs = -1
    let errorCode: string | undefined
    const abort = new ClientAbort()
    // 'close' fires once per response; on() spares once()'s wrapper per request.
    // The response can close before the code awaiting the forward (or the allocation) has
    // its result (upstreamTtfbMs, errorCode): the line is then written when that code resumes.
    let awaiting = false
    let logDue = false
    let status = 0
    let seconds = 0
    let bytesIn = 0
    let bytesOut = 0
    const writeLog = (): void => {
      logDue = false
      this.#d.logger.accessJson(
        httpAccessJson(
          requestId,
          trace,
          req.headers,
          req.method ?? '',
          logPath(url),
          routeName,
          status,
          seconds * 1000,
          upstreamTtfbMs,
          endpoint !== undefined ? endpointKey(endpoint) : undefined,
          endpoint?.id,
          attempts,
          errorCode,
          client,
          bytesIn,
          bytesOut,
        ),
      )
    }
    res.on('close', () => {
      if (!res.writableFinished) abort.abort()
      this.#inflight--
      seconds = (performance.now() - started) / 1000
      status = res.writableFinished ? res.statusCode : 499
      this.#d.metrics.observeRequest(routeName, status, seconds)
      if (this.#d.config.accessLog) {
        // Bytes on the connection since its previous request ended: this request's head and body, this response's head and body.
        const read = socket.bytesRead
        const written = socket.bytesWritten
        bytesIn = read - conn.readBefore
        bytesOut = written - conn.writtenBefore
        conn.readBefore = read
        conn.writtenBefore = written
        if (awaiting) logDue = true
        else writeLog()
      }
    })
    try {
      checkMethod(req.method ?? '')
      checkHost(req.httpVersion, req.rawHeaders)
      if (AllocationHandler.matches(url)) {
        routeName = 'allocate'
        // The router's own answer: its trace context goes back with it, success or error.
        res.setHeader('traceresponse', trace.traceparent)
        awaiting = true
        errorCode = await this.#allocation.handle(req, res, requestId)
        return
      }
      const match = matchRoute(this.#d.routes(), url, req.headers.host)
      routeName = match.route.name
      const limit = this.#d.config.client.maxBodyBytes
      const cl = req.headers['content-length']
      if (limit > 0 && cl !== undefined && Number(cl) > limit) throw new PayloadTooLargeError(limit)
      let target = match.target
      let acceptDraining = false
      if (match.route.affinity !== undefined) {
        const chosen = await chooseDeployment(this.#d.cache, match.route.affinity, req.headers, clientUsedHttps(isTls(socket), req.headers['x-forwarded-proto']), this.#now(), match.route.lookup)
        target = chosen.target
        acceptDraining = chosen.acceptDraining
        if (chosen.setCookie !== undefined) res.setHeader('set-cookie', chosen.setCookie)
      }
      const endpoints = this.#eligible(match, 'http', this.#d.cache.peek(target) ?? (await this.#d.cache.resolve(target)), acceptDraining)
      const key = targetKey(target)
      const ctx = this.#forwardContext(req, client, requestId, trace, match, false)
      const balancer = this.#d.balancerFor(match.route.balancer)
      const load = this.#d.load
      const picked: Endpoint[] = []
      let result: ForwardResult
      awaiting = true
      try {
        result = await this.http.forward(
          req,
          res,
          match.upstreamPath,
          ctx,
          (exclude) => {
            const p = balancer.pick(key, endpoints, exclude)
            // Balancers fall back to excluded instances when no other is left; a retry there only doubles the wait.
            if (p !== undefined && !exclude.has(p.id)) {
              endpoint = p
              attempts++
              picked.push(p)
              load.start(p)
              return p
            }
            return undefined
          },
          (ep, failure) => this.#attemptFailed(routeName, ep, failure.reason, failure.beforeSend),
          abort,
          match.route.timeouts,
        )
      } finally {
        for (const p of picked) load.end(p)
        awaiting = false
      }
      upstreamTtfbMs = result.upstreamTtfbMs
      if (result.endpoint !== undefined && result.upstreamError === undefined) this.#d.outliers.success(result.endpoint)
      if (result.attempts > 1) this.#d.metrics.retries.labels(routeName).inc(result.attempts - 1)
      if (result.upstreamError !== undefined && !result.upstreamError.clientAborted) {
        errorCode = result.upstreamError.error.code
        if (!res.headersSent) this.#drainBodyThenSend(req, res, result.upstreamError.error, requestId, trace)
      }
    } catch (err) {
      const e = err instanceof RouterError ? err : new RouterError('internal error', 'INTERNAL', 500)
      if (!(err instanceof RouterError)) this.#d.logger.log('error', 'unexpected error', { requestId, err: String(err) })
      errorCode = e.code
      if (!res.headersSent) this.#drainBodyThenSend(req, res, e, requestId, trace)
      else res.destroy()
    } finally {
      awaiting = false
      if (logDue) writeLog()
    }
  }

  /** Answer an error; unread request bodies are discarded (bounded) so keep-alive survives. */
  #drainBodyThenSend(req: IncomingMessage, res: ServerResponse, err: RouterError, requestId: string, trace: TraceContext): void {
    // 413 and 408 close the connection (Connection: close) instead of reading the rest of the body.
    const closes = err.statusCode === 413 || err.statusCode === 408
    if (closes) res.setHeader('connection', 'close')
    sendError(res, err, requestId, trace.traceparent)
    if (!req.complete && !closes) req.resume()
  }

  #attemptFailed(route: string, ep: Endpoint, reason: string, connectFailure: boolean): void {
    this.#d.metrics.upstreamErrors.labels(route, reason).inc()
    if (connectFailure && this.#d.outliers.failure(ep)) {
      this.#d.metrics.ejections.labels(route).inc()
      this.#d.logger.log('warn', 'endpoint ejected after consecutive connect failures', { route, instance: ep.id, upstream: endpointKey(ep) })
    }
  }

  /**
   * Endpoints that may take this new request or WebSocket (throws 503 when
   * none). `acceptDraining`: an affinity holder of a deployment being drained,
   * before its deadline, may still reach its DRAINING instances.
   */
  #eligible(match: RouteMatch, kind: 'http' | 'websocket', resolved: { readonly endpoints: readonly Endpoint[] }, acceptDraining = false): readonly Endpoint[] {
    const what = match.what
    if (resolved.endpoints.length === 0) throw new NoHealthyEndpointError(what, this.#d.config.retryAfterSeconds)
    const eligible = acceptDraining ? resolved.endpoints : eligibleEndpoints(resolved.endpoints, kind, match.route.drainingAcceptsHttp)
    if (eligible.length === 0) {
      const draining = resolved.endpoints.every(isDraining)
      throw new NoHealthyEndpointError(what, this.#d.config.retryAfterSeconds, draining ? 'is DRAINING and accepts no new connections' : 'has no healthy instance')
    }
    return this.#d.outliers.filter(eligible)
  }

  #forwardContext(req: IncomingMessage, client: string, requestId: string, trace: TraceContext, match: RouteMatch, upgrade: boolean): ForwardContext {
    return { clientIp: client, proto: isTls(req.socket) ? 'https' : 'http', requestId, prefix: match.strippedPrefix, upgrade, trace }
  }

  async #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = performance.now()
    const url = req.url ?? '/'
    const requestId = requestIdFrom(req.headers)
    const trace = traceContextFrom(req.headers.traceparent, req.headers.tracestate)
    const client = clientIp(socket)
    let routeName = 'none'
    let endpoint: Endpoint | undefined
    let upstreamTtfbMs = -1
    socket.on('error', destroySelf)
    if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') {
      const s = socket as Socket
      s.setNoDelay(true)
      s.setKeepAlive(true, 30_000)
      s.setTimeout(0)
    }
    const reject = (err: RouterError): void => {
      this.#d.metrics.wsRejected.labels(routeName, statusClass(err.statusCode)).inc()
      writeRawError(socket, err.statusCode, err.toBody(), { ...err.headers, 'x-request-id': requestId, traceresponse: trace.traceparent })
      this.#logWs(req, requestId, trace, url, routeName, err.statusCode, err.code, started, endpoint, client, upstreamTtfbMs)
    }
    try {
      const upgrade = req.headers.upgrade
      if (typeof upgrade !== 'string' || upgrade.toLowerCase() !== 'websocket') {
        throw new RouterError('only WebSocket upgrades are supported', 'UNSUPPORTED_UPGRADE', 400)
      }
      const match = matchRoute(this.#d.routes(), url, req.headers.host)
      routeName = match.route.name
      let target = match.target
      let setCookie: string | undefined
      let acceptDraining = false
      if (match.route.affinity !== undefined) {
        const chosen = await chooseDeployment(this.#d.cache, match.route.affinity, req.headers, clientUsedHttps(isTls(socket), req.headers['x-forwarded-proto']), this.#now(), match.route.lookup)
        target = chosen.target
        setCookie = chosen.setCookie
        acceptDraining = chosen.acceptDraining
      }
      const endpoints = this.#eligible(match, 'websocket', this.#d.cache.peek(target) ?? (await this.#d.cache.resolve(target)), acceptDraining)
      const key = targetKey(target)
      const ctx = { ...this.#forwardContext(req, client, requestId, trace, match, true), setCookie }
      const balancer = this.#d.balancerFor(match.route.balancer)
      const tried = new Set<string>()
      for (let attempt = 1; attempt <= 2; attempt++) {
        endpoint = balancer.pick(key, endpoints, tried)
        if (endpoint === undefined || tried.has(endpoint.id)) break
        tried.add(endpoint.id)
        const ep = endpoint
        this.#d.load.start(ep)
        const meta = { route: routeName, started, logHead: '' }
        const sent = performance.now()
        const result = await this.ws.handshake(req, socket, head, ep, match.upstreamPath, ctx, meta)
        upstreamTtfbMs = performance.now() - sent
        if (result.kind === 'established') {
          if (this.#d.config.accessLog) meta.logHead = wsAccessHead(requestId, trace, req.headers, logPath(url), routeName, 101, endpointKey(ep), ep.id, client, upstreamTtfbMs)
          // The tunnel's own 'error' listener destroys the socket now; one listener
          // instead of two saves a listener array on every long-lived socket.
          socket.removeListener('error', destroySelf)
          this.#d.outliers.success(ep)
          this.#d.metrics.wsOpened.labels(routeName).inc()
          this.#d.metrics.wsActive.labels(routeName).inc()
          return
        }
        this.#d.load.end(ep)
        if (result.kind === 'refused') {
          this.#d.metrics.wsRejected.labels(routeName, statusClass(result.status)).inc()
          this.#logWs(req, requestId, trace, url, routeName, result.status, undefined, started, endpoint, client, upstreamTtfbMs)
          return
        }
        if (result.failure.clientAborted) {
          socket.destroy()
          return
        }
        this.#attemptFailed(routeName, ep, result.failure.reason, result.failure.beforeSend)
        if (!result.failure.beforeSend || attempt === 2 || endpoints.length < 2) {
          reject(result.failure.error)
          return
        }
      }
      reject(new NoHealthyEndpointError(match.what, this.#d.config.retryAfterSeconds))
    } catch (err) {
      const e = err instanceof RouterError ? err : new RouterError('internal error', 'INTERNAL', 500)
      reject(e)
    }
  }

  /** One tunnel ended: metrics, load accounting and its access-log line. */
  #tunnelClosed(tunnel: Tunnel, reason: WsCloseReason): void {
    const m = this.#d.metrics
    const route = tunnel.meta.route
    this.#d.load.end(tunnel.endpoint)
    m.wsActive.labels(route).dec()
    m.wsClosed.labels(route, reason).inc()
    const up = tunnel.fromClient
    const down = tunnel.fromUpstream
    m.wsBytes.labels(route, 'upstream').inc(up.bytes)
    m.wsBytes.labels(route, 'downstream').inc(down.bytes)
    if (this.#d.config.accessLog) {
      this.#d.logger.accessJson(tunnel.meta.logHead + wsAccessEnd(reason, performance.now() - tunnel.meta.started, up.bytes, down.bytes, up.closeCode, down.closeCode))
    }
  }

  /** The line of an upgrade that did not become a tunnel (refused by the router or the upstream). */
  #logWs(req: IncomingMessage, requestId: string, trace: TraceContext, url: string, route: string, status: number, error: string | undefined, started: number, endpoint: Endpoint | undefined, client: string, upstreamTtfbMs: number): void {
    if (!this.#d.config.accessLog) return
    const head = wsAccessHead(requestId, trace, req.headers, logPath(url), route, status, endpoint !== undefined ? endpointKey(endpoint) : undefined, endpoint?.id, client, upstreamTtfbMs)
    this.#d.logger.accessJson(head + wsAccessRefused(error, performance.now() - started))
  }

  /** CONNECT: 405 with Allow, as JSON on the raw socket. */
  #onConnect(req: IncomingMessage, socket: Duplex): void {
    socket.on('error', destroySelf)
    const requestId = requestIdFrom(req.headers)
    const trace = traceContextFrom(req.headers.traceparent, req.headers.tracestate)
    let err: RouterError
    try {
      checkMethod(req.method ?? '')
      err = new RouterError('unexpected CONNECT', 'BAD_REQUEST', 400)
    } catch (e) {
      err = e instanceof RouterError ? e : new RouterError('internal error', 'INTERNAL', 500)
    }
    this.#d.metrics.observeRequest('none', err.statusCode, 0)
    writeRawError(socket, err.statusCode, err.toBody(), { ...err.headers, 'x-request-id': requestId, traceresponse: trace.traceparent })
  }

  #onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const code = err.code ?? ''
    if (code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    let status = 400
    let body = { error: 'malformed HTTP request', code: 'BAD_REQUEST' }
    if (code === 'HPE_HEADER_OVERFLOW') {
      status = 431
      body = { error: `request headers exceed ${this.#d.config.client.maxHeaderBytes} bytes`, code: 'HEADERS_TOO_LARGE' }
    } else if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT') {
      status = 408
      body = { error: 'the client did not send the request in time', code: 'REQUEST_TIMEOUT' }
    }
    this.#d.metrics.requests.labels('none', statusClass(status)).inc()
    writeRawError(socket, status, body)
  }

  /** Stop accepting connections and drop idle keep-alive ones; busy ones finish their request. */
  stopAccepting(): void {
    if (this.server.listening) this.server.close()
    this.server.closeIdleConnections()
  }

  async close(): Promise<void> {
    this.stopAccepting()
    this.server.closeAllConnections()
    for (const t of this.ws.tunnels) t.destroy()
    await Promise.all([this.http.close(), this.#statusAgent.close()])
  }
}
