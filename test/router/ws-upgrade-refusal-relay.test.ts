// An upstream's non-101 answer to an upgrade reaches the client as one
// complete, well-framed HTTP/1.1 response, whatever framing the upstream used.
// The router used to pass the raw head on and copy body bytes up to the
// upstream's Content-Length (or until close), so a chunked answer reached the
// client still chunked but cut, and a body that never ended held both sockets.
// Now llhttp (Node's HTTP client) frames the upstream's body, the router reads
// it whole (bounded in size and by the handshake timeout) and sends it on with
// Content-Length and Connection: close. The client here is Node's own HTTP
// client, the reference parser. Also: the handshake's other promises (timeout,
// client leaving, retry on another instance, forwarded headers).
import t from 'tap'
import { request, type IncomingMessage } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import { rawClient } from '../fixtures/raw-http.js'
import { startWsRawUpstream } from '../fixtures/raw-ws-upstream.js'
import { startRouter } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { SWITCHING, splitResponse, startUpgradeHarness, upgradeHead, type UpgradeHarness } from '../fixtures/ws-upgrade-harness.js'

let h: UpgradeHarness
t.before(async () => {
  h = await startUpgradeHarness({ WS_HANDSHAKE_TIMEOUT_MS: '1500' })
})
t.teardown(() => h.close())

interface Relayed {
  res: IncomingMessage
  body: string
  /** The router closed the client connection after the response. */
  closed: boolean
}

/** An upgrade request through Node's HTTP client; resolves with the parsed non-101 response. */
function upgradeThroughNode(port: number, path: string): Promise<Relayed> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
    req.on('upgrade', (res: IncomingMessage, socket) => {
      socket.destroy()
      reject(new Error(`unexpected upgrade with ${res.statusCode}`))
    })
    req.on('response', (res: IncomingMessage) => {
      let body = ''
      res.setEncoding('latin1')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => {
        const socket = res.socket
        if (socket === null || socket.destroyed) resolve({ res, body, closed: true })
        else socket.once('close', () => resolve({ res, body, closed: true }))
      })
    })
    req.on('error', reject)
    req.end()
  })
}

const RELAYED: ReadonlyArray<readonly [string, string, number, string]> = [
  ['a chunked body', 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', 403, 'hello world'],
  ['a chunked body with extensions and trailers', 'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n', 403, 'abc'],
  ['a Content-Length body', 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 12\r\n\r\nunauthorized', 401, 'unauthorized'],
  ['no body (Content-Length: 0)', 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 404, ''],
  ['no body (204)', 'HTTP/1.1 204 No Content\r\n\r\n', 204, ''],
  ['a body delimited by close', 'HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\nuntil the end', 500, 'until the end'],
  ['a 200 that advertises Upgrade without switching', 'HTTP/1.1 200 OK\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 2\r\n\r\nno', 200, 'no'],
]

for (const [name, answer, status, body] of RELAYED) {
  t.test(`non-101 with ${name} → relayed as one complete response, both connections closed`, async (t) => {
    h.script = (conn) => {
      conn.socket.write(answer)
      if (/Connection: close/.test(answer)) conn.socket.end()
    }
    const got = upgradeThroughNode(h.port, '/media/n1/ws/refused')
    const up = await h.upstream.nextHead()
    const r = await got
    await up.done
    t.equal(r.res.statusCode, status, 'status')
    t.equal(r.body, body, 'body as llhttp framed it')
    t.equal(r.res.headers['transfer-encoding'], undefined, 'no transfer coding: the body is re-framed')
    if (status !== 204) t.equal(r.res.headers['content-length'], String(Buffer.byteLength(body, 'latin1')), 'Content-Length of the relayed body')
    t.equal(r.res.headers.connection, 'close')
    t.equal(typeof r.res.headers['x-request-id'], 'string', 'the router names the request')
    t.ok(r.closed, 'client connection closed')
    t.ok(up.closed, 'upstream connection closed')
  })
}

const FAILED: ReadonlyArray<readonly [string, string, number, string]> = [
  ['a body that never ends', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nonly 10 b.', 504, 'UPSTREAM_TIMEOUT'],
  ['a body over 64 KiB', `HTTP/1.1 403 Forbidden\r\nContent-Length: 70000\r\n\r\n${'x'.repeat(70_000)}`, 502, 'UPSTREAM_ERROR'],
  ['Transfer-Encoding: gzip', 'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: gzip\r\n\r\nnot really gzip', 502, 'UPSTREAM_ERROR'],
  ['Transfer-Encoding and Content-Length', 'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 502, 'UPSTREAM_ERROR'],
  ['two different Content-Lengths', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 502, 'UPSTREAM_ERROR'],
  ['a bad chunk size', 'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', 502, 'UPSTREAM_ERROR'],
  ['a reset in the middle of the body', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 50\r\n\r\npartial', 502, 'UPSTREAM_ERROR'],
]

for (const [name, answer, status, code] of FAILED) {
  t.test(`non-101 with ${name} → ${status} ${code} JSON, nothing of it relayed, both connections closed`, async (t) => {
    h.script = (conn) => {
      conn.socket.write(answer)
      if (name.startsWith('a reset')) conn.socket.resetAndDestroy()
    }
    const client = await rawClient(h.port)
    client.socket.write(upgradeHead('/media/n1/ws/broken'))
    const up = await h.upstream.nextHead()
    const res = splitResponse(await client.closed)
    await up.done
    t.equal(res.status, status)
    t.match(JSON.parse(res.body.toString()), { code })
    t.match(res.head, /content-type: application\/json/)
  })
}

t.test('upstream never answers → 504 after the handshake timeout; upstream connection closed', async (t) => {
  h.script = () => {}
  const client = await rawClient(h.port)
  client.socket.write(upgradeHead('/media/n1/ws/silent'))
  const up = await h.upstream.nextHead()
  const res = splitResponse(await client.closed)
  await up.done
  t.equal(res.status, 504)
  t.match(JSON.parse(res.body.toString()), { code: 'UPSTREAM_TIMEOUT' })
})

t.test('client resets mid-handshake → the upstream connection is closed at once', async (t) => {
  h.script = () => {}
  const logsBefore = h.router.logs.length
  const client = await rawClient(h.port)
  client.socket.write(upgradeHead('/media/n1/ws/leaving'))
  const up = await h.upstream.nextHead()
  client.socket.resetAndDestroy()
  await up.done
  t.ok(up.closed, 'upstream connection closed when the client left')
  t.notOk(h.router.logs.slice(logsBefore).some((l) => l['level'] === 'error'), 'no error logged')
})

t.test('client closes (FIN) mid-handshake → the upstream connection is closed by the handshake timeout at the latest', async (t) => {
  // The client socket is paused until the upstream answers (its bytes must wait), so a clean
  // close is only seen when the upstream answers or the handshake times out.
  h.script = () => {}
  const client = await rawClient(h.port)
  client.socket.write(upgradeHead('/media/n1/ws/leaving-fin'))
  const up = await h.upstream.nextHead()
  client.socket.end()
  await up.done
  t.ok(up.closed, 'upstream connection closed')
  await client.closed
  t.pass('client connection closed')
})

t.test('forwarded upgrade: path rewritten, X-Forwarded-*, hop-by-hop stripped, Upgrade kept, no body framing', async (t) => {
  h.script = (conn) => conn.socket.write(SWITCHING)
  const client = await rawClient(h.port)
  client.socket.write(upgradeHead('/media/n1/ws/hdr?x=1', 'Keep-Alive: timeout=5\r\nX-Secret: drop-me\r\nX-Kept: yes\r\nContent-Length: 0\r\n').replace('Connection: Upgrade', 'Connection: Upgrade, X-Secret'))
  const up = await h.upstream.nextHead()
  await client.until((b) => b.length >= SWITCHING.length, 'the 101')
  const head = up.atHead.toString('latin1').toLowerCase()
  t.match(head, /^get \/ws\/hdr\?x=1 http\/1\.1\r\n/)
  t.match(head, /\r\nx-forwarded-for: 127\.0\.0\.1\r\n/)
  t.match(head, /\r\nx-forwarded-proto: http\r\n/)
  t.match(head, /\r\nx-forwarded-prefix: \/media\/n1\r\n/)
  t.match(head, /\r\nx-forwarded-host: router\.test\r\n/)
  t.match(head, /\r\nupgrade: websocket\r\n/)
  t.match(head, /\r\nconnection: upgrade\r\n/)
  t.match(head, /\r\nx-kept: yes\r\n/)
  t.notMatch(head, /keep-alive|x-secret|content-length|transfer-encoding/)
  client.socket.end()
  await up.done
})

t.test('connect refused on one instance → the upgrade is retried on another', async (t) => {
  const dead = createServer()
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()))
  const deadPort = (dead.address() as AddressInfo).port
  await new Promise<void>((r) => dead.close(() => r()))
  const live = await startWsRawUpstream((conn) => conn.socket.write(SWITCHING))
  const file = staticDiscoveryFile({ dep: [{ id: 'dead', port: deadPort }, { id: 'live', port: live.port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, EJECT_AFTER_FAILURES: '0' })
  t.teardown(async () => {
    await rt.close()
    await live.close()
  })
  for (let i = 0; i < 6; i++) {
    const client = await rawClient(rt.router.port())
    client.socket.write(upgradeHead('/services/dep/ws'))
    const got = await client.until((b) => b.length >= SWITCHING.length, 'the 101')
    t.equal(got.toString('latin1'), SWITCHING, `upgrade ${i + 1} switched protocols`)
    client.socket.destroy()
  }
  const metrics = await (await fetch(`${rt.adminUrl}/metrics`)).text()
  t.match(metrics, /router_upstream_errors_total\{route="services",reason="connect"\} [1-9]/, 'the refused connects were counted')
})
