// Child process: a WebSocket load generator. On `open` it opens its share of
// proxied WebSockets (/media/<node>/ws/<session>?echo=1) with a bounded number
// of handshakes in flight, spreading over media nodes and loopback source
// addresses (each source address has its own ephemeral port range); on `echo`
// every open socket sends one message (paced at a given rate) and waits for it
// to come back; on `close` it closes every socket with 1000 (paced too) and
// waits for the close handshakes.
// Every failure is counted by reason. Exits when the orchestrator goes away.

import WebSocket from 'ws'
import { performance } from 'node:perf_hooks'
import { fdLimit } from './procfs.js'
import { asToGenerator, sendToParent, type OpenCommand } from './messages.js'

process.on('disconnect', () => process.exit(0))

const sockets: WebSocket[] = []
let droppedEarly = 0
let closing = false

/** Short, stable reason for a failed connection (error code, HTTP status, or message). */
function reasonOf(err: Error & { code?: unknown }): string {
  return typeof err.code === 'string' ? err.code : err.message.slice(0, 80)
}

async function openAll(c: OpenCommand): Promise<void> {
  const started = performance.now()
  const deadline = Date.now() + c.deadlineMs
  const reasons: Record<string, number> = {}
  const fail = (reason: string): void => {
    reasons[reason] = (reasons[reason] ?? 0) + 1
  }
  let next = 0
  let settled = 0
  let failed = 0
  await new Promise<void>((resolve) => {
    const startMore = (): void => {
      while (next < c.count && next - settled < c.concurrency && Date.now() < deadline) {
        const g = c.offset + next++
        const node = c.nodeIds[g % c.nodeIds.length]
        const localAddress = c.localAddresses.length > 0 ? c.localAddresses[g % c.localAddresses.length] : undefined
        const ws = new WebSocket(`${c.baseUrl}/media/${node}/ws/s${g}?echo=1`, {
          perMessageDeflate: false,
          handshakeTimeout: c.handshakeTimeoutMs,
          ...(localAddress !== undefined ? { localAddress } : {}),
        })
        let done = false
        const settle = (reason: string | undefined): void => {
          if (done) return
          done = true
          settled++
          if (reason === undefined) sockets.push(ws)
          else {
            failed++
            fail(reason)
          }
          if (settled === next && (next === c.count || Date.now() >= deadline)) resolve()
          else startMore()
        }
        ws.on('open', () => {
          settle(undefined)
          ws.once('close', () => {
            if (!closing) droppedEarly++
          })
        })
        ws.on('unexpected-response', (_req, res) => {
          settle(`HTTP ${res.statusCode ?? '?'}`)
          res.resume()
          ws.terminate()
        })
        ws.on('error', (err) => settle(reasonOf(err)))
        ws.on('close', () => settle('closed before open'))
      }
      if (settled === next && (next === c.count || Date.now() >= deadline)) resolve()
    }
    startMore()
  })
  if (next < c.count) {
    failed += c.count - next
    fail('not started before the open deadline')
  }
  await sendToParent({ type: 'gen-opened', opened: sockets.length, failed, reasons, openMs: performance.now() - started })
}

const TICK_MS = 10

/**
 * Calls `each` for every item, `ratePerS` per second in 10 ms ticks (0: as
 * fast as possible, yielding to the event loop every 500 items).
 */
async function paced<T>(items: readonly T[], ratePerS: number, each: (item: T) => void): Promise<void> {
  const perTick = ratePerS > 0 ? Math.max(1, Math.round((ratePerS * TICK_MS) / 1000)) : 500
  const started = performance.now()
  for (let i = 0; i < items.length; i += perTick) {
    for (const item of items.slice(i, i + perTick)) each(item)
    if (ratePerS > 0) {
      // Schedule against the start, so a slow tick does not slow the whole run.
      const due = started + ((i + perTick) / perTick) * TICK_MS
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())))
    } else {
      await new Promise((r) => setImmediate(r))
    }
  }
}

/** Every open socket sends one message; resolves with the round trips once all came back or `timeoutMs` passed. */
async function echoAll(ratePerS: number, timeoutMs: number): Promise<void> {
  const rtts: number[] = []
  const open = sockets.filter((s) => s.readyState === WebSocket.OPEN)
  let waiting = 0
  let allBack: () => void = () => undefined
  const back = new Promise<void>((resolve) => (allBack = resolve))
  let sending = true
  await paced(open, ratePerS, (ws) => {
    const sentAt = performance.now()
    waiting++
    ws.once('message', () => {
      rtts.push(performance.now() - sentAt)
      if (--waiting === 0 && !sending) allBack()
    })
    ws.send('echo 0123456789abcdef')
  })
  sending = false
  if (waiting > 0) {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([back, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))])
    clearTimeout(timer)
  }
  await sendToParent({ type: 'gen-echoed', rtts, lost: waiting })
}

/** Closes every socket with 1000; terminates the ones whose close handshake did not finish in `timeoutMs`. */
async function closeAll(ratePerS: number, timeoutMs: number): Promise<void> {
  closing = true
  const open = sockets.filter((s) => s.readyState === WebSocket.OPEN)
  let left = 0
  let closedClean = 0
  let allClosed: () => void = () => undefined
  const closed = new Promise<void>((resolve) => (allClosed = resolve))
  let closingAll = true
  await paced(open, ratePerS, (ws) => {
    left++
    ws.once('close', (code: number) => {
      if (code === 1000) closedClean++
      if (--left === 0 && !closingAll) allClosed()
    })
    ws.close(1000, 'scale test done')
  })
  closingAll = false
  if (left > 0) {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))])
    clearTimeout(timer)
  }
  const forced = left
  for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate()
  await sendToParent({ type: 'gen-closed', openAtClose: open.length, closedClean, forced, droppedEarly })
}

process.on('message', (m: unknown) => {
  const cmd = asToGenerator(m)
  if (cmd === undefined) {
    process.stderr.write(`ignored malformed command: ${JSON.stringify(m).slice(0, 200)}\n`)
    return
  }
  const run = cmd.cmd === 'open' ? openAll(cmd) : cmd.cmd === 'echo' ? echoAll(cmd.ratePerS, cmd.timeoutMs) : closeAll(cmd.ratePerS, cmd.timeoutMs)
  run.catch((err: unknown) => {
    process.stderr.write(`${cmd.cmd} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exit(1)
  })
})

await sendToParent({ type: 'gen-ready', fdLimit: fdLimit('self') })
