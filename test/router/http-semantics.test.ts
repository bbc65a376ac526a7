// HTTP/1.1 details a proxy must get right, end to end through the router and
// its own upstream client: bodiless responses (HEAD, 204, 304), repeated
// headers, headers named in Connection, Expect: 100-continue uploads, chunked
// and Content-Length request bodies as the upstream receives them, HTTP/1.0
// clients, and a response arriving before the upload finished.
import t from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { startRouter } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { rawRequest } from '../fixtures/raw-http.js'

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

async function startUpstream(t: { teardown(fn: () => void): void }, handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    // A POST to /early is answered before its body is read.
    if (req.url === '/early') {
      res.writeHead(413, { 'content-type': 'text/plain' })
      res.end('too big for me')
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      handle(req, res, body)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  return { port: (server.address() as AddressInfo).port, seen }
}

t.test('HTTP semantics through the router', async (t) => {
  const up = await startUpstream(t, (req, res, body) => {
    switch (req.url) {
      case '/head':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '42' })
        res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(42))
        return
      case '/no-content':
        res.writeHead(204, { 'x-kind': 'empty' })
        res.end()
        return
      case '/not-modified':
        res.writeHead(304, { etag: '"v1"' })
        res.end()
        return
      case '/cookies':
        res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/'])
        res.setHeader('connection', 'x-internal')
        res.setHeader('x-internal', 'secret')
        res.setHeader('x-public', 'yes')
        res.end('ok')
        return
      case '/chunked-out':
        res.setHeader('trailer', 'x-checksum')
        res.write('part1,')
        res.write('part2')
        res.addTrailers({ 'x-checksum': 'abc' })
        res.end()
        return
      default:
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end(`echo:${body}`)
    }
  })
  const file = staticDiscoveryFile({ sem: [{ id: 'a', port: up.port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file })
  t.teardown(() => rt.close())
  const base = `${rt.url}/services/sem`
  const port = rt.router.port()

  await t.test('HEAD: headers only, Content-Length kept, connection stays usable', async (t) => {
    const r = await rawRequest(port, `HEAD /services/sem/head HTTP/1.1\r\nHost: t\r\n\r\nGET /services/sem/after-head HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`)
    t.equal(r.status, 200)
    t.match(r.head, /content-length: 42/i)
    // The body of the raw read holds the second, pipelined response only.
    t.match(r.body, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n5\r\necho:\r\n0\r\n\r\n$/)
  })

  await t.test('204 and 304 carry no body', async (t) => {
    const a = await request(`${base}/no-content`)
    t.equal(a.statusCode, 204)
    t.equal(a.headers['x-kind'], 'empty')
    t.equal(await a.body.text(), '')
    const b = await request(`${base}/not-modified`, { headers: { 'if-none-match': '"v1"' } })
    t.equal(b.statusCode, 304)
    t.equal(b.headers['etag'], '"v1"')
    t.equal(await b.body.text(), '')
    t.equal(up.seen.at(-1)?.headers['if-none-match'], '"v1"', 'conditional header forwarded')
  })

  await t.test('repeated Set-Cookie kept apart; headers named in Connection stripped', async (t) => {
    const r = await rawRequest(port, 'GET /services/sem/cookies HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
    t.equal(r.status, 200)
    const cookies = r.head.split('\r\n').filter((l) => /^set-cookie:/i.test(l))
    t.same(cookies.map((l) => l.replace(/^set-cookie:\s*/i, '')), ['a=1; Path=/', 'b=2; Path=/'])
    t.notMatch(r.head, /x-internal/i, 'a header the upstream named in Connection is hop-by-hop')
    t.match(r.head, /x-public: yes/i)
    t.equal(r.body, 'ok')
  })

  await t.test('chunked response re-framed for the client, trailers dropped', async (t) => {
    const r = await request(`${base}/chunked-out`)
    t.equal(r.statusCode, 200)
    t.equal(await r.body.text(), 'part1,part2')
    t.equal(r.trailers['x-checksum'], undefined)
  })

  await t.test('request bodies reach the upstream intact, framed as received', async (t) => {
    const cl = await request(`${base}/upload`, { method: 'POST', body: 'fixed-length', headers: { 'content-type': 'text/plain' } })
    t.equal(await cl.body.text(), 'echo:fixed-length')
    t.equal(up.seen.at(-1)?.headers['content-length'], '12')
    t.equal(up.seen.at(-1)?.headers['transfer-encoding'], undefined)

    const chunked = await rawRequest(port, 'POST /services/sem/upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n')
    t.equal(chunked.status, 200)
    t.match(chunked.body, /echo:abcdefg/)
    // Sent up chunked while the length is unknown; undici uses Content-Length when the whole body had already arrived.
    const framed = up.seen.at(-1)?.headers
    t.ok(framed?.['transfer-encoding'] === 'chunked' ? framed['content-length'] === undefined : framed?.['content-length'] === '7', 'one framing: chunked, or the length of what had arrived')
    t.equal(up.seen.at(-1)?.body, 'abcdefg')
  })

  await t.test('Expect: 100-continue upload', async (t) => {
    const r = await rawRequest(port, 'POST /services/sem/upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhello')
    t.match(r.head, /^HTTP\/1\.1 100 Continue/, 'the router lets the client send its body')
    t.match(r.body, /HTTP\/1\.1 200 OK[\s\S]*\r\necho:hello\r\n0\r\n\r\n$/)
  })

  await t.test('HTTP/1.0 client gets a complete response and the connection closed', async (t) => {
    const r = await rawRequest(port, 'GET /services/sem/old HTTP/1.0\r\nHost: t\r\n\r\n')
    t.match(r.head, /^HTTP\/1\.1 200 OK/)
    t.equal(r.body, 'echo:')
    t.ok(r.closed)
  })

  await t.test('upstream answers before the upload is read: the answer reaches the client', async (t) => {
    const r = await rawRequest(port, `POST /services/sem/early HTTP/1.1\r\nHost: t\r\nContent-Length: 20000\r\nConnection: close\r\n\r\n${'z'.repeat(20_000)}`)
    t.equal(r.status, 413)
    t.match(r.body, /^e\r\ntoo big for me\r\n0\r\n\r\n$/, 'the whole answer, re-framed chunked')
    // And the pool is not left with a half-sent request: the next request works.
    const next = await request(`${base}/next`)
    t.equal(await next.body.text(), 'echo:')
  })
})
