// Real clients for the running containers: HTTP with Node's fetch, WebSockets
// with `ws`, a free port on 127.0.0.1, and a real upstream that answers with
// what it received.
import { once } from 'node:events'
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

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export async function freePort(): Promise<number> {
  const srv = createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address() as AddressInfo
  srv.close()
  await once(srv, 'close')
  return port
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
