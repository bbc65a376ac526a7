// Real clients for the running containers: HTTP with Node's fetch, WebSockets
// with `ws`, free ports for containers on the host network, and a real
// upstream that answers with what it received.
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import WebSocket from 'ws'

/** Status and body of one GET. */
export async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  return { status: res.status, body: await res.text() }
}

/** Poll `url` until it answers `status`; `alive()` false (the container stopped) or the deadline ends the wait. */
export async function waitForStatus(url: string, status: number, alive: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    try {
      const r = await get(url)
      if (r.status === status) return
      last = `status ${r.status}`
    } catch (err) {
      last = err instanceof Error ? err.message : String(err)
    }
    if (!(await alive())) throw new Error(`${url}: the container stopped before it answered ${status} (last: ${last})`)
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`)
}

/** An open WebSocket, or the reason the handshake failed. */
export async function openWebSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { handshakeTimeout: 5000 })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`${url}: HTTP ${res.statusCode} instead of 101`)))
  })
  return ws
}

/** Send `text` and resolve with the next message received. */
export async function echo(ws: WebSocket, text: string): Promise<string> {
  const reply = once(ws, 'message', { signal: AbortSignal.timeout(5000) })
  ws.send(text)
  const [data] = (await reply) as [WebSocket.RawData]
  return Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.isBuffer(data) ? data.toString() : Buffer.from(data).toString()
}

/** The kernel's range for ephemeral ports (what `listen(0)` and outgoing connections get). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    if (low !== undefined && high !== undefined && low > 0) return [low, high]
  } catch {
    // not Linux: the common default
  }
  return [32768, 60999]
}

/** Whether `port` can be listened on at 0.0.0.0 right now. */
async function canListen(port: number): Promise<boolean> {
  const srv = createServer()
  const ok = await new Promise<boolean>((resolve) => {
    srv.once('error', () => resolve(false))
    srv.listen(port, '0.0.0.0', () => resolve(true))
  })
  if (ok) {
    srv.close()
    await once(srv, 'close')
  }
  return ok
}

/**
 * A free TCP port below the ephemeral range, for a container on the host
 * network. Ports from `listen(0)` would race every other process on the
 * machine between our check and the container's bind; these do not.
 */
export async function freePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  const [low] = ephemeralRange()
  const from = Math.max(1024, low - 12_000)
  for (let i = 0; i < 200; i++) {
    const port = from + Math.floor(Math.random() * (low - from))
    if (!taken.has(port) && (await canListen(port))) return port
  }
  throw new Error(`no free port in ${from}..${low - 1}`)
}

/** What the upstream saw of one request. */
export interface SeenRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

/** A real HTTP upstream on 127.0.0.1: answers 200 with the request it saw, as JSON. */
export async function startEchoUpstream(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(seen))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as AddressInfo).port }
}
