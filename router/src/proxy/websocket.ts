// WebSocket proxying: forward the upgrade request over a fresh TCP connection
// with Node's HTTP client, so the upstream's answer is parsed by llhttp. Only
// after a 101 does anything the client sent after its request head (the
// `head` bytes and whatever is still unread on the paused client socket) go
// up, in order, and the two sockets become a Tunnel. Any other answer is read
// whole (bounded) and relayed as a complete response; both sockets are then
// closed, so an upstream can never be handed a smuggled second request.

import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Endpoint } from '../discovery/discovery.js'
import { RouterError, UpstreamError, UpstreamTimeoutError } from '../errors.js'
import { upstreamRequestHeaders, type ForwardContext } from './headers.js'
import { Tunnel, type TunnelClosedHandler, type TunnelMeta } from './tunnel.js'
import { classifyUpstreamError, type ClassifiedUpstreamError } from './upstream-errors.js'
import { completeResponse, switchingProtocolsHead } from './upgrade-response.js'
import { writeRaw } from './respond.js'

export interface WebSocketProxyOptions {
  readonly handshakeTimeoutMs: number
  /** 0 = never. */
  readonly idleTimeoutMs: number
  /** Largest upstream response head (llhttp's limit); default 16 KiB. */
  readonly maxResponseHeadBytes?: number
  /** Largest body of a non-101 answer that is relayed; a larger one is 502. Default 64 KiB. */
  readonly maxRefusalBodyBytes?: number
}

/** Outcome of the handshake phase. */
export type HandshakeResult =
  | { readonly kind: 'established'; readonly tunnel: Tunnel }
  /** Upstream answered something other than 101; it was relayed to the client. */
  | { readonly kind: 'refused'; readonly status: number }
  /** Could not reach the upstream, it did not answer (completely, in time) or answered badly; nothing was written to the client. */
  | { readonly kind: 'failed'; readonly failure: ClassifiedUpstreamError }

/** The client's request could not be sent as it is (e.g. a path Node's client refuses). */
class BadUpgradeRequestError extends RouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'BAD_REQUEST', 400, {}, options)
    this.name = 'BadUpgradeRequestError'
  }
}

function protocolFailure(message: string, cause?: unknown): ClassifiedUpstreamError {
  return { reason: 'protocol', beforeSend: false, clientAborted: false, error: new UpstreamError(message, cause !== undefined ? { cause } : undefined) }
}

function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : ''
}

/** A transfer coding llhttp framed but we would pass on mislabelled (gzip, identity…): refused, as nginx does. */
function unsupportedTransferCoding(res: IncomingMessage): boolean {
  const te = res.headers['transfer-encoding']
  return te !== undefined && te.trim().toLowerCase() !== 'chunked'
}

/** Swallows late errors of a finished handshake's request/response objects. */
function ignore(): void {}

export class WebSocketProxy {
  readonly #opts: WebSocketProxyOptions
  /** Live tunnels, for draining. */
  readonly tunnels = new Set<Tunnel>()
  readonly #onClosed: TunnelClosedHandler

  /** `onClosed` is called once per tunnel when both of its sockets are closed. */
  constructor(opts: WebSocketProxyOptions, onClosed: TunnelClosedHandler) {
    this.#opts = opts
    this.#onClosed = (t, reason) => {
      this.tunnels.delete(t)
      onClosed(t, reason)
    }
  }

  /**
   * Open the upstream connection and perform the handshake. Writes to the
   * client only once the upstream has answered (a 101, or a complete other
   * response); the client socket stays paused until then.
   */
  handshake(req: IncomingMessage, client: Duplex, head: Buffer, endpoint: Endpoint, path: string, ctx: ForwardContext, meta: TunnelMeta): Promise<HandshakeResult> {
    const maxBody = this.#opts.maxRefusalBodyBytes ?? 65_536
    client.pause()
    return new Promise<HandshakeResult>((resolve) => {
      let settled = false
      let connected = false
      const socket = connect({ host: endpoint.host, port: endpoint.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 })
      socket.once('connect', () => {
        connected = true
      })
      const headers = upstreamRequestHeaders(req.headers, { ...ctx, upgrade: true })
      // The forwarded upgrade carries no body: what follows its head is tunnel data, sent after the 101.
      delete headers['content-length']
      let up: ClientRequest
      try {
        up = request({
          host: endpoint.host,
          port: endpoint.port,
          method: req.method ?? 'GET',
          path,
          headers,
          createConnection: () => socket,
          maxHeaderSize: this.#opts.maxResponseHeadBytes ?? 16_384,
          insecureHTTPParser: false,
        })
      } catch (err) {
        socket.destroy()
        resolve({ kind: 'failed', failure: { reason: 'other', beforeSend: false, clientAborted: false, error: new BadUpgradeRequestError('the upgrade request cannot be forwarded', { cause: err }) } })
        return
      }
      const finish = (r: HandshakeResult): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        client.off('close', onClientGone)
        resolve(r)
      }
      const fail = (failure: ClassifiedUpstreamError): void => {
        if (settled) return
        up.destroy()
        socket.destroy()
        finish({ kind: 'failed', failure })
      }
      const timer = setTimeout(() => {
        fail({ reason: 'timeout', beforeSend: !connected, clientAborted: false, error: new UpstreamTimeoutError('upstream did not answer the WebSocket upgrade in time') })
      }, this.#opts.handshakeTimeoutMs)
      const onClientGone = (): void => fail({ reason: 'other', beforeSend: false, clientAborted: true, error: new UpstreamError('client went away during the handshake') })
      client.on('close', onClientGone)

      let response: IncomingMessage | undefined
      up.on('error', (err: Error) => {
        // Bytes after a complete non-101 response (or a reset after it) do not spoil the response.
        if (settled || response?.complete === true) return
        if (errorCode(err).startsWith('HPE_')) fail(protocolFailure('upstream sent an invalid response to the WebSocket upgrade', err))
        else if (!connected) fail(classifyUpstreamError(err))
        else if (response !== undefined) fail({ reason: 'reset', beforeSend: false, clientAborted: false, error: new UpstreamError('upstream closed the connection before the end of its response', { cause: err }) })
        else fail({ ...classifyUpstreamError(err), beforeSend: false })
      })
      up.on('upgrade', (res: IncomingMessage, upgraded: Socket, upstreamHead: Buffer) => {
        res.on('error', ignore)
        if (settled) {
          upgraded.destroy()
          return
        }
        if (res.statusCode !== 101) {
          upgraded.destroy()
          fail(protocolFailure(`upstream switched protocols with status ${res.statusCode ?? 0}`))
          return
        }
        finish({ kind: 'established', tunnel: this.#establish(client, upgraded, res, upstreamHead, head, endpoint, meta, ctx.setCookie) })
      })
      up.on('response', (res: IncomingMessage) => {
        response = res
        // Node reports a connection lost mid-body on the response ('aborted' error, then close without 'end').
        const cut = (): void => fail({ reason: 'reset', beforeSend: false, clientAborted: false, error: new UpstreamError('upstream closed the connection before the end of its response') })
        res.on('error', cut)
        res.on('close', cut)
        if (settled) return
        if (unsupportedTransferCoding(res)) {
          fail(protocolFailure(`upstream answered the WebSocket upgrade with an unsupported transfer coding (${res.headers['transfer-encoding'] ?? ''})`))
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          if (settled) return
          size += chunk.length
          if (size > maxBody) fail(protocolFailure(`upstream's answer to the WebSocket upgrade has a body over ${maxBody} bytes`))
          else chunks.push(chunk)
        })
        res.on('end', () => {
          if (settled) return
          finish({ kind: 'refused', status: res.statusCode ?? 0 })
          // Never reused: the upstream connection goes with the refusal.
          up.destroy()
          socket.destroy()
          writeRaw(client, completeResponse(res, Buffer.concat(chunks, size), ctx.requestId, ctx.setCookie))
        })
      })
      up.end()
    })
  }

  /** Send every live tunnel's peers close frames with `code` (1001 on drain). */
  goAwayAll(code: number, reason: string): void {
    for (const t of this.tunnels) t.goAway(code, reason)
  }

  /**
   * After the upstream's 101: relay its head (and any bytes that came with it)
   * to the client, then send up what the client sent after its request head,
   * then start the tunnel, which resumes both sockets (unread client bytes
   * follow `clientHead` in order).
   */
  #establish(client: Duplex, upstream: Socket, res: IncomingMessage, upstreamHead: Buffer, clientHead: Buffer, endpoint: Endpoint, meta: TunnelMeta, setCookie: string | undefined): Tunnel {
    client.write(switchingProtocolsHead(res, setCookie))
    if (upstreamHead.length > 0) client.write(upstreamHead)
    if (clientHead.length > 0) upstream.write(clientHead)
    const tunnel = new Tunnel(client, upstream, endpoint, meta, this.#onClosed, this.#opts.idleTimeoutMs)
    // Counted (and scanned for close frames) like everything the tunnel relays.
    tunnel.fromUpstream.push(upstreamHead)
    tunnel.fromClient.push(clientHead)
    this.tunnels.add(tunnel)
    upstream.resume()
    client.resume()
    return tunnel
  }
}
