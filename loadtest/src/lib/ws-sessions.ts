// WebSocket session load with `ws` clients: N clients grouped into sessions,
// each sends messages at a fixed rate, measures the echo round trip (the media
// node echoes with ?echo=1), counts messages relayed from peers, holds the
// session for a set time and closes. Bounded: every client has a deadline.
// Same accounting as the k6 scripts (loadtest/k6/lib/session-core.js): nothing
// is sent in the last `echoGraceMs` of a hold, and at close a missing echo is
// "lost" only if its message is at least `echoGraceMs` old; younger ones are
// `unansweredAtClose` (a session cut by the far end), never judged.

import WebSocket from 'ws'
import { performance } from 'node:perf_hooks'
import { SampleBuffer, type LatencySummary } from './percentiles.js'

export interface WsSessionsOptions {
  /** WebSocket URL for client number `client` (0-based). */
  url: (client: number) => string
  clients: number
  /** Messages per second each client sends (0 = none). */
  msgRate: number
  /** How long each client holds its session after it opened, ms. */
  holdMs: number
  /** Handshakes in flight at once. */
  connectConcurrency?: number
  connectTimeoutMs?: number
  payloadBytes?: number
  /** Quiet time before the close and minimum age of a lost echo. Default min(1000, holdMs / 2). */
  echoGraceMs?: number
  /** Called when a client's session opened, with the client number. */
  onOpen?: (client: number) => void
  /** Aborting closes every client now (counted as client-closed, not early). */
  signal?: AbortSignal
}

/** Live counters, readable while the run is in progress. */
export interface WsSessionsStats {
  started: number
  opened: number
  failedToOpen: number
  /** Sessions the far end closed (or that errored) before their hold time. */
  closedEarly: number
  open: number
  sent: number
  echoed: number
  relayed: number
}

export interface WsSessionsResult extends WsSessionsStats {
  /** Sent messages whose echo never came back, sent at least echoGraceMs before their session closed. */
  lost: number
  /** Missing echoes of messages younger than echoGraceMs when their session closed (not judged). */
  unansweredAtClose: number
  /** Handshake time, ms. */
  connect: LatencySummary
  /** Echo round trip, ms. */
  rtt: LatencySummary
  /** Close codes seen on early closes, code → count. */
  earlyCloseCodes: Record<string, number>
  /** The first few error messages, for the report. */
  errorSamples: string[]
  /** Per-client: opened at (ms since start) and whether it was closed early. */
  clientsLog: { openedAtMs: number | null; closedEarly: boolean }[]
}

/** Builds /media/<node>/ws/<session>?echo=1 under a router base URL (http(s) or ws(s)). */
export function mediaSessionUrl(baseUrl: string, nodeId: string, sessionId: string): string {
  const u = new URL(baseUrl)
  u.protocol = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:'
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/media/${encodeURIComponent(nodeId)}/ws/${encodeURIComponent(sessionId)}`
  u.search = '?echo=1'
  return u.toString()
}

interface Envelope {
  from: number
  seq: number
  t: number
}

function parseEnvelope(data: WebSocket.RawData): Envelope | null {
  let value: unknown
  try {
    value = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8'))
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const from: unknown = Reflect.get(value, 'from')
  const seq: unknown = Reflect.get(value, 'seq')
  const t: unknown = Reflect.get(value, 't')
  if (typeof from !== 'number' || typeof seq !== 'number' || typeof t !== 'number') return null
  return { from, seq, t }
}

/** Runs the sessions; resolves when every client has finished. `stats` is live. */
export function runWsSessions(opts: WsSessionsOptions, stats: WsSessionsStats = newWsStats()): Promise<WsSessionsResult> {
  const concurrency = Math.max(1, opts.connectConcurrency ?? 100)
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000
  const pad = 'x'.repeat(Math.max(0, opts.payloadBytes ?? 64))
  const intervalMs = opts.msgRate > 0 ? Math.max(5, Math.round(1000 / opts.msgRate)) : 0
  const graceMs = Math.min(opts.echoGraceMs ?? 1000, opts.holdMs / 2)
  let lost = 0
  let unansweredAtClose = 0
  const connectSamples = new SampleBuffer(Math.max(16, opts.clients))
  const rttSamples = new SampleBuffer(64 * 1024)
  const earlyCloseCodes: Record<string, number> = {}
  const errorSamples: string[] = []
  const clientsLog: { openedAtMs: number | null; closedEarly: boolean }[] = []
  const t0 = performance.now()
  const closers = new Map<WebSocket, () => void>()
  let next = 0
  let finished = 0

  const noteError = (msg: string): void => {
    if (errorSamples.length < 5 && !errorSamples.includes(msg)) errorSamples.push(msg)
  }

  return new Promise((resolve) => {
    const done = (): void => {
      finished++
      if (finished === opts.clients) {
        opts.signal?.removeEventListener('abort', onAbort)
        resolve({
          ...stats,
          lost,
          unansweredAtClose,
          connect: connectSamples.summary(),
          rtt: rttSamples.summary(),
          earlyCloseCodes,
          errorSamples,
          clientsLog,
        })
      } else {
        launch()
      }
    }

    const startClient = (id: number): void => {
      stats.started++
      const log: { openedAtMs: number | null; closedEarly: boolean } = { openedAtMs: null, closedEarly: false }
      clientsLog[id] = log
      const begin = performance.now()
      const ws = new WebSocket(opts.url(id), { perMessageDeflate: false, handshakeTimeout: connectTimeoutMs })
      let opened = false
      let clientClosing = false
      let seq = 0
      let openedAt = 0
      /** seq → send time of messages whose echo has not come back. */
      const pending = new Map<number, number>()
      let sendTimer: NodeJS.Timeout | undefined
      let holdTimer: NodeJS.Timeout | undefined
      let finishedClient = false

      const finish = (): void => {
        if (finishedClient) return
        finishedClient = true
        if (sendTimer !== undefined) clearInterval(sendTimer)
        if (holdTimer !== undefined) clearTimeout(holdTimer)
        closers.delete(ws)
        if (opened) stats.open--
        const closedAt = performance.now()
        for (const sentAt of pending.values()) {
          if (closedAt - sentAt >= graceMs) lost++
          else unansweredAtClose++
        }
        pending.clear()
        done()
      }
      const closeNow = (): void => {
        clientClosing = true
        if (ws.readyState === WebSocket.OPEN) {
          ws.close(1000)
          // Bounded: if the close handshake does not finish, drop the socket.
          setTimeout(() => ws.terminate(), 2000).unref()
        } else {
          ws.terminate()
        }
      }
      closers.set(ws, closeNow)
      ws.on('open', () => {
        opened = true
        stats.opened++
        stats.open++
        openedAt = performance.now()
        log.openedAtMs = openedAt - t0
        connectSamples.push(performance.now() - begin)
        opts.onOpen?.(id)
        launch()
        if (intervalMs > 0) {
          sendTimer = setInterval(() => {
            if (ws.readyState !== WebSocket.OPEN || clientClosing) return
            const now = performance.now()
            // Quiet before the close: an echo needs time to come back.
            if (now - openedAt + graceMs > opts.holdMs) return
            seq++
            stats.sent++
            pending.set(seq, now)
            ws.send(JSON.stringify({ from: id, seq, t: now, pad }))
          }, intervalMs)
        }
        holdTimer = setTimeout(closeNow, opts.holdMs)
      })
      ws.on('message', (data) => {
        const env = parseEnvelope(data)
        if (env === null) return
        if (env.from === id) {
          if (!pending.delete(env.seq)) return
          stats.echoed++
          rttSamples.push(performance.now() - env.t)
        } else {
          stats.relayed++
        }
      })
      ws.on('unexpected-response', (_req, res) => {
        noteError(`upgrade refused: HTTP ${res.statusCode ?? '?'}`)
        res.resume()
        ws.terminate()
      })
      ws.on('error', (err) => {
        noteError(err.message)
      })
      ws.on('close', (code) => {
        if (!opened) {
          stats.failedToOpen++
          launch()
        } else if (!clientClosing) {
          stats.closedEarly++
          log.closedEarly = true
          earlyCloseCodes[String(code)] = (earlyCloseCodes[String(code)] ?? 0) + 1
        }
        finish()
      })
      // Hard deadline per client: connect + hold + slack.
      setTimeout(() => {
        if (!finishedClient) {
          clientClosing = clientClosing || opened
          ws.terminate()
        }
      }, connectTimeoutMs + opts.holdMs + 5000).unref()
    }

    let inFlight = 0
    const launch = (): void => {
      // Called when a handshake settles: frees a slot and starts the next clients.
      inFlight = Math.max(0, stats.started - stats.opened - stats.failedToOpen)
      while (next < opts.clients && inFlight < concurrency && !(opts.signal?.aborted ?? false)) {
        startClient(next++)
        inFlight++
      }
      if (opts.signal?.aborted === true && next < opts.clients) {
        // Never-started clients count as finished so the promise settles.
        const remaining = opts.clients - next
        next = opts.clients
        for (let i = 0; i < remaining; i++) done()
      }
    }
    const onAbort = (): void => {
      for (const closeNow of [...closers.values()]) closeNow()
      launch()
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    if (opts.clients <= 0) {
      resolve({ ...stats, lost: 0, unansweredAtClose: 0, connect: connectSamples.summary(), rtt: rttSamples.summary(), earlyCloseCodes, errorSamples, clientsLog })
      return
    }
    launch()
  })
}

export function newWsStats(): WsSessionsStats {
  return { started: 0, opened: 0, failedToOpen: 0, closedEarly: 0, open: 0, sent: 0, echoed: 0, relayed: 0 }
}
