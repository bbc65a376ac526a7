// Shared test helpers: start a node on 127.0.0.1:0 with captured logs, open
// real `ws` clients, poll for conditions, speak raw HTTP on a socket, and
// find a free port.

import { connect as netConnect, createServer as createNetServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { WebSocket } from 'ws'
import type { ClientOptions, RawData } from 'ws'
import { startMediaNode } from '../../media-node/src/index.js'
import type { MediaNode, MediaNodeOptions } from '../../media-node/src/index.js'

/** The subset of a tap Test the helpers use. */
export interface Teardown {
  teardown(fn: () => unknown): void
}

export interface TestNode {
  node: MediaNode
  logs: Record<string, unknown>[]
  url(path: string): string
}

/** Starts a node on 127.0.0.1:0 that records its log events; closed in teardown. */
export async function startTestNode(t: Teardown, options: Partial<MediaNodeOptions> = {}): Promise<TestNode> {
  const logs: Record<string, unknown>[] = []
  const node = await startMediaNode({
    nodeId: 'node-a',
    host: '127.0.0.1',
    port: 0,
    heartbeatIntervalMs: 0,
    ...options,
    log: (e) => logs.push(e),
  })
  t.teardown(() => node.close())
  return { node, logs, url: (path) => `ws://127.0.0.1:${node.port}${path}` }
}

/** Opens a WebSocket and waits for 'open'; terminated in teardown. */
export async function openClient(t: Teardown, url: string, options: ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, options)
  t.teardown(() => ws.terminate())
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)))
  })
  return ws
}

export interface Message {
  data: Buffer
  isBinary: boolean
}

/** Collects every message a client receives. */
export function collect(ws: WebSocket): Message[] {
  const messages: Message[] = []
  ws.on('message', (data: RawData, isBinary: boolean) => messages.push({ data: toBuffer(data), isBinary }))
  return messages
}

/** Resolves with the close code and reason a client sees. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve({ code: -1, reason: 'already closed' })
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
}

/** Polls `condition` every 10 ms until it holds; rejects after `timeoutMs` (default 20 s). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Sends `request` on a raw TCP socket and resolves with everything read until the server closes it. */
export function rawExchange(port: number, request: string, timeoutMs = 20_000): Promise<{ response: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`server did not close the socket; read so far: ${Buffer.concat(chunks).toString()}`))
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    socket.on('end', () => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ response: Buffer.concat(chunks).toString(), closedByServer: true })
    })
    socket.write(request)
  })
}

/** A raw upgrade request for `path`. */
export function upgradeRequest(path: string, extraHeaders: Record<string, string> = {}): string {
  const headers: Record<string, string> = {
    Host: 'media.test',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...extraHeaders,
  }
  return `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`
}

/** Splits a raw HTTP response into status line, lower-cased headers and body. */
export function parseResponse(raw: string): { statusLine: string; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n')
  const head = end === -1 ? raw : raw.slice(0, end)
  const body = end === -1 ? '' : raw.slice(end + 4)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { statusLine, headers, body }
}

/** GET `path` on the node; returns status, headers and parsed JSON body. */
export async function getJson(port: number, path: string): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, headers: res.headers, body: await res.json() }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound and released). */
export async function freePort(): Promise<number> {
  const server = createNetServer()
  server.listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  const { port } = server.address() as AddressInfo
  await new Promise((r) => server.close(r))
  return port
}
