// Rooms and relay. Each WebSocket joins the room of its session id; every
// text or binary message goes to the room's other members (and back to the
// sender in echo mode). A peer whose send buffer passes the bound is closed
// with 1013 instead of being buffered without limit; a ping/pong heartbeat
// terminates peers that stopped answering. One log line per connection end.

import { WebSocket } from 'ws'
import type { RawData } from 'ws'
import type { Logger } from './log.js'
import { realTimers } from './timers.js'
import type { TimerHandle, Timers } from './timers.js'

/** Close code sent to a consumer that cannot keep up ("Try Again Later"). */
export const CLOSE_SLOW_CONSUMER = 1013

export interface SessionHubOptions {
  /**
   * Per-connection bound on bytes queued for sending. A message that would
   * push a non-empty buffer past it closes the peer with 1013. A single
   * message is always accepted into an empty buffer, so the memory held per
   * peer stays below this bound plus one maximum-size message.
   */
  sendBufferLimitBytes: number
  /** Ping every peer this often; a peer that has not answered the previous ping is terminated. 0 turns the heartbeat off. */
  heartbeatIntervalMs: number
  /** Clock of the heartbeat. Default: Node's timers (unref'd). */
  timers?: Timers
  /** After the node sends a close frame, terminate the socket if the close handshake has not finished within this time. */
  closeTimeoutMs: number
  /** Called after every join and every connection end with the new number of open connections. */
  onConnectionsChanged?: (activeConnections: number) => void
  log: Logger
}

/** How a peer joined. */
export interface JoinInfo {
  sessionId: string
  /** Echo each message back to the sender too. */
  echo: boolean
  /** Client address, from X-Forwarded-For when present. */
  remote: string | undefined
}

/** Why the node itself ended a connection. */
interface ServerClose {
  code: number
  reason: string
}

interface Peer {
  readonly ws: WebSocket
  readonly sessionId: string
  readonly echo: boolean
  readonly remote: string | undefined
  readonly openedAt: number
  bytesIn: number
  bytesOut: number
  messagesIn: number
  messagesOut: number
  alive: boolean
  serverClose: ServerClose | undefined
  error: string | undefined
  closeTimer: NodeJS.Timeout | undefined
}

/** Who ended a connection, as in the connection-closed log line. */
export type ClosedBy = 'client' | 'server' | 'error'

/** Connections counted since the node started (read by the metrics at scrape time). */
export interface ConnectionCounts {
  readonly opened: number
  /** Ended connections by close-code label (closeCodeLabel) and by who ended them. */
  readonly closed: ReadonlyArray<{ readonly code: string; readonly closedBy: ClosedBy; readonly count: number }>
}

/**
 * A close code as a metric label: the codes RFC 6455 and the IANA registry
 * define (1000-1015) as themselves; application codes (3000-4999, chosen by
 * clients) as `other`, so a client cannot grow the label set.
 */
export function closeCodeLabel(code: number): string {
  return Number.isInteger(code) && code >= 1000 && code <= 1015 ? String(code) : 'other'
}

/** Holds the rooms of one node. */
export class SessionHub {
  readonly #options: SessionHubOptions
  readonly #rooms = new Map<string, Set<Peer>>()
  readonly #peers = new Set<Peer>()
  #opened = 0
  /** Ended connections by `${code label}|${closedBy}`. */
  readonly #closed = new Map<string, { readonly code: string; readonly closedBy: ClosedBy; count: number }>()
  #heartbeat: TimerHandle | undefined
  #stopped = false

  constructor(options: SessionHubOptions) {
    this.#options = options
    this.#scheduleBeat()
  }

  /** The next heartbeat, on the injected clock (a fake one in tests). */
  #scheduleBeat(): void {
    const every = this.#options.heartbeatIntervalMs
    if (every <= 0 || this.#stopped) return
    this.#heartbeat = (this.#options.timers ?? realTimers).setTimeout(() => {
      this.#beat()
      this.#scheduleBeat()
    }, every)
  }

  /** Open connections. */
  get activeConnections(): number {
    return this.#peers.size
  }

  /** Sessions with at least one open connection. */
  get sessions(): number {
    return this.#rooms.size
  }

  /** Connections opened and closed since the start. */
  connectionCounts(): ConnectionCounts {
    return { opened: this.#opened, closed: [...this.#closed.values()].map((c) => ({ ...c })) }
  }

  /** Adds an upgraded WebSocket to the room of `info.sessionId`. */
  join(ws: WebSocket, info: JoinInfo): void {
    const peer: Peer = {
      ws,
      sessionId: info.sessionId,
      echo: info.echo,
      remote: info.remote,
      openedAt: Date.now(),
      bytesIn: 0,
      bytesOut: 0,
      messagesIn: 0,
      messagesOut: 0,
      alive: true,
      serverClose: undefined,
      error: undefined,
      closeTimer: undefined,
    }
    let room = this.#rooms.get(info.sessionId)
    if (room === undefined) {
      room = new Set()
      this.#rooms.set(info.sessionId, room)
    }
    room.add(peer)
    this.#peers.add(peer)
    this.#opened++

    ws.on('message', (data, isBinary) => this.#relay(peer, data, isBinary))
    ws.on('pong', () => {
      peer.alive = true
    })
    ws.on('error', (err: Error & { code?: string }) => {
      peer.error = err.code ?? err.message
      // ws answers a protocol violation (e.g. a message above maxPayload) with a close frame itself.
      const code = err.code !== undefined ? protocolCloseCode(err.code) : undefined
      if (code !== undefined) peer.serverClose ??= { code, reason: err.message }
    })
    ws.once('close', (code, reason) => this.#leave(peer, code, reason.toString()))
    this.#options.log({ level: 'debug', msg: 'connection open', sessionId: info.sessionId, echo: info.echo, remote: info.remote })
    this.#options.onConnectionsChanged?.(this.#peers.size)
  }

  /**
   * Sends a close frame with `code` to every open connection; those that do
   * not finish the close handshake within `closeTimeoutMs` are terminated.
   */
  closeAll(code: number, reason: string): void {
    for (const peer of this.#peers) this.#close(peer, code, reason)
  }

  /** Destroys every connection at once and stops the heartbeat. */
  terminateAll(): void {
    this.#stopped = true
    this.#heartbeat?.cancel()
    for (const peer of this.#peers) peer.ws.terminate()
  }

  /** Stops the heartbeat. Open connections are left alone. */
  stop(): void {
    this.#stopped = true
    this.#heartbeat?.cancel()
  }

  #relay(from: Peer, data: RawData, isBinary: boolean): void {
    const payload = toBuffer(data)
    from.bytesIn += payload.length
    from.messagesIn++
    const room = this.#rooms.get(from.sessionId)
    if (room === undefined) return
    for (const to of room) {
      if (to === from && !from.echo) continue
      this.#send(to, payload, isBinary)
    }
  }

  #send(to: Peer, payload: Buffer, isBinary: boolean): void {
    if (to.ws.readyState !== WebSocket.OPEN) return
    const buffered = to.ws.bufferedAmount
    if (buffered > 0 && buffered + payload.length > this.#options.sendBufferLimitBytes) {
      this.#options.log({
        level: 'warn',
        msg: 'slow consumer closed',
        sessionId: to.sessionId,
        bufferedBytes: buffered,
        limitBytes: this.#options.sendBufferLimitBytes,
      })
      this.#close(to, CLOSE_SLOW_CONSUMER, 'send buffer limit exceeded')
      return
    }
    to.bytesOut += payload.length
    to.messagesOut++
    to.ws.send(payload, { binary: isBinary })
  }

  #close(peer: Peer, code: number, reason: string): void {
    if (peer.serverClose !== undefined || peer.ws.readyState === WebSocket.CLOSED) return
    peer.serverClose = { code, reason }
    peer.ws.close(code, reason)
    // A peer that does not read will never see the close frame: do not wait
    // for ws's own 30 s close timeout.
    peer.closeTimer = setTimeout(() => peer.ws.terminate(), this.#options.closeTimeoutMs)
    peer.closeTimer.unref()
  }

  #beat(): void {
    for (const peer of this.#peers) {
      if (peer.ws.readyState !== WebSocket.OPEN) continue
      if (!peer.alive) {
        peer.serverClose ??= { code: 1006, reason: 'heartbeat timeout' }
        this.#options.log({ level: 'info', msg: 'heartbeat timeout', sessionId: peer.sessionId })
        peer.ws.terminate()
        continue
      }
      peer.alive = false
      peer.ws.ping()
    }
  }

  #leave(peer: Peer, code: number, reason: string): void {
    clearTimeout(peer.closeTimer)
    this.#peers.delete(peer)
    const room = this.#rooms.get(peer.sessionId)
    if (room !== undefined) {
      room.delete(peer)
      if (room.size === 0) this.#rooms.delete(peer.sessionId)
    }
    const closedBy: ClosedBy = peer.serverClose !== undefined ? 'server' : peer.error !== undefined ? 'error' : 'client'
    const closeCode = peer.serverClose?.code ?? code
    const codeLabel = closeCodeLabel(closeCode)
    const key = `${codeLabel}|${closedBy}`
    const tally = this.#closed.get(key)
    if (tally !== undefined) tally.count++
    else this.#closed.set(key, { code: codeLabel, closedBy, count: 1 })
    this.#options.log({
      level: 'info',
      msg: 'connection closed',
      sessionId: peer.sessionId,
      durationMs: Date.now() - peer.openedAt,
      bytesIn: peer.bytesIn,
      bytesOut: peer.bytesOut,
      messagesIn: peer.messagesIn,
      messagesOut: peer.messagesOut,
      closeCode,
      closeReason: peer.serverClose?.reason ?? reason,
      closedBy,
      ...(peer.error !== undefined ? { error: peer.error } : {}),
      ...(peer.remote !== undefined ? { remote: peer.remote } : {}),
    })
    this.#options.onConnectionsChanged?.(this.#peers.size)
  }
}

/** The close code ws sends for one of its protocol error codes (see ws/lib/receiver.js). */
function protocolCloseCode(code: string): number | undefined {
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return 1009
  if (code === 'WS_ERR_INVALID_UTF8') return 1007
  if (code.startsWith('WS_ERR_')) return 1002
  return undefined
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}
