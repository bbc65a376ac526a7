// WebSocket load generator (child process): opens COUNT connections to
// TARGET_URL (CONCURRENCY handshakes in flight), reports how many opened, then
// on command opens more (reported the same way) or runs paced echo rounds
// (one message per connection per round; warm-up rounds first, not reported),
// reports round trips and how many connections are still held, and closes.
// Echo messages are paced at ECHO_RATE messages/s (this process's share), so
// the round trip measures the proxy path rather than a burst queue.

import WebSocket from 'ws'
import { performance } from 'node:perf_hooks'
import { asWsCommand, exitWithParent, requireEnv, requireIntEnv, sendToParent } from './protocol.js'

exitWithParent()
const url = requireEnv('TARGET_URL')
const count = requireIntEnv('COUNT')
const concurrency = requireIntEnv('CONCURRENCY')
const CONNECT_DEADLINE_MS = 60_000
const echoRate = Number(process.env['ECHO_RATE'] ?? '1500')
const TICK_MS = 10
const perTick = Math.max(1, Math.round((Number.isFinite(echoRate) && echoRate > 0 ? echoRate : 1500) * (TICK_MS / 1000)))

const sockets: WebSocket[] = []
const errors: string[] = []
let failed = 0
const pending = new Map<number, number>() // message id → sent at
const rtts: number[] = []
let nextId = 0

function noteError(msg: string): void {
  if (errors.length < 5 && !errors.includes(msg)) errors.push(msg)
}

function onMessage(data: WebSocket.RawData): void {
  const text = Buffer.isBuffer(data) ? data.toString('latin1') : ''
  const id = Number(text.slice(0, text.indexOf(':')))
  const sent = pending.get(id)
  if (sent !== undefined) {
    rtts.push(performance.now() - sent)
    pending.delete(id)
  }
}

/** Open `count` more connections; resolves when each has opened or failed (or the deadline passed). */
async function openMore(count: number): Promise<{ opened: number; failed: number }> {
  const socketsBefore = sockets.length
  const failedBefore = failed
  let started = 0
  let settled = 0
  const deadline = Date.now() + CONNECT_DEADLINE_MS
  await new Promise<void>((resolve) => {
    const startNext = (): void => {
      while (started < count && started - settled < concurrency && Date.now() < deadline) {
        started++
        const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 15_000 })
        let done = false
        const settle = (ok: boolean): void => {
          if (done) return
          done = true
          settled++
          if (ok) sockets.push(ws)
          else failed++
          if (settled === started && (started === count || Date.now() >= deadline)) resolve()
          else startNext()
        }
        ws.on('open', () => settle(true))
        ws.on('message', onMessage)
        ws.on('unexpected-response', (_req, res) => {
          noteError(`HTTP ${res.statusCode ?? '?'}`)
          res.resume()
          ws.terminate()
        })
        ws.on('error', (err) => {
          noteError(err.message)
          settle(false)
        })
        ws.on('close', () => settle(false))
      }
      if (started === settled && (started === count || Date.now() >= deadline)) resolve()
    }
    startNext()
  })
  failed += count - (sockets.length - socketsBefore + (failed - failedBefore))
  return { opened: sockets.length - socketsBefore, failed: failed - failedBefore }
}

/** One round: every open connection sends one message, paced at ECHO_RATE per second. */
async function echoRound(): Promise<void> {
  const open = sockets.filter((s) => s.readyState === WebSocket.OPEN)
  for (let i = 0; i < open.length; i += perTick) {
    for (const ws of open.slice(i, i + perTick)) {
      const id = nextId++
      pending.set(id, performance.now())
      ws.send(`${id}:echo-payload-0123456789abcdef0123456789abcdef`)
    }
    await new Promise((r) => setTimeout(r, TICK_MS))
  }
  // Wait for the echoes, bounded.
  const until = Date.now() + 10_000
  while (pending.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
}

process.on('message', (m: unknown) => {
  const cmd = asWsCommand(m)
  if (cmd === undefined) return
  if (cmd.cmd === 'open') {
    void openMore(cmd.count).then((r) => sendToParent({ type: 'ws-opened', ...r, errors }))
  } else if (cmd.cmd === 'echo') {
    void (async () => {
      for (let r = 0; r < cmd.warmupRounds; r++) await echoRound()
      rtts.length = 0
      for (let r = 0; r < cmd.rounds; r++) await echoRound()
      await new Promise((r) => setTimeout(r, cmd.holdMs))
      const lost = pending.size
      pending.clear()
      const held = sockets.filter((s) => s.readyState === WebSocket.OPEN).length
      await sendToParent({ type: 'ws-echo', rtts, lost, held })
    })()
  } else {
    for (const s of sockets) s.terminate()
    setTimeout(() => process.exit(0), 50)
  }
})

const first = await openMore(count)
await sendToParent({ type: 'ws-opened', ...first, errors })
