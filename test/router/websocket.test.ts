// WebSockets end to end: ws clients → router (DNS discovery from the emulator)
// → real media nodes. Relay, 1 MB messages, close codes both ways, refusals on
// the raw socket, and upstream refusals passed through.
import t from 'tap'
import WebSocket from 'ws'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startCloudMap, type CloudMapFixture } from '../fixtures/cloudmap.js'
import { startRouter, eventually, type RouterFixture } from '../fixtures/router.js'
import { rawRequest } from '../fixtures/raw-http.js'
import { startMediaNode, type MediaNode } from '../../media-node/src/index.js'

let cm: CloudMapFixture
let rt: RouterFixture
let nodeA: MediaNode
let refusing: Server
const nodeLogs: Array<Record<string, unknown>> = []

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected ${res.statusCode}`)))
  })
}
function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })))
}
function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })))
}
const upgradeHead = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`

t.before(async () => {
  cm = await startCloudMap()
  nodeA = await startMediaNode({ nodeId: 'node-a', host: '127.0.0.1', port: 0, log: (e) => nodeLogs.push(e), heartbeatIntervalMs: 0 })
  refusing = createServer((_req, res) => res.end())
  refusing.on('upgrade', (_req, socket) => {
    socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 19\r\nRetry-After: 7\r\n\r\n{"error":"busy!!!"}')
  })
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', () => r()))
  const media = await cm.service('media')
  await cm.register(media, 'node-a', nodeA.port)
  await cm.register(media, 'node-busy', (refusing.address() as AddressInfo).port)
  rt = await startRouter({ DNS_SERVERS: cm.dnsServer, DNS_TIMEOUT_MS: '300', DNS_TRIES: '1' })
})
t.teardown(async () => {
  await rt.close()
  await nodeA.close()
  refusing.close()
  await cm.close()
})

t.test('two clients in one session relay text and binary; 1 MB intact', async (t) => {
  const url = `ws://127.0.0.1:${rt.router.port()}/media/node-a/ws/room-1`
  const a = await open(url)
  const b = await open(url)
  await eventually(() => nodeA.status().activeConnections === 2)
  const gotText = nextMessage(b)
  a.send('hello')
  const text = await gotText
  t.equal(text.data.toString(), 'hello')
  t.equal(text.isBinary, false)
  const gotBin = nextMessage(a)
  b.send(Buffer.from([1, 2, 3, 255]))
  const bin = await gotBin
  t.same([...bin.data], [1, 2, 3, 255])
  t.equal(bin.isBinary, true)
  const big = Buffer.alloc(1024 * 1024)
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 256
  const gotBig = nextMessage(b)
  a.send(big)
  const bigMsg = await gotBig
  t.equal(bigMsg.data.length, big.length)
  t.ok(bigMsg.data.equals(big), '1 MB message intact')
  a.close(1000)
  b.close(1000)
  await Promise.all([closed(a), closed(b)])
})

t.test('close codes propagate both ways', async (t) => {
  const url = `ws://127.0.0.1:${rt.router.port()}/media/node-a/ws/room-close`
  const a = await open(url)
  const before = nodeLogs.length
  a.close(1000, 'bye')
  t.equal((await closed(a)).code, 1000)
  await eventually(() => nodeLogs.slice(before).some((l) => l.closeCode === 1000))
  t.pass('node saw the client close with 1000')

  const b = await open(url)
  await eventually(() => nodeA.status().activeConnections >= 1)
  const c = closed(b)
  nodeA.closeAll(1001, 'going away')
  const got = await c
  t.equal(got.code, 1001, 'client saw the node close with 1001')
})

t.test('refusals are real HTTP responses on the raw socket', async (t) => {
  const port = rt.router.port()
  const before = cm.emulator.stats.dnsQueries()
  const invalid = await rawRequest(port, upgradeHead('/media/Bad.Node/ws/x'))
  t.equal(invalid.status, 400)
  t.ok(invalid.closed, 'socket closed')
  t.match(JSON.parse(invalid.body), { code: 'INVALID_TARGET' })
  t.equal(cm.emulator.stats.dnsQueries(), before, 'no DNS query for an invalid node id')

  const unknown = await rawRequest(port, upgradeHead('/media/no-such-node/ws/x'))
  t.equal(unknown.status, 404)
  t.ok(unknown.closed)
  t.match(JSON.parse(unknown.body), { code: 'TARGET_NOT_FOUND' })
  t.match(unknown.head, /content-type: application\/json/i)

  const noRoute = await rawRequest(port, upgradeHead('/elsewhere'))
  t.equal(noRoute.status, 404)
  t.match(JSON.parse(noRoute.body), { code: 'NO_ROUTE' })

  const h2c = await rawRequest(port, 'GET /media/node-a/x HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n')
  t.equal(h2c.status, 400)
  t.match(JSON.parse(h2c.body), { code: 'UNSUPPORTED_UPGRADE' })
})

t.test('upstream answers the upgrade with 503 → client gets 503, both sockets closed', async (t) => {
  let upstreamClosed = false
  refusing.once('upgrade', (_req, socket) => socket.once('close', () => (upstreamClosed = true)))
  const r = await rawRequest(rt.router.port(), upgradeHead('/media/node-busy/ws/x'))
  t.equal(r.status, 503)
  t.match(r.head, /retry-after: 7/i)
  t.equal(r.body, '{"error":"busy!!!"}', 'body passed through')
  t.ok(r.closed, 'client socket closed')
  await eventually(() => upstreamClosed)
  t.pass('upstream socket closed')
})

t.test('upgrade to a refused upstream → 502 JSON', async (t) => {
  const media = await cm.service('media')
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  await cm.register(media, 'node-dead', port)
  const r = await rawRequest(rt.router.port(), upgradeHead('/media/node-dead/ws/x'))
  t.equal(r.status, 502)
  t.match(JSON.parse(r.body), { code: 'UPSTREAM_ERROR' })
})

t.test('websocket metrics by route template', async (t) => {
  const a = await open(`ws://127.0.0.1:${rt.router.port()}/media/node-a/ws/m`)
  const text = await (await fetch(`${rt.adminUrl}/metrics`)).text()
  t.match(text, /router_websockets_active\{route="media"\} 1/)
  t.match(text, /router_websockets_opened_total\{route="media"\} \d+/)
  a.close()
  await closed(a)
  await eventually(async () => /router_websockets_active\{route="media"\} 0/.test(await (await fetch(`${rt.adminUrl}/metrics`)).text()))
  const after = await (await fetch(`${rt.adminUrl}/metrics`)).text()
  t.match(after, /router_websockets_closed_total\{route="media",reason="client"\} [1-9]/)
  t.match(after, /router_websocket_bytes_total\{route="media",direction="upstream"\} [1-9]/)
  t.notMatch(after, /node-a/, 'no node ids in labels')
})
