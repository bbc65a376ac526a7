// WebSocket proxying: forward the upgrade request over a fresh TCP connection,
// read the upstream's response head, and only after `HTTP/1.1 101` pipe the two
// sockets; any other response is passed through and both sockets closed.
// Either side ending, erroring or resetting closes the other.

import { connect, type Socket } from 'node:net'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Endpoint } from '../discovery/discovery.js'
import { UpstreamError, UpstreamTimeoutError } from '../errors.js'
import { upstreamRequestHeaders, type ForwardContext } from './headers.js'
import { Tunnel, type TunnelClosedHandler, type TunnelMeta } from './tunnel.js'
import { classifyUpstreamError, type ClassifiedUpstreamError } from './upstream-errors.js'

export interface WebSocketProxyOptions {
  readonly handshakeTimeoutMs: number
  /** 0 = never. */
  readonly idleTimeoutMs: number
  readonly maxResponseHeadBytes?: number
}

/** Outcome of the handshake phase. */
export type HandshakeResult =
  | { readonly kind: 'established'; readonly tunnel: Tunnel }
  /** Upstream answered something other than 101; it was relayed to the client. */
  | { readonly kind: 'refused'; readonly status: number }
  /** Could not reach the upstream or it did not answer; nothing was written to the client. */
  | { readonly kind: 'failed'; readonly failure: ClassifiedUpstreamError }

const CRLF2 = Buffer.from('\r\n\r\n')

function serializeHead(method: string, path: string, headers: Record<string, string | string[]>): string {
  let s = `${method} ${path} HTTP/1.1\r\n`
  for (const name in headers) {
    const v = headers[name]
    if (v === undefined) continue
    if (Array.isArray(v)) for (const one of v) s += `${name}: ${one}\r\n`
    else s += `${name}: ${v}\r\n`
  }
  return `${s}\r\n`
}

function parseStatus(head: Buffer): number {
  // "HTTP/1.1 101 Switching Protocols"
  const line = head.subarray(0, Math.min(head.length, 64)).toString('latin1')
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(line)
  return m?.[1] !== undefined ? Number(m[1]) : 0
}

function contentLength(head: Buffer): number | undefined {
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head.toString('latin1'))
  return m?.[1] !== undefined ? Number(m[1]) : undefined
}

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
   * Open the upstream connection and perform the handshake. Does not write to
   * the client unless the upstream answered (101 or another response).
   */
  handshake(req: IncomingMessage, client: Duplex, head: Buffer, endpoint: Endpoint, path: string, ctx: ForwardContext, meta: TunnelMeta): Promise<HandshakeResult> {
    const maxHead = this.#opts.maxResponseHeadBytes ?? 16_384
    return new Promise<HandshakeResult>((resolve) => {
      const upstream = connect({ host: endpoint.host, port: endpoint.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 })
      let settled = false
      let connected = false
      let chunks: Buffer[] = []
      let size = 0
      const finish = (r: HandshakeResult): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        upstream.off('data', onData)
        upstream.off('error', onError)
        upstream.off('close', onEarlyClose)
        client.off('close', onClientGone)
        resolve(r)
      }
      const fail = (failure: ClassifiedUpstreamError): void => {
        upstream.destroy()
        finish({ kind: 'failed', failure })
      }
      const timer = setTimeout(() => {
        fail({ reason: 'timeout', beforeSend: !connected, clientAborted: false, error: new UpstreamTimeoutError('upstream did not answer the WebSocket upgrade in time') })
      }, this.#opts.handshakeTimeoutMs)
      const onError = (err: Error): void => fail(connected ? { ...classifyUpstreamError(err), beforeSend: false } : classifyUpstreamError(err))
      const onEarlyClose = (): void => fail({ reason: 'reset', beforeSend: false, clientAborted: false, error: new UpstreamError('upstream closed the connection during the WebSocket handshake') })
      const onClientGone = (): void => fail({ reason: 'other', beforeSend: false, clientAborted: true, error: new UpstreamError('client went away during the handshake') })
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk)
        size += chunk.length
        const all = chunks.length === 1 ? chunk : Buffer.concat(chunks, size)
        chunks = [all]
        const end = all.indexOf(CRLF2)
        if (end === -1) {
          if (size > maxHead) fail({ reason: 'protocol', beforeSend: false, clientAborted: false, error: new UpstreamError('upstream sent an oversized response head') })
          return
        }
        const headBytes = all.subarray(0, end + 4)
        const rest = all.subarray(end + 4)
        const status = parseStatus(headBytes)
        if (status === 0) {
          fail({ reason: 'protocol', beforeSend: false, clientAborted: false, error: new UpstreamError('upstream sent an invalid response to the WebSocket upgrade') })
          return
        }
        if (status === 101) {
          upstream.pause()
          finish({ kind: 'established', tunnel: this.#establish(client, upstream, endpoint, headBytes, rest, meta) })
          return
        }
        finish({ kind: 'refused', status })
        this.#relayRefusal(client, upstream, headBytes, rest)
      }
      upstream.on('error', onError)
      upstream.on('close', onEarlyClose)
      upstream.on('data', onData)
      client.on('close', onClientGone)
      upstream.once('connect', () => {
        connected = true
        const headers = upstreamRequestHeaders(req.headers, { ...ctx, upgrade: true })
        upstream.write(serializeHead(req.method ?? 'GET', path, headers))
        if (head.length > 0) upstream.write(head)
      })
    })
  }

  /** Send every live tunnel's peers close frames with `code` (1001 on drain). */
  goAwayAll(code: number, reason: string): void {
    for (const t of this.tunnels) t.goAway(code, reason)
  }

  /** Pass a non-101 response to the client, then close both sockets. */
  #relayRefusal(client: Duplex, upstream: Socket, headBytes: Buffer, rest: Buffer): void {
    const len = contentLength(headBytes)
    let remaining = len ?? Number.POSITIVE_INFINITY
    const done = (): void => {
      clearTimeout(cap)
      upstream.destroy()
      if (client.writable) client.end()
      else client.destroy()
    }
    const cap = setTimeout(done, this.#opts.handshakeTimeoutMs)
    client.on('error', () => upstream.destroy())
    upstream.on('error', done)
    upstream.on('close', done)
    client.write(headBytes)
    const take = (b: Buffer): void => {
      const part = b.length > remaining ? b.subarray(0, remaining) : b
      if (part.length > 0) client.write(part)
      remaining -= part.length
      if (remaining <= 0) done()
    }
    if (rest.length > 0 || len === 0) take(rest)
    upstream.on('data', take)
    upstream.on('end', done)
  }

  #establish(client: Duplex, upstream: Socket, endpoint: Endpoint, headBytes: Buffer, rest: Buffer, meta: TunnelMeta): Tunnel {
    client.write(headBytes)
    if (rest.length > 0) client.write(rest)
    const tunnel = new Tunnel(client, upstream, endpoint, meta, this.#onClosed, this.#opts.idleTimeoutMs)
    this.tunnels.add(tunnel)
    upstream.resume()
    client.resume()
    return tunnel
  }
}
