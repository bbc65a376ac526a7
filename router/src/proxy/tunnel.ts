// An established WebSocket tunnel: two sockets relaying bytes both ways with
// backpressure. Memory per tunnel matters (thousands per process), so the
// listeners are shared module-level functions that find their peer through a
// symbol on the socket: no per-tunnel closures, no stream.pipe() state.
// Either side ending, erroring or closing closes the other. Each direction's
// bytes and first close code are followed for the access log (ws-frame-scan.ts).

import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Endpoint } from '../discovery/discovery.js'
import type { WsCloseReason } from '../admin/metrics.js'
import { closeFrame } from './ws-frames.js'
import { FrameScan } from './ws-frame-scan.js'

const kTunnel = Symbol('tunnel')
/** Grace for the other side to finish after one side ended (FIN). */
const END_GRACE_MS = 5000

interface TunnelSocket extends Duplex {
  [kTunnel]?: Tunnel
}

/** What the tracker of a tunnel needs at its end (route label, start time, the access-log line's start). */
export interface TunnelMeta {
  readonly route: string
  /** performance.now() when the upgrade request arrived. */
  readonly started: number
  /** The access-log fields known once the upgrade was answered (access-log.ts wsAccessHead); '' with the log off. Set after the 101. */
  logHead: string
}

/** Called once when both sockets are closed. */
export type TunnelClosedHandler = (tunnel: Tunnel, reason: WsCloseReason) => void

function peerOf(t: Tunnel, s: Duplex): Duplex {
  return s === t.client ? t.upstream : t.client
}

function onData(this: TunnelSocket, chunk: Buffer): void {
  const t = this[kTunnel]
  if (t === undefined) return
  const fromClient = this === t.client
  ;(fromClient ? t.fromClient : t.fromUpstream).push(chunk)
  if (!(fromClient ? t.upstream : t.client).write(chunk)) this.pause()
}

function onDrain(this: TunnelSocket): void {
  const t = this[kTunnel]
  if (t !== undefined) peerOf(t, this).resume()
}

function onEnd(this: TunnelSocket): void {
  const t = this[kTunnel]
  if (t === undefined) return
  t.mark(this === t.client ? 'client' : 'upstream')
  peerOf(t, this).end()
  t.startGrace()
}

function onError(this: TunnelSocket): void {
  const t = this[kTunnel]
  if (t !== undefined) t.mark('error')
  this.destroy()
}

function onClose(this: TunnelSocket): void {
  const t = this[kTunnel]
  if (t === undefined) return
  t.mark(this === t.client ? 'client' : 'upstream')
  peerOf(t, this).destroy()
  t.sideClosed()
}

function onIdle(this: TunnelSocket): void {
  const t = this[kTunnel]
  if (t === undefined) return
  t.mark('idle')
  t.client.destroy()
  t.upstream.destroy()
}

function graceExpired(t: Tunnel): void {
  t.client.destroy()
  t.upstream.destroy()
}

export class Tunnel {
  readonly client: Duplex
  readonly upstream: Socket
  readonly endpoint: Endpoint
  readonly openedAt: number
  readonly meta: TunnelMeta
  /** Bytes and close code client → upstream, and upstream → client. */
  readonly fromClient = new FrameScan()
  readonly fromUpstream = new FrameScan()
  endedBy: WsCloseReason | undefined
  #closedSides = 0
  #grace: NodeJS.Timeout | undefined
  readonly #onClosed: TunnelClosedHandler

  constructor(client: Duplex, upstream: Socket, endpoint: Endpoint, meta: TunnelMeta, onClosed: TunnelClosedHandler, idleTimeoutMs: number) {
    this.client = client
    this.upstream = upstream
    this.endpoint = endpoint
    this.meta = meta
    this.openedAt = Date.now()
    this.#onClosed = onClosed
    for (const s of [client, upstream] as TunnelSocket[]) {
      s[kTunnel] = this
      s.on('data', onData)
      s.on('drain', onDrain)
      s.on('end', onEnd)
      s.on('error', onError)
      s.on('close', onClose)
    }
    if (idleTimeoutMs > 0) upstream.setTimeout(idleTimeoutMs, onIdle)
  }

  /** Record who ended the tunnel first. */
  mark(reason: WsCloseReason): void {
    if (this.endedBy === undefined) this.endedBy = reason
  }

  startGrace(): void {
    if (this.#grace !== undefined) return
    this.#grace = setTimeout(graceExpired, END_GRACE_MS, this)
    this.#grace.unref()
  }

  sideClosed(): void {
    this.#closedSides++
    if (this.#closedSides < 2) return
    if (this.#grace !== undefined) clearTimeout(this.#grace)
    const c = this.client as TunnelSocket
    const u = this.upstream as TunnelSocket
    delete c[kTunnel]
    delete u[kTunnel]
    this.#onClosed(this, this.endedBy ?? 'error')
  }

  /** Send close frames (client: unmasked, upstream: masked), then end both sockets. */
  goAway(code: number, reason: string): void {
    this.mark('drain')
    if (this.client.writable) this.client.write(closeFrame(code, reason, false))
    if (this.upstream.writable) this.upstream.write(closeFrame(code, reason, true))
    this.client.end()
    this.upstream.end()
    this.startGrace()
  }

  /** Cut both sockets now. */
  destroy(): void {
    this.client.destroy()
    this.upstream.destroy()
  }
}
