// The steady load of the tier, run from the client host for the whole run:
// HTTP at a fixed total rate over both deployments (the load runner's
// autocannon client, one instance per deployment so each has its own
// latency), and a fleet of media clients (session-client.ts). Every HTTP
// answer and every session event is kept with its time, so each scenario
// reads its own window afterwards (verdicts.ts).

import { Agent } from 'undici'
import { runHttpLoad, type HttpLoadResult } from '../lib/http-load.js'
import { SessionClient, type WsEvent } from './session-client.js'

/** One HTTP answer: `status` 0 is a transport error or a timeout. */
export interface HttpEvent {
  t: number
  dep: string
  status: number
  ms: number
}

export interface LoadOptions {
  readonly baseUrl: string
  readonly deployments: readonly string[]
  readonly httpRps: number
  /** autocannon connections per deployment. */
  readonly httpConnections: number
  readonly wsSessions: number
  readonly wsMsgRate: number
  readonly holdMinMs: number
  readonly holdMaxMs: number
  /** The fleet's sessions start evenly over this time. */
  readonly rampMs: number
}

export class TierLoad {
  readonly http: HttpEvent[] = []
  readonly ws: WsEvent[] = []
  readonly counters = { sent: 0, echoed: 0 }
  readonly #o: LoadOptions
  readonly #abort = new AbortController()
  readonly #clients: SessionClient[] = []
  readonly #running: Promise<unknown>[] = []
  readonly #dispatcher = new Agent({ connections: 64, keepAliveTimeout: 30_000 })
  readonly #httpErrors = new Map<string, number>()

  constructor(o: LoadOptions) {
    this.#o = o
  }

  start(): void {
    const { baseUrl, deployments, httpRps, httpConnections } = this.#o
    for (const dep of deployments) {
      const rate = Math.max(1, Math.round(httpRps / deployments.length))
      this.#running.push(
        runHttpLoad({
          url: `${baseUrl}/services/${dep}/load`,
          connections: httpConnections,
          overallRate: rate,
          durationMs: 3_600_000,
          timeoutS: 15,
          signal: this.#abort.signal,
          onStatus: (status, ms) => this.http.push({ t: Date.now(), dep, status, ms }),
          onError: (message) => {
            this.http.push({ t: Date.now(), dep, status: 0, ms: Number.NaN })
            this.#httpErrors.set(message, (this.#httpErrors.get(message) ?? 0) + 1)
          },
        }),
      )
    }
    const gap = this.#o.wsSessions > 0 ? this.#o.rampMs / this.#o.wsSessions : 0
    for (let i = 0; i < this.#o.wsSessions; i++) {
      const c = new SessionClient({
        baseUrl,
        client: i,
        msgRate: this.#o.wsMsgRate,
        holdMinMs: this.#o.holdMinMs,
        holdMaxMs: this.#o.holdMaxMs,
        stallMs: 5_000,
        maxReconnectAttempts: 5,
        dispatcher: this.#dispatcher,
        emit: (e) => this.ws.push(e),
        counters: this.counters,
      })
      this.#clients.push(c)
      this.#running.push(new Promise((r) => setTimeout(r, i * gap)).then(() => (this.#abort.signal.aborted ? undefined : c.run())))
    }
  }

  /** Sessions open now, per node (from the event stream). */
  openByNode(): Map<string, number> {
    const open = new Map<number, string>()
    for (const e of this.ws) {
      if (e.kind === 'open') open.set(e.client, e.node)
      else if (e.kind === 'close') open.delete(e.client)
    }
    const out = new Map<string, number>()
    for (const node of open.values()) out.set(node, (out.get(node) ?? 0) + 1)
    return out
  }

  /** Transport error messages seen, message → count. */
  httpErrorMessages(): Record<string, number> {
    return Object.fromEntries(this.#httpErrors)
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    for (const c of this.#clients) c.stop()
    const results = await Promise.allSettled(this.#running)
    for (const r of results) if (r.status === 'rejected') process.stderr.write(`tier load: ${String(r.reason)}\n`)
    await this.#dispatcher.close()
  }
}

export type { HttpLoadResult }
