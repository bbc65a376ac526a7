// Trace context and the access log with real sockets: a real upstream records
// the traceparent/tracestate/X-Amzn-Trace-Id it received (HTTP and WebSocket
// upgrades, through the `ws` library); the router's own error responses carry
// `traceresponse`; every access-log field is checked against what the test's
// own sockets sent and received (byte counts exact, per request on a
// keep-alive connection), one line per request and per WebSocket.
import t from 'tap'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { request } from 'undici'
import WebSocket, { WebSocketServer } from 'ws'
import { startRouter, eventually, type RouterFixture } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { converse, requestText } from '../fixtures/raw-client.js'
import { rawRequest } from '../fixtures/raw-http.js'
import { parseTraceparent } from '../../router/src/proxy/trace-context.js'

const TID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PID = '00f067aa0ba902b7'
const VALID = `00-${TID}-${PID}-01`
const AMZN = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'
const UA = 'trace-test/1.0 (a "quoted" agent\\)'
const TP = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

interface Seen {
  readonly url: string
  readonly headers: IncomingHttpHeaders
}

let upstream: Server
let wsHttp: Server
let wss: WebSocketServer
let rt: RouterFixture
const seen: Seen[] = []
/** Per upstream WebSocket: bytes it read and wrote after its 101, at close. */
const wsEnds: Array<{ url: string; read: number; written: number }> = []

async function listen(s: Server | ReturnType<typeof createNetServer>): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  return (s.address() as AddressInfo).port
}

async function closedPort(): Promise<number> {
  const s = createNetServer()
  const port = await listen(s)
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

function accessLines(pred: (l: Record<string, unknown>) => boolean): Array<Record<string, unknown>> {
  return rt.logs.filter((l) => l['msg'] === 'access' && pred(l))
}

t.before(async () => {
  upstream = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers })
    req.resume()
    req.on('end', () => {
      const body = 'hello from upstream'
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
      res.end(body)
    })
  })
  const httpPort = await listen(upstream)
  wsHttp = createServer()
  wss = new WebSocketServer({ server: wsHttp })
  wss.on('connection', (ws, req) => {
    seen.push({ url: req.url ?? '', headers: req.headers })
    const socket = req.socket
    const read0 = socket.bytesRead
    const written0 = socket.bytesWritten
    ws.on('message', (data: Buffer) => {
      if (data.toString() === 'close-me') ws.close(4000, 'upstream says bye')
      else ws.send(data)
    })
    socket.on('close', () => wsEnds.push({ url: req.url ?? '', read: socket.bytesRead - read0, written: socket.bytesWritten - written0 }))
  })
  const wsPort = await listen(wsHttp)
  const dead = await closedPort()
  const file = staticDiscoveryFile({
    app: [{ id: 'app-1', port: httpPort }],
    // One instance refuses connections: a request that lands there first is retried on the other.
    flaky: [
      { id: 'flaky-dead', port: dead },
      { id: 'flaky-ok', port: httpPort },
    ],
    gone: [{ id: 'gone-1', port: dead }],
    media: [{ id: 'n1', port: wsPort }],
  })
  rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, EJECT_AFTER_FAILURES: '0', SERVICES_BALANCER: 'round-robin' })
})

t.teardown(async () => {
  await rt.close()
  upstream.close()
  for (const c of wss.clients) c.terminate()
  wss.close()
  wsHttp.close()
})

t.test('a valid traceparent: same trace id upstream, the router as the new parent, tracestate and X-Amzn-Trace-Id forwarded', async (t) => {
  const res = await request(`${rt.url}/services/app/valid`, { headers: { traceparent: VALID, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7', 'x-amzn-trace-id': AMZN, 'user-agent': UA } })
  t.equal(await res.body.text(), 'hello from upstream')
  t.notOk('traceresponse' in res.headers, 'proxied responses are the upstream\'s own')
  const got = seen.find((s) => s.url === '/valid')
  const m = TP.exec(String(got?.headers.traceparent))
  t.ok(m, `upstream got a well-formed traceparent (${String(got?.headers.traceparent)})`)
  t.equal(m?.[1], TID, 'same trace id')
  t.not(m?.[2], PID, 'new parent id: the router\'s span')
  t.equal(m?.[3], '01', 'flags kept')
  t.equal(got?.headers.tracestate, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7', 'tracestate unchanged')
  t.equal(got?.headers['x-amzn-trace-id'], AMZN, 'X-Amzn-Trace-Id unchanged')
  await eventually(() => accessLines((l) => l['path'] === '/services/app/valid').length === 1)
  const line = accessLines((l) => l['path'] === '/services/app/valid')[0]
  t.match(line, { traceId: TID, spanId: m?.[2], parentId: PID, amznTraceId: AMZN, userAgent: UA, method: 'GET', route: 'services', status: 200, attempts: 1, retries: 0, instance: 'app-1' })
})

t.test('absent or invalid traceparent: a fresh valid one upstream, tracestate dropped', async (t) => {
  const cases: Array<[string, Record<string, string>]> = [
    ['absent', { tracestate: 'congo=t61rcWkgMzE' }],
    ['upper-case hex', { traceparent: VALID.toUpperCase(), tracestate: 'congo=t61rcWkgMzE' }],
    ['all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-${PID}-01`, tracestate: 'congo=t61rcWkgMzE' }],
    ['version ff', { traceparent: `ff-${TID}-${PID}-01`, tracestate: 'congo=t61rcWkgMzE' }],
  ]
  for (const [name, headers] of cases) {
    const path = `/fresh-${cases.findIndex((c) => c[0] === name)}`
    const res = await request(`${rt.url}/services/app${path}`, { headers })
    await res.body.text()
    const got = seen.find((s) => s.url === path)
    const tp = String(got?.headers.traceparent)
    t.ok(parseTraceparent(tp), `${name}: upstream got a valid traceparent (${tp})`)
    t.not(TP.exec(tp)?.[1], TID, `${name}: a new trace id`)
    t.equal(TP.exec(tp)?.[3], '01', `${name}: a new trace is sampled`)
    t.notOk('tracestate' in (got?.headers ?? {}), `${name}: tracestate dropped`)
    await eventually(() => accessLines((l) => l['path'] === `/services/app${path}`).length === 1)
    const line = accessLines((l) => l['path'] === `/services/app${path}`)[0]
    t.equal(line?.['traceId'], TP.exec(tp)?.[1], `${name}: the log has the new trace id`)
    t.notOk('parentId' in (line ?? {}), `${name}: no parent`)
  }
  // An invalid tracestate with a valid traceparent: the trace continues, tracestate goes.
  const res = await request(`${rt.url}/services/app/bad-state`, { headers: { traceparent: VALID, tracestate: 'a=1,a=2' } })
  await res.body.text()
  const got = seen.find((s) => s.url === '/bad-state')
  t.equal(TP.exec(String(got?.headers.traceparent))?.[1], TID)
  t.notOk('tracestate' in (got?.headers ?? {}), 'duplicate keys: tracestate dropped')
})

t.test('the router\'s own error responses carry traceresponse with the trace id of the log line', async (t) => {
  const noRoute = await request(`${rt.url}/nowhere`, { headers: { traceparent: VALID } })
  t.equal(noRoute.statusCode, 404)
  t.match(await noRoute.body.json(), { code: 'NO_ROUTE' })
  const tr = String(noRoute.headers['traceresponse'])
  t.equal(TP.exec(tr)?.[1], TID, `404 traceresponse continues the trace (${tr})`)
  await eventually(() => accessLines((l) => l['path'] === '/nowhere').length === 1)
  t.match(accessLines((l) => l['path'] === '/nowhere')[0], { traceId: TID, spanId: TP.exec(tr)?.[2], status: 404, error: 'NO_ROUTE' })

  const refused = await request(`${rt.url}/services/gone/x`)
  t.equal(refused.statusCode, 502)
  await refused.body.text()
  const tr502 = String(refused.headers['traceresponse'])
  t.ok(parseTraceparent(tr502), `502 traceresponse is a valid trace context (${tr502})`)
  await eventually(() => accessLines((l) => l['path'] === '/services/gone/x').length === 1)
  t.equal(accessLines((l) => l['path'] === '/services/gone/x')[0]?.['traceId'], TP.exec(tr502)?.[1])

  // A refused upgrade: the raw HTTP response on the socket carries it too.
  const ws404 = await rawRequest(rt.router.port(), `GET /media/nope/ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\ntraceparent: ${VALID}\r\n\r\n`)
  t.equal(ws404.status, 404)
  t.match(ws404.head, new RegExp(`\\r\\ntraceresponse: 00-${TID}-[0-9a-f]{16}-01(\\r\\n|$)`))
  await eventually(() => accessLines((l) => l['path'] === '/media/nope/ws').length === 1)
  t.match(accessLines((l) => l['path'] === '/media/nope/ws')[0], { kind: 'websocket', traceId: TID, status: 404, error: 'TARGET_NOT_FOUND' })
})

t.test('bytes in and out per request, exact, on one keep-alive connection', async (t) => {
  const body = 'x'.repeat(1000)
  const first = requestText('/services/app/bytes-1', 'GET', `User-Agent: ${UA}\r\nX-Amzn-Trace-Id: ${AMZN}\r\n`)
  const second = { method: 'POST', text: `POST /services/app/bytes-2 HTTP/1.1\r\nHost: test\r\nContent-Length: ${body.length}\r\n\r\n${body}` }
  const alone = await converse(rt.router.port(), [first])
  await eventually(() => accessLines((l) => l['path'] === '/services/app/bytes-1').length === 1)
  const a = accessLines((l) => l['path'] === '/services/app/bytes-1')[0]
  t.equal(a?.['bytesIn'], Buffer.byteLength(first.text), 'request bytes: the head as sent')
  t.equal(a?.['bytesOut'], alone.bytes.length, 'response bytes: everything the client received')
  t.match(a, { userAgent: UA, amznTraceId: AMZN, client: '127.0.0.1', upstream: /^127\.0\.0\.1:\d+$/ })
  t.ok(typeof a?.['upstreamTtfbMs'] === 'number' && typeof a['durationMs'] === 'number' && a['upstreamTtfbMs'] >= 0 && a['upstreamTtfbMs'] <= a['durationMs'], 'upstream time to first byte within the total time')

  const both = await converse(rt.router.port(), [first, second])
  t.equal(both.parsed.messages.length, 2)
  await eventually(() => accessLines((l) => l['path'] === '/services/app/bytes-2').length === 1)
  const lines = accessLines((l) => l['path'] === '/services/app/bytes-1')
  t.equal(lines.length, 2, 'one line per request')
  const b1 = lines[1]
  const b2 = accessLines((l) => l['path'] === '/services/app/bytes-2')[0]
  t.equal(b1?.['bytesIn'], Buffer.byteLength(first.text))
  t.equal(b2?.['bytesIn'], Buffer.byteLength(second.text), 'second request: its own head and body only')
  t.equal(Number(b1?.['bytesOut']) + Number(b2?.['bytesOut']), both.bytes.length, 'the two responses add up to what the client received')
  t.equal(b1?.['bytesOut'], a?.['bytesOut'], 'the same response, the same size')
})

t.test('retries are counted', async (t) => {
  let line: Record<string, unknown> | undefined
  for (let i = 0; i < 4 && line === undefined; i++) {
    const res = await request(`${rt.url}/services/flaky/r${i}`)
    t.equal(res.statusCode, 200)
    await res.body.text()
    await eventually(() => accessLines((l) => l['path'] === `/services/flaky/r${i}`).length === 1)
    const l = accessLines((l) => l['path'] === `/services/flaky/r${i}`)[0]
    if (l?.['attempts'] === 2) line = l
  }
  t.match(line, { attempts: 2, retries: 1, instance: 'flaky-ok', status: 200 }, 'the refused instance and then the other one')
})

function open(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

t.test('WebSocket: trace context upstream, one line at close with duration, bytes each way and close codes', async (t) => {
  const url = `ws://127.0.0.1:${rt.router.port()}/media/n1/ws/room`
  const ws = await open(url, { traceparent: VALID, tracestate: 'congo=t61rcWkgMzE', 'x-amzn-trace-id': AMZN, 'user-agent': UA })
  const got = seen.find((s) => s.url === '/ws/room')
  const m = TP.exec(String(got?.headers.traceparent))
  t.equal(m?.[1], TID, 'upgrade forwarded with the same trace id')
  t.not(m?.[2], PID, 'and the router as parent')
  t.equal(got?.headers.tracestate, 'congo=t61rcWkgMzE')
  t.equal(got?.headers['x-amzn-trace-id'], AMZN)
  const echoed = new Promise<Buffer>((r) => ws.once('message', (d: Buffer) => r(d)))
  ws.send('hello')
  t.equal((await echoed).toString(), 'hello')
  t.equal(accessLines((l) => l['kind'] === 'websocket' && l['path'] === '/media/n1/ws/room').length, 0, 'no line while open')
  const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)))
  ws.send('close-me')
  t.equal(await closed, 4000)
  await eventually(() => accessLines((l) => l['kind'] === 'websocket' && l['path'] === '/media/n1/ws/room').length === 1 && wsEnds.some((e) => e.url === '/ws/room'))
  const line = accessLines((l) => l['kind'] === 'websocket' && l['path'] === '/media/n1/ws/room')[0]
  const end = wsEnds.find((e) => e.url === '/ws/room')
  t.match(line, { traceId: TID, spanId: m?.[2], parentId: PID, amznTraceId: AMZN, userAgent: UA, status: 101, route: 'media', instance: 'n1', clientCloseCode: 4000, upstreamCloseCode: 4000, client: '127.0.0.1' })
  t.ok(['client', 'upstream'].includes(String(line?.['closedBy'])), `closedBy ${String(line?.['closedBy'])}`)
  t.equal(line?.['bytesFromClient'], end?.read, 'bytes from the client: what the upstream read after its 101')
  t.equal(line?.['bytesFromUpstream'], end?.written, 'bytes from the upstream: what it wrote after its 101')
  t.ok(Number(line?.['bytesFromClient']) > 0 && Number(line?.['bytesFromUpstream']) > 0)
  t.ok(typeof line?.['durationMs'] === 'number' && typeof line['upstreamTtfbMs'] === 'number' && line['upstreamTtfbMs'] <= line['durationMs'])
})

t.test('WebSocket without a trace: a fresh one upstream; client close code', async (t) => {
  const url = `ws://127.0.0.1:${rt.router.port()}/media/n1/ws/plain`
  const ws = await open(url, {})
  const got = seen.find((s) => s.url === '/ws/plain')
  t.ok(parseTraceparent(String(got?.headers.traceparent)), 'a valid traceparent upstream')
  t.notOk('tracestate' in (got?.headers ?? {}))
  const closed = new Promise<void>((r) => ws.once('close', () => r()))
  ws.close(1000)
  await closed
  await eventually(() => accessLines((l) => l['path'] === '/media/n1/ws/plain').length === 1)
  const line = accessLines((l) => l['path'] === '/media/n1/ws/plain')[0]
  t.match(line, { clientCloseCode: 1000, upstreamCloseCode: 1000, traceId: TP.exec(String(got?.headers.traceparent))?.[1] })
  t.notOk('userAgent' in (line ?? {}), 'no user agent sent, none logged')
})

t.test('every access line is valid JSON with the fields in one place (no duplicates)', async (t) => {
  const lines = accessLines(() => true)
  t.ok(lines.length > 10)
  const ids = lines.filter((l) => l['kind'] !== 'websocket').map((l) => String(l['requestId']))
  t.equal(new Set(ids).size, ids.length, 'one line per request')
})

