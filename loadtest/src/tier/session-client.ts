// One media client as a real one behaves, through the LB: allocate a session
// (`GET /media/allocate`), open `/media/<node>/ws/<session>?echo=1`, send
// messages at a fixed rate and watch their echoes, close (1000) when its
// session time is up and allocate the next one. When the far side closes
// with 1001 or 1006 — or no echo came back for `stallMs` — it reconnects to
// the same node with exponential backoff and jitter; a 404/503 refusal (node
// gone or draining) or too many failed attempts makes it allocate a new
// session instead. Every step is an event with a timestamp, so a scenario can
// count what happened inside its window.

import WebSocket from 'ws'
import { request, type Dispatcher } from 'undici'
import { isRecord } from '../lib/guards.js'

export type WsEvent =
  | { t: number; kind: 'alloc'; client: number; node: string; ms: number }
  | { t: number; kind: 'alloc-fail'; client: number; status: number; ms: number }
  | { t: number; kind: 'open'; client: number; node: string; ms: number; reconnect: boolean; gapMs: number | undefined; sameNode: boolean }
  | { t: number; kind: 'close'; client: number; node: string; code: number; byClient: boolean }
  | { t: number; kind: 'refused'; client: number; node: string; status: number; ms: number }
  | { t: number; kind: 'stall'; client: number; node: string }

export interface SessionClientOptions {
  /** http://<lb> */
  readonly baseUrl: string
  readonly client: number
  readonly msgRate: number
  readonly holdMinMs: number
  readonly holdMaxMs: number
  /** No echo for this long while sending counts as a dead connection. */
  readonly stallMs: number
  readonly maxReconnectAttempts: number
  readonly dispatcher: Dispatcher
  readonly emit: (e: WsEvent) => void
  readonly counters: { sent: number; echoed: number }
  readonly random?: () => number
}

/** Backoff before reconnect attempt `attempt` (1-based): 100 ms doubling, capped at 1.6 s, with full jitter above half. */
export function reconnectDelayMs(attempt: number, random: () => number): number {
  const base = Math.min(1600, 100 * 2 ** Math.max(0, attempt - 1))
  return Math.round(base / 2 + (random() * base) / 2)
}

/** Parses a `/media/allocate` answer; undefined unless it names a node and a path. */
export function parseAllocation(v: unknown): { nodeId: string; path: string } | undefined {
  if (!isRecord(v)) return undefined
  const nodeId = v['nodeId']
  const path = v['path']
  return typeof nodeId === 'string' && typeof path === 'string' && path.startsWith('/media/') ? { nodeId, path } : undefined
}

/** When and where the connection a reconnect replaces was lost. */
interface Lost {
  at: number
  node: string
}

type Outcome = { kind: 'done' } | { kind: 'lost'; at: number; code: number } | { kind: 'refused'; status: number } | { kind: 'stopped' }

export class SessionClient {
  readonly #o: SessionClientOptions
  readonly #random: () => number
  #stopped = false
  #ws: WebSocket | undefined
  #wake: (() => void) | undefined

  constructor(o: SessionClientOptions) {
    this.#o = o
    this.#random = o.random ?? Math.random
  }

  /** Runs sessions one after the other until stop(). */
  async run(): Promise<void> {
    let allocFailures = 0
    while (!this.#stopped) {
      const alloc = await this.#allocate()
      if (alloc === undefined) {
        allocFailures++
        await this.#pause(reconnectDelayMs(Math.min(allocFailures, 5), this.#random))
        continue
      }
      allocFailures = 0
      const holdMs = this.#o.holdMinMs + this.#random() * (this.#o.holdMaxMs - this.#o.holdMinMs)
      await this.#session(alloc.nodeId, alloc.path, Date.now() + holdMs)
    }
  }

  /** Closes the current connection with 1000 and ends the loop. */
  stop(): void {
    this.#stopped = true
    this.#wake?.()
    const ws = this.#ws
    if (ws !== undefined && ws.readyState === WebSocket.OPEN) ws.close(1000, 'load done')
    else ws?.terminate()
  }

  /** One session: connect, and reconnect to the same node after a loss, until its time is up. */
  async #session(node: string, path: string, deadline: number): Promise<void> {
    let lost: Lost | undefined
    let attempts = 0
    while (!this.#stopped && Date.now() < deadline) {
      const out = await this.#connect(node, path, deadline, lost)
      if (out.kind === 'done' || out.kind === 'stopped') return
      if (out.kind === 'lost') {
        lost = { at: out.at, node }
        attempts = 0
        // A lost connection's first retry is at once (after a short jitter), as browsers' reconnect loops do.
        await this.#pause(reconnectDelayMs(1, this.#random))
        continue
      }
      // Refused: a node that is gone (404) or draining (503) will not take the session back.
      attempts++
      if (out.status === 404 || out.status === 503 || attempts >= this.#o.maxReconnectAttempts) {
        if (lost !== undefined) await this.#moveAfterLoss(lost)
        return
      }
      await this.#pause(reconnectDelayMs(attempts + 1, this.#random))
    }
  }

  /** After giving up on the old node: a new session elsewhere, whose open counts as the reconnect. */
  async #moveAfterLoss(lost: Lost): Promise<void> {
    for (let tries = 1; !this.#stopped; tries++) {
      const alloc = await this.#allocate()
      if (alloc !== undefined) {
        const holdMs = this.#o.holdMinMs + this.#random() * (this.#o.holdMaxMs - this.#o.holdMinMs)
        const out = await this.#connect(alloc.nodeId, alloc.path, Date.now() + holdMs, lost)
        if (out.kind !== 'refused') return
      }
      await this.#pause(reconnectDelayMs(Math.min(tries, 5), this.#random))
    }
  }

  async #allocate(): Promise<{ nodeId: string; path: string } | undefined> {
    const start = Date.now()
    const { client, emit, baseUrl, dispatcher } = this.#o
    try {
      const res = await request(`${baseUrl}/media/allocate`, { dispatcher, headersTimeout: 5000, bodyTimeout: 5000 })
      const text = await res.body.text()
      const parsed = res.statusCode === 200 ? parseAllocation(JSON.parse(text)) : undefined
      if (parsed === undefined) {
        emit({ t: Date.now(), kind: 'alloc-fail', client, status: res.statusCode, ms: Date.now() - start })
        return undefined
      }
      emit({ t: Date.now(), kind: 'alloc', client, node: parsed.nodeId, ms: Date.now() - start })
      return parsed
    } catch {
      emit({ t: Date.now(), kind: 'alloc-fail', client, status: 0, ms: Date.now() - start })
      return undefined
    }
  }

  /** One WebSocket connection, held until `deadline` unless it is lost or refused. */
  #connect(node: string, path: string, deadline: number, lost: Lost | undefined): Promise<Outcome> {
    const { client, emit, counters } = this.#o
    const url = `${this.#o.baseUrl.replace(/^http/, 'ws')}${path}?echo=1`
    const begin = Date.now()
    return new Promise((resolve) => {
      if (this.#stopped) return resolve({ kind: 'stopped' })
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10_000 })
      this.#ws = ws
      let opened = false
      let byClient = false
      let refusedStatus = 0
      let stalled = false
      let sendTimer: NodeJS.Timeout | undefined
      let holdTimer: NodeJS.Timeout | undefined
      let lastEcho = 0
      let seq = 0
      ws.on('open', () => {
        opened = true
        lastEcho = Date.now()
        const now = Date.now()
        emit({ t: now, kind: 'open', client, node, ms: now - begin, reconnect: lost !== undefined, gapMs: lost === undefined ? undefined : now - lost.at, sameNode: lost?.node === node })
        const interval = this.#o.msgRate > 0 ? Math.max(20, Math.round(1000 / this.#o.msgRate)) : 0
        if (interval > 0) {
          sendTimer = setInterval(() => {
            if (ws.readyState !== WebSocket.OPEN) return
            if (Date.now() - lastEcho > this.#o.stallMs) {
              stalled = true
              emit({ t: Date.now(), kind: 'stall', client, node })
              ws.terminate()
              return
            }
            seq++
            counters.sent++
            ws.send(`{"c":${client},"s":${seq}}`)
          }, interval)
        }
        holdTimer = setTimeout(() => {
          byClient = true
          ws.close(1000, 'session over')
          setTimeout(() => ws.terminate(), 2000).unref()
        }, Math.max(0, deadline - Date.now()))
      })
      ws.on('message', () => {
        lastEcho = Date.now()
        counters.echoed++
      })
      ws.on('unexpected-response', (_req, res) => {
        refusedStatus = res.statusCode ?? 0
        res.resume()
        ws.terminate()
      })
      ws.on('error', () => undefined)
      ws.on('close', (code: number) => {
        clearInterval(sendTimer)
        clearTimeout(holdTimer)
        this.#ws = undefined
        const now = Date.now()
        if (!opened) {
          emit({ t: now, kind: 'refused', client, node, status: refusedStatus, ms: now - begin })
          return resolve(this.#stopped ? { kind: 'stopped' } : { kind: 'refused', status: refusedStatus })
        }
        const mine = byClient || this.#stopped
        emit({ t: now, kind: 'close', client, node, code: stalled ? 4000 : code, byClient: mine })
        if (mine) return resolve(this.#stopped ? { kind: 'stopped' } : { kind: 'done' })
        resolve({ kind: 'lost', at: now, code })
      })
    })
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done(): void {
        clearTimeout(timer)
        self.#wake = undefined
        resolve()
      }
      this.#wake = done
    })
  }
}
