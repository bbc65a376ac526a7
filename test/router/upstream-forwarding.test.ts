// How the router forwards HTTP to an upstream, end to end: a real client →
// the router → a raw TCP upstream (test/fixtures/raw-upstream.ts) that records
// what reached it and answers with exact bytes. Response framing, malformed
// and cut responses, keep-alive reuse and its limits, the pool's connection
// limit and FIFO queue, stale kept-alive connections, timeouts, requests as
// the upstream receives them, backpressure and client aborts. Reuse is judged
// by how many TCP connections the upstream accepted. These were the behaviour
// tests of the hand-written upstream client; they now hold the router to them
// whatever client it uses.
import t, { type Test } from 'tap'
import { connect, createServer as createNetServer, type Socket } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import { createHash, randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { Readable } from 'node:stream'
import { request } from 'undici'
import { startRouter, eventually, ADMIN_TOKEN, type RouterFixture } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { startRawUpstream, okResponse, type RawUpstream, type Responder } from '../fixtures/raw-upstream.js'
import { rawRequest } from '../fixtures/raw-http.js'

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

interface Setup {
  readonly up: RawUpstream
  readonly rt: RouterFixture
  /** `http://router/services/raw` */
  readonly base: string
}

async function setup(t: Test, respond: Responder, env: Record<string, string> = {}): Promise<Setup> {
  const up = await startRawUpstream(t, respond)
  const file = staticDiscoveryFile({ raw: [{ id: 'a', port: up.port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, ACCESS_LOG: 'false', ...env })
  t.teardown(() => rt.close())
  return { up, rt, base: `${rt.url}/services/raw` }
}

interface Got {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
  /** The response could not be read to its end (connection cut). */
  readonly error?: string
}

async function get(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Readable } = {}): Promise<Got> {
  let status = 0
  let headers: Got['headers'] = {}
  try {
    const r = await request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {}, body: opts.body ?? null, headersTimeout: 30_000, bodyTimeout: 30_000 })
    status = r.statusCode
    headers = r.headers
    return { status, headers, body: await r.body.text() }
  } catch (err) {
    return { status, headers, body: '', error: err instanceof Error ? err.message : String(err) }
  }
}

function errorCode(body: string): unknown {
  const v: unknown = JSON.parse(body)
  return typeof v === 'object' && v !== null && 'code' in v ? v.code : undefined
}

async function metrics(rt: RouterFixture): Promise<string> {
  const r = await request(`${rt.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  return r.body.text()
}

/** Writes `data` in `step`-byte writes with an event-loop turn between them. */
async function dribble(socket: Socket, data: string | Buffer, step = 1): Promise<void> {
  const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data
  for (let i = 0; i < b.length; i += step) {
    if (socket.destroyed) return
    socket.write(b.subarray(i, i + step))
    await tick()
  }
}

// ---------------------------------------------------------------------------
// Response framing
// ---------------------------------------------------------------------------

t.test('Content-Length body: status, repeated fields and body delivered', async (t) => {
  const { base, up } = await setup(t, (_req, s) => {
    s.write('HTTP/1.1 201 Created\r\nContent-Length: 11\r\nX-Foo: a\r\nx-foo: b\r\nSet-Cookie: c=1\r\nSet-Cookie: d=2\r\n\r\nhello world')
  })
  const r = await get(`${base}/x`)
  t.equal(r.status, 201)
  t.equal(r.body, 'hello world')
  t.equal(r.headers['content-length'], '11')
  t.same(r.headers['set-cookie'], ['c=1', 'd=2'], 'each Set-Cookie its own field')
  t.same(r.headers['x-foo'], ['a', 'b'])
  t.same(up.errors, [])
})

t.test('Content-Length: 0 and an empty reason phrase: empty body, connection reused', async (t) => {
  const { base, up } = await setup(t, (req, s) => {
    if (req.index === 0) s.write('HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n')
    else s.write(okResponse('second'))
  })
  t.same((await get(`${base}/a`)).body, '')
  t.equal((await get(`${base}/b`)).body, 'second')
  t.equal(up.conns.length, 1, 'one TCP connection for both')
})

t.test('header values lose leading whitespace (llhttp keeps trailing whitespace, which is harmless); empty values are kept', async (t) => {
  const { base } = await setup(t, (_req, s) => s.write('HTTP/1.1 200 OK\r\nX-Pad:   v w  \r\nX-Tab:\tx\t\r\nX-Empty:\r\nContent-Length: 2\r\n\r\nok'))
  const r = await get(`${base}/`)
  t.equal(String(r.headers['x-pad']).trimEnd(), 'v w')
  t.equal(String(r.headers['x-tab']).trimEnd(), 'x')
  t.equal(r.headers['x-empty'], '')
  t.equal(r.body, 'ok')
})

const CHUNKED_RESPONSE =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kind: chunked\r\n\r\n' +
  '5;foo=bar\r\nhello\r\n' +
  '6;a="b;c";d\r\n world\r\n' +
  'A\r\n0123456789\r\n' +
  '00b\r\nabcdefghijk\r\n' +
  '0;last=1\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n'
const CHUNKED_BODY = 'hello world0123456789abcdefghijk'

t.test('chunked body (extensions, upper-case and zero-padded sizes, trailers): decoded, trailers dropped, connection reused', async (t) => {
  const { base, up } = await setup(t, (req, s) => {
    if (req.index === 0) s.write(CHUNKED_RESPONSE)
    else s.write(okResponse('after'))
  })
  const r = await get(`${base}/c`)
  t.equal(r.status, 200)
  t.equal(r.body, CHUNKED_BODY)
  t.equal(r.headers['x-kind'], 'chunked')
  t.equal(r.headers['x-trailer'], undefined, 'trailers are not made headers')
  t.equal((await get(`${base}/n`)).body, 'after', 'the trailer section was consumed: the next response is read correctly')
  t.equal(up.conns.length, 1, 'the connection was reused after the trailers')
})

t.test('responses delivered one byte per write decode like whole ones', async (t) => {
  const cl = okResponse('the quick brown fox', 'X-A: 1\r\n')
  const { base, up } = await setup(t, (req, s) => {
    if (req.url === '/whole') s.write(CHUNKED_RESPONSE)
    else if (req.url === '/chunked') void dribble(s, CHUNKED_RESPONSE)
    else void dribble(s, cl)
  })
  const whole = await get(`${base}/whole`)
  t.equal(whole.body, CHUNKED_BODY)
  t.equal((await get(`${base}/chunked`)).body, CHUNKED_BODY)
  t.equal((await get(`${base}/chunked`)).body, CHUNKED_BODY, 'again on the reused connection')
  const a = await get(`${base}/cl`)
  t.equal(a.body, 'the quick brown fox')
  t.equal(a.headers['x-a'], '1')
  t.equal(up.conns.length, 1)
})

t.test('a 1 MB chunked response with random chunk sizes in random-sized writes', async (t) => {
  const payload = randomBytes(1024 * 1024)
  const framed: Buffer[] = [Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')]
  for (let pos = 0; pos < payload.length; ) {
    const n = Math.min(payload.length - pos, 1 + Math.floor(Math.random() * 9000))
    framed.push(Buffer.from(`${n.toString(16)}\r\n`), payload.subarray(pos, pos + n), Buffer.from('\r\n'))
    pos += n
  }
  framed.push(Buffer.from('0\r\n\r\n'))
  const wire = Buffer.concat(framed)
  const { base, up } = await setup(t, (req, s) => {
    if (req.index > 0) {
      s.write(okResponse('next'))
      return
    }
    void (async () => {
      for (let pos = 0; pos < wire.length; ) {
        const n = 1 + Math.floor(Math.random() * 20_000)
        s.write(wire.subarray(pos, pos + n))
        pos += n
        if (Math.random() < 0.3) await tick()
      }
    })()
  })
  const r = await request(`${base}/big`)
  const got = Buffer.from(await r.body.arrayBuffer())
  t.equal(got.length, payload.length, 'length')
  t.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(payload).digest('hex'), 'content')
  t.equal((await get(`${base}/n`)).body, 'next')
  t.equal(up.conns.length, 1)
})

t.test('close-delimited body (no Content-Length, no Transfer-Encoding): whole body, connection not reused', async (t) => {
  const { base, up } = await setup(t, (req, s) => {
    if (req.conn.id === 0) {
      s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n')
      s.write('part1-')
      setImmediate(() => s.end('part2'))
    } else s.write(okResponse('fresh'))
  })
  const r = await get(`${base}/a`)
  t.equal(r.body, 'part1-part2')
  t.equal(r.headers['content-length'], undefined, 'no length invented')
  t.equal((await get(`${base}/b`)).body, 'fresh')
  t.equal(up.conns.length, 2, 'a new TCP connection for the next request')
})

t.test('HEAD with Content-Length or chunked: no body expected; the GET after reads its own response', async (t) => {
  const { base } = await setup(t, (req, s) => {
    if (req.method === 'HEAD' && req.url === '/cl') s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n')
    else if (req.method === 'HEAD') s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')
    else s.write(okResponse('get-body'))
  })
  const h1 = await get(`${base}/cl`, { method: 'HEAD' })
  t.equal(h1.status, 200)
  t.equal(h1.headers['content-length'], '1000', 'the length a GET would have')
  t.equal(h1.body, '')
  const h2 = await get(`${base}/te`, { method: 'HEAD' })
  t.equal(h2.status, 200)
  t.equal((await get(`${base}/get`)).body, 'get-body')
})

t.test('204 and 304 have no body (even with a Content-Length on the 304)', async (t) => {
  const { base } = await setup(t, (req, s) => {
    if (req.url === '/204') s.write('HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n')
    else if (req.url === '/304') s.write('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 10\r\n\r\n')
    else s.write(okResponse('after'))
  })
  const a = await get(`${base}/204`)
  t.equal(a.status, 204)
  t.equal(a.body, '')
  const b = await get(`${base}/304`)
  t.equal(b.status, 304)
  t.equal(b.headers.etag, '"x"')
  t.equal(b.body, '')
  t.equal((await get(`${base}/after`)).body, 'after')
})

t.test('103 Early Hints before the final 200 is not passed on; an unasked-for 100 Continue is a 502 (undici)', async (t) => {
  const { base } = await setup(t, (req, s) => {
    if (req.url === '/103') s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\n\r\nok')
    else if (req.url === '/100') s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
    else s.write(okResponse('after'))
  })
  const a = await get(`${base}/103`)
  t.equal(a.status, 200)
  t.equal(a.headers['x-final'], 'yes')
  t.equal(a.headers.link, undefined)
  t.equal(a.body, 'ok')
  const b = await get(`${base}/100`)
  t.equal(b.status, 502)
  t.equal(errorCode(b.body), 'UPSTREAM_ERROR')
  t.equal((await get(`${base}/after`)).body, 'after')
})

t.test('extra bytes after a complete body reach nobody: the connection is not reused', async (t) => {
  const { base, up } = await setup(t, (req, s) => {
    if (req.conn.id === 0) s.write(okResponse('hello') + okResponse('evil!'))
    else s.write(okResponse('two'))
  })
  t.equal((await get(`${base}/a`)).body, 'hello')
  t.equal((await get(`${base}/b`)).body, 'two', 'the unsolicited response is not taken as the answer to the next request')
  t.equal(up.conns.length, 2)
  await eventually(() => up.conns[0]?.closed === true)
})

t.test('unsolicited bytes on an idle connection: it is discarded, the next request gets its own answer', async (t) => {
  let sentEvil!: () => void
  const evil = new Promise<void>((r) => (sentEvil = r))
  const { base, up } = await setup(t, (req, s) => {
    if (req.conn.id === 0) {
      s.write(okResponse('hello'))
      setImmediate(() => s.write(okResponse('evil!'), () => sentEvil()))
    } else s.write(okResponse('two'))
  })
  t.equal((await get(`${base}/a`)).body, 'hello')
  await evil
  await eventually(() => up.conns[0]?.closed === true)
  t.equal((await get(`${base}/b`)).body, 'two')
  t.equal(up.conns.length, 2)
})

// ---------------------------------------------------------------------------
// Cut and malformed responses
// ---------------------------------------------------------------------------

t.test('a response cut short is never passed off as complete; the next request is fine', async (t) => {
  const { base } = await setup(t, (req, s) => {
    if (req.url === '/cl') s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello')
    else if (req.url === '/chunked') s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n')
    else if (req.url === '/nothing') s.end()
    else s.write(okResponse('fine'))
  })
  for (const path of ['/cl', '/chunked']) {
    const r = await get(`${base}${path}`)
    t.equal(r.status, 200, `${path}: the head had been sent`)
    t.ok(r.error !== undefined, `${path}: the client sees the body cut (${r.error ?? 'no error'})`)
    t.equal((await get(`${base}/ok`)).body, 'fine')
  }
  const none = await get(`${base}/nothing`)
  t.equal(none.status, 502, 'closed before any response byte → 502')
  t.equal(errorCode(none.body), 'UPSTREAM_ERROR')
})

const MALFORMED: ReadonlyArray<{ readonly name: string; readonly wire: string }> = [
  { name: 'status code with letters (2OO)', wire: 'HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n' },
  { name: 'HTTP/2 status line', wire: 'HTTP/2 200\r\nContent-Length: 0\r\n\r\n' },
  { name: 'garbage status line', wire: 'garbage\r\n\r\n' },
  { name: 'two-digit status code', wire: 'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n' },
  { name: 'header line without a colon', wire: 'HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n' },
  { name: 'space before the colon', wire: 'HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 0\r\n\r\n' },
  { name: 'obs-fold continuation line', wire: 'HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n' },
  { name: 'NUL in a header value', wire: 'HTTP/1.1 200 OK\r\nX-A: b\u0000c\r\nContent-Length: 0\r\n\r\n' },
  { name: 'bare CR in a header value', wire: 'HTTP/1.1 200 OK\r\nX-A: b\rc\r\nContent-Length: 0\r\n\r\n' },
  { name: 'two different Content-Length values', wire: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!' },
  { name: 'two equal Content-Length values (llhttp refuses duplicates)', wire: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello' },
  { name: 'non-numeric Content-Length', wire: 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello' },
  { name: 'negative Content-Length', wire: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello' },
  { name: 'Content-Length with a plus sign', wire: 'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello' },
  { name: 'Transfer-Encoding with Content-Length', wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n' },
  { name: 'Transfer-Encoding: gzip', wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello' },
  { name: 'head larger than 64 KiB', wire: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\nContent-Length: 0\r\n\r\n` },
]

t.test('malformed response heads → 502 UPSTREAM_ERROR before anything reaches the client; the connection is dropped', async (t) => {
  const byPath = new Map(MALFORMED.map((m, i) => [`/m${i}`, m.wire]))
  const { base, up, rt } = await setup(t, (req, s) => s.write(byPath.get(req.url) ?? okResponse(`ok ${req.conn.id}`)))
  for (const [i, m] of MALFORMED.entries()) {
    const before = up.conns.length
    const r = await get(`${base}/m${i}`)
    t.equal(r.status, 502, `${m.name} → 502`)
    t.equal(errorCode(r.body), 'UPSTREAM_ERROR', `${m.name} → JSON error`)
    await eventually(() => up.conns[before]?.closed === true || up.conns.slice(before).every((c) => c.closed))
    t.match((await get(`${base}/ok`)).body, /^ok \d+$/, `after ${m.name} the next request gets its own answer`)
  }
  t.match(await metrics(rt), new RegExp(`router_upstream_errors_total\\{route="services",reason="protocol"\\} ${MALFORMED.length}\\n`))
})

t.test('bad chunked framing after the head: the client connection is cut, not handed a short body as complete', async (t) => {
  const { base } = await setup(t, (req, s) => {
    if (req.url === '/size') s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n')
    else if (req.url === '/crlf') s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n')
    else s.write(okResponse('fine'))
  })
  for (const path of ['/size', '/crlf']) {
    const r = await get(`${base}${path}`)
    t.ok(r.error !== undefined || r.status === 502, `${path}: cut or 502 (${r.status} ${r.error ?? ''})`)
    t.equal((await get(`${base}/ok`)).body, 'fine')
  }
})

t.test('a head just under 64 KiB is accepted; a never-ending head is cut at 64 KiB, not left to the headers timeout', async (t) => {
  const { base, rt } = await setup(
    t,
    (req, s) => {
      if (req.url === '/big') s.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(60_000)}\r\nContent-Length: 2\r\n\r\nok`)
      else {
        s.write('HTTP/1.1 200 OK\r\n')
        const timer = setInterval(() => {
          if (s.destroyed) clearInterval(timer)
          else s.write('X-Filler: 0123456789012345678901234567890123456789\r\n')
        }, 1)
        s.once('close', () => clearInterval(timer))
      }
    },
    { UPSTREAM_HEADERS_TIMEOUT_MS: '600000' },
  )
  // A raw client: undici's own client stops at 16 KiB of head.
  const big = await rawRequest(rt.router.port(), 'GET /services/raw/big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
  t.equal(big.status, 200)
  t.match(big.head, /\r\nx-big: a{60000}\r\n/)
  t.equal(big.body, 'ok')
  const endless = await get(`${base}/endless`)
  t.equal(endless.status, 502)
})

// ---------------------------------------------------------------------------
// Keep-alive and pooling
// ---------------------------------------------------------------------------

t.test('20 sequential requests share one TCP connection; nothing stray on it', async (t) => {
  const { base, up, rt } = await setup(t, (req, s) => s.write(okResponse(`r${req.index}:${req.url}`)))
  for (let i = 0; i < 20; i++) t.equal((await get(`${base}/n/${i}`)).body, `r${i}:/n/${i}`)
  t.equal(up.conns.length, 1, 'exactly one TCP connection')
  t.equal(up.conns[0]?.requests.length, 20)
  t.same(up.errors, [], 'llhttp found nothing but the 20 requests on it')
  t.same(rt.router.main.http.stats(), { open: 1, idle: 1, busy: 0, queued: 0 })
})

t.test('Connection: close (or HTTP/1.0) in a response → the next request uses a new connection', async (t) => {
  const { base, up } = await setup(t, (req, s) => {
    if (req.conn.id === 0) s.end(okResponse('first', 'Connection: close\r\n'))
    // Says close (in a list) but leaves the socket open: still not reused.
    else if (req.conn.id === 1) s.write(okResponse('second', 'Connection: keep-alive, Close\r\n'))
    else if (req.conn.id === 2) s.write('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nthird')
    else s.write(okResponse('fourth'))
  })
  t.equal((await get(`${base}/`)).body, 'first')
  t.equal((await get(`${base}/`)).body, 'second')
  t.equal((await get(`${base}/`)).body, 'third')
  t.equal((await get(`${base}/`)).body, 'fourth')
  t.equal(up.conns.length, 4, 'a new connection after each closing response')
  await eventually(() => up.conns[1]?.closed === true && up.conns[2]?.closed === true)
})

t.test('an upstream announcing Keep-Alive: timeout=1 is not reused (a second of margin); timeout=10 is', async (t) => {
  const { base, up } = await setup(t, (req, s) => s.write(okResponse(`c${req.conn.id}`, req.url === '/short' ? 'Keep-Alive: timeout=1\r\n' : 'Keep-Alive: timeout=10\r\n')))
  t.equal((await get(`${base}/short`)).body, 'c0')
  t.equal((await get(`${base}/long`)).body, 'c1', 'a new connection after timeout=1')
  t.equal((await get(`${base}/long`)).body, 'c1', 'reused after timeout=10')
  t.equal(up.conns.length, 2)
})

t.test('an idle connection is closed by the router after UPSTREAM_KEEPALIVE_TIMEOUT_MS', async (t) => {
  const { base, up, rt } = await setup(t, (req, s) => s.write(okResponse(`c${req.conn.id}`)), { UPSTREAM_KEEPALIVE_TIMEOUT_MS: '50' })
  t.equal((await get(`${base}/`)).body, 'c0')
  await eventually(() => up.conns[0]?.closed === true)
  t.ok(up.conns[0]?.closedByPeer, 'the router closed it, not the upstream')
  await eventually(() => rt.router.main.http.stats().open === 0)
  t.equal((await get(`${base}/`)).body, 'c1', 'the next request opens a new one')
})

t.test('UPSTREAM_CONNECTIONS=1 with 5 concurrent requests: one connection, one request at a time, in arrival order', async (t) => {
  const held: Array<() => void> = []
  const { base, up, rt } = await setup(t, (req, s) => held.push(() => s.write(okResponse(`body of ${req.url}`))), { UPSTREAM_CONNECTIONS: '1' })
  const calls: Array<Promise<Got>> = []
  for (let i = 0; i < 5; i++) {
    calls.push(get(`${base}/${i}`))
    // Arrival order at the router is the order the requests were made.
    await eventually(() => rt.router.main.http.stats().queued + up.requests.length === i + 1)
  }
  t.same(rt.router.main.http.stats(), { open: 1, idle: 0, busy: 1, queued: 4 }, 'one busy connection, four queued')
  for (let i = 0; i < 5; i++) {
    await eventually(() => held.length === i + 1)
    t.equal(up.requests.length, i + 1, 'never more than one request outstanding at the upstream')
    held[i]?.()
  }
  const got = await Promise.all(calls)
  got.forEach((g, i) => t.equal(g.body, `body of /${i}`, `request ${i} got its own body`))
  t.same(
    up.requests.map((r) => r.url),
    ['/0', '/1', '/2', '/3', '/4'],
    'queued requests are served in arrival order',
  )
  t.equal(up.conns.length, 1)
})

t.test('200 concurrent requests on a Node http upstream with UPSTREAM_CONNECTIONS=16', async (t) => {
  let accepted = 0
  let open = 0
  let maxOpenAtServer = 0
  const server = createHttpServer((req, res) => {
    setImmediate(() => {
      const body = `echo ${req.url ?? ''}`
      res.writeHead(200, { 'content-length': Buffer.byteLength(body) })
      res.end(body)
    })
  })
  server.on('connection', (s: Socket) => {
    accepted++
    open++
    maxOpenAtServer = Math.max(maxOpenAtServer, open)
    s.on('close', () => open--)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  })
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no port')
  const file = staticDiscoveryFile({ many: [{ id: 'a', port: addr.port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, ACCESS_LOG: 'false', UPSTREAM_CONNECTIONS: '16' })
  t.teardown(() => rt.close())
  const got = await Promise.all(Array.from({ length: 200 }, (_, i) => get(`${rt.url}/services/many/r/${i}`)))
  t.ok(
    got.every((g, i) => g.status === 200 && g.body === `echo /r/${i}`),
    'all 200 got status 200 and their own body',
  )
  t.ok(accepted <= 16, `upstream accepted ${accepted} connections (≤ 16)`)
  t.ok(maxOpenAtServer <= 16, `upstream saw at most ${maxOpenAtServer} at once`)
  const s = rt.router.main.http.stats()
  t.equal(s.busy, 0)
  t.equal(s.queued, 0)
})

t.test('stale keep-alive: the upstream closed an idle connection → the router notices; the next GET uses a new one', async (t) => {
  const { base, up, rt } = await setup(t, (req, s) => {
    if (req.conn.id === 0) s.end(okResponse('conn 0'))
    else s.write(okResponse(`conn ${req.conn.id}`))
  })
  t.equal((await get(`${base}/`)).body, 'conn 0')
  await eventually(() => rt.router.main.http.stats().open === 0)
  t.equal((await get(`${base}/`)).body, 'conn 1')
  t.equal(up.conns.length, 2)
})

t.test('stale keep-alive race: the upstream drops a reused connection on the next GET → retried once on a fresh connection', async (t) => {
  const { base, up, rt } = await setup(t, (req, s) => {
    if (req.conn.id === 0 && req.index > 0) s.end()
    else s.write(okResponse(`conn ${req.conn.id} ${req.url}`))
  })
  t.equal((await get(`${base}/a`)).body, 'conn 0 /a')
  const b = await get(`${base}/b`)
  t.equal(b.status, 200)
  t.equal(b.body, 'conn 1 /b', 'retried on a fresh connection')
  t.same(
    up.requests.map((r) => `${r.conn.id}${r.url}`),
    ['0/a', '0/b', '1/b'],
  )
  t.notMatch(await metrics(rt), /router_upstream_errors_total\{[^}]*\} [1-9]/, 'not counted as an upstream error')
})

t.test('a stale-connection retry respects UPSTREAM_CONNECTIONS (no extra connection for the queue)', async (t) => {
  let maxOpen = 0
  let rt: RouterFixture | undefined
  const { base, up, rt: router } = await setup(
    t,
    (req, s) => {
      maxOpen = Math.max(maxOpen, rt?.router.main.http.stats().open ?? 0)
      if (req.conn.id === 0 && req.index > 0) s.end()
      else s.write(okResponse(`conn ${req.conn.id} ${req.url}`))
    },
    { UPSTREAM_CONNECTIONS: '1' },
  )
  rt = router
  t.equal((await get(`${base}/a`)).body, 'conn 0 /a')
  const [b, c] = await Promise.all([get(`${base}/b`), get(`${base}/c`)])
  t.equal(b.body, 'conn 1 /b', 'B was retried on the replacement connection')
  t.equal(c.body, 'conn 1 /c', 'C ran on the one replacement connection')
  t.ok(maxOpen <= 1, `the router never held more than 1 connection (held ${maxOpen})`)
  t.equal(up.conns.length, 2, 'conn 0 and one replacement')
})

t.test('a POST on a kept-alive connection the upstream drops is not re-sent', async (t) => {
  const { base, up } = await setup(t, (req, s) => {
    if (req.conn.id === 0 && req.index > 0) s.end()
    else s.write(okResponse(`conn ${req.conn.id}`))
  })
  await get(`${base}/warm`)
  const r = await get(`${base}/pay`, { method: 'POST', body: 'abc' })
  t.equal(r.status, 502)
  t.equal(up.requests.filter((q) => q.url === '/pay').length, 1, 'the upstream saw the POST exactly once')
})

// ---------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------

t.test('no head in time → 504; part of a head then a stall → 504', async (t) => {
  const { base, up } = await setup(
    t,
    (req, s) => {
      if (req.url === '/partial') s.write('HTTP/1.1 200 OK\r\nX-A: 1\r\n')
    },
    { UPSTREAM_HEADERS_TIMEOUT_MS: '200' },
  )
  for (const path of ['/silent', '/partial']) {
    const r = await get(`${base}${path}`)
    t.equal(r.status, 504, path)
    t.equal(errorCode(r.body), 'UPSTREAM_TIMEOUT')
  }
  await eventually(() => up.conns.every((c) => c.closed))
})

t.test('body timeout: a gap limit, not a total; paused while the client is the slow side', async (t) => {
  // 20 pieces 50 ms apart: about a second in all, each gap far below the 600 ms limit.
  const pieces = Array.from({ length: 20 }, (_, i) => `p${String(i).padStart(2, '0')}`)
  const payload = randomBytes(16 * 1024 * 1024)
  const { base, rt } = await setup(
    t,
    (req, s) => {
      if (req.url === '/stall') s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel')
      else if (req.url === '/steady') {
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${pieces.join('').length}\r\n\r\n`)
        let i = 0
        const next = (): void => {
          const p = pieces[i++]
          if (p === undefined || s.destroyed) return
          s.write(p)
          setTimeout(next, 50)
        }
        setTimeout(next, 50)
      } else {
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n`)
        s.write(payload)
      }
    },
    { UPSTREAM_BODY_TIMEOUT_MS: '600' },
  )
  const stalled = await get(`${base}/stall`)
  t.equal(stalled.status, 200)
  t.ok(stalled.error !== undefined, 'a stalled body cuts the client connection')
  t.equal((await get(`${base}/steady`)).body, pieces.join(''), 'a slow but steady body completes')

  // A client that does not read: the router stops reading the upstream (backpressure), and its body timeout with it.
  const c = connect(rt.router.port(), '127.0.0.1')
  c.pause()
  c.write('GET /services/raw/big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
  // Longer than the body timeout without reading; a lower bound, so a busy machine only makes it longer.
  await new Promise((r) => setTimeout(r, 1500))
  t.equal(rt.router.main.http.stats().busy, 1, 'still streaming, not timed out')
  const chunks: Buffer[] = []
  c.on('data', (d: Buffer) => chunks.push(d))
  c.resume()
  await new Promise((r) => c.once('close', r))
  const all = Buffer.concat(chunks)
  t.ok(all.subarray(all.indexOf('\r\n\r\n') + 4).equals(payload), 'the whole body arrived once the client read it')
})

t.test('UPSTREAM_BODY_TIMEOUT_MS=0: no body timeout', async (t) => {
  const { base } = await setup(
    t,
    (_req, s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab')
      setTimeout(() => s.write('cd'), 300)
    },
    { UPSTREAM_BODY_TIMEOUT_MS: '0' },
  )
  t.equal((await get(`${base}/`)).body, 'abcd')
})

t.test('connect timeout (a listener whose accept queue is full) → 504; the only instance is not tried twice', async (t) => {
  // Node accepts every connection, so the non-accepting listener is a python3
  // socket with listen(0); filler connections fill its accept queue and
  // further SYNs are dropped, leaving connect() pending.
  const py = spawn('python3', ['-c', "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)"])
  t.teardown(() => void py.kill('SIGKILL'))
  const port = await new Promise<number | null>((resolve) => {
    py.once('error', () => resolve(null))
    py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())))
  })
  if (port === null || !Number.isInteger(port)) {
    t.plan(0, 'python3 not available for a non-accepting listener')
    return
  }
  const fillers: Socket[] = []
  t.teardown(() => fillers.forEach((s) => s.destroy()))
  let full = false
  for (let i = 0; i < 8 && !full; i++) {
    const s = connect(port, '127.0.0.1')
    s.on('error', () => undefined)
    fillers.push(s)
    full = !(await new Promise<boolean>((r) => {
      s.once('connect', () => r(true))
      setTimeout(() => r(false), 300)
    }))
  }
  if (!full) {
    t.plan(0, 'could not fill the accept queue on this kernel')
    return
  }
  const file = staticDiscoveryFile({ dead: [{ id: 'a', port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, UPSTREAM_CONNECT_TIMEOUT_MS: '200', EJECT_AFTER_FAILURES: '0' })
  t.teardown(() => rt.close())
  const r = await get(`${rt.url}/services/dead/x`)
  t.equal(r.status, 504)
  t.equal(errorCode(r.body), 'UPSTREAM_TIMEOUT')
  // Nothing was sent, but there is no other instance to retry on.
  const text = await metrics(rt)
  t.match(text, /router_upstream_errors_total\{route="services",reason="timeout"\} 1\n/)
  t.notMatch(text, /router_upstream_retries_total\{route="services"\} [1-9]/)
})

// ---------------------------------------------------------------------------
// Requests as the upstream receives them
// ---------------------------------------------------------------------------

t.test('requests as the upstream receives them: request line, one Host, repeated fields, body framing', async (t) => {
  const { base, up, rt } = await setup(t, (req, s) => s.write(okResponse(`got ${req.body.length}`)))
  await get(`${base}/a/b?c=1&d=%20`, { headers: { 'x-one': '1', accept: 'text/plain' } })
  const g = up.requests[0]
  t.equal(g?.method, 'GET')
  t.equal(g?.url, '/a/b?c=1&d=%20')
  t.same(g?.header('content-length'), [], 'no Content-Length on a GET without body')
  t.same(g?.header('transfer-encoding'), [])
  t.equal(g?.header('host').length, 1, 'one Host')
  t.same(g?.header('x-one'), ['1'])

  // Repeated request fields: Node joins them (Set-Cookie-like ones stay apart) and they go up that way.
  const r = await rawRequest(rt.router.port(), 'GET /services/raw/multi HTTP/1.1\r\nHost: example.com\r\nX-Multi: a\r\nX-Multi: b\r\nConnection: close\r\n\r\n')
  t.equal(r.status, 200)
  const m = up.requests.at(-1)
  t.same(m?.header('host'), ['example.com'], 'the client Host is kept, not duplicated')
  t.same(m?.header('x-multi'), ['a, b'])

  await get(`${base}/x/1`, { method: 'DELETE' })
  t.equal(up.requests.at(-1)?.method, 'DELETE')

  const post = await get(`${base}/up`, { method: 'POST', body: 'hello world', headers: { 'content-type': 'text/plain' } })
  t.equal(post.body, 'got 11')
  const p = up.requests.at(-1)
  t.same(p?.header('content-length'), ['11'], 'exactly the declared length')
  t.same(p?.header('transfer-encoding'), [])
  t.equal(p?.body.toString(), 'hello world')

  // A 1 MB body of unknown length, in 100 pieces: chunked up, intact.
  const sent = createHash('sha256')
  let n = 0
  const body = new Readable({
    read() {
      if (n === 100) {
        this.push(null)
        return
      }
      const chunk = randomBytes(10_486)
      sent.update(chunk)
      n++
      setImmediate(() => this.push(chunk))
    },
  })
  const big = await get(`${base}/upload`, { method: 'PUT', body })
  t.equal(big.body, 'got 1048600')
  const b = up.requests.at(-1)
  t.same(b?.header('transfer-encoding'), ['chunked'])
  t.equal(b !== undefined ? createHash('sha256').update(b.body).digest('hex') : '', sent.digest('hex'))
  t.same(up.errors, [], 'llhttp accepted every request the router sent, with nothing between them')
})

// ---------------------------------------------------------------------------
// Client aborts
// ---------------------------------------------------------------------------

t.test('a client gone while the body streams: the upstream request is cancelled, nothing left busy', async (t) => {
  const { up, rt } = await setup(t, (_req, s) => {
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`)
    const chunk = Buffer.alloc(16 * 1024, 'z')
    const pump = (): void => {
      while (!s.destroyed && s.write(chunk));
      if (!s.destroyed) s.once('drain', pump)
    }
    pump()
  })
  const c = connect(rt.router.port(), '127.0.0.1')
  c.write('GET /services/raw/forever HTTP/1.1\r\nHost: t\r\n\r\n')
  await new Promise((r) => c.once('data', r))
  c.destroy()
  await eventually(() => up.conns[0]?.closed === true)
  t.ok(up.conns[0]?.closedByPeer, 'the router closed the upstream connection')
  await eventually(() => rt.router.main.http.stats().open === 0)
  t.same(rt.router.main.http.stats(), { open: 0, idle: 0, busy: 0, queued: 0 })
})

t.test('a client gone while its request waits for a connection: it never reaches the upstream; the pool keeps working', async (t) => {
  const held: Array<() => void> = []
  const { base, up, rt } = await setup(
    t,
    (req, s) => {
      if (req.url === '/hold') held.push(() => s.write(okResponse('held')))
      else s.write(okResponse(`ok ${req.url}`))
    },
    { UPSTREAM_CONNECTIONS: '1' },
  )
  const first = get(`${base}/hold`)
  await eventually(() => up.requests.length === 1)
  const c = connect(rt.router.port(), '127.0.0.1')
  c.on('error', () => undefined)
  c.write('GET /services/raw/queued HTTP/1.1\r\nHost: t\r\n\r\n')
  await eventually(() => rt.router.main.http.stats().queued === 1)
  c.destroy()
  await eventually(() => rt.router.main.http.stats().queued === 0)
  held.forEach((f) => f())
  t.equal((await first).body, 'held')
  t.equal((await get(`${base}/after`)).body, 'ok /after')
  t.same(
    up.requests.map((r) => r.url),
    ['/hold', '/after'],
    'the abandoned request was never sent',
  )
  t.equal(up.conns.length, 1)
})

t.test('close() with an idle and a busy connection closes both', async (t) => {
  const { base, up, rt } = await setup(
    t,
    (req, s) => {
      if (req.url !== '/hang') s.write(okResponse('fast'))
    },
    { UPSTREAM_CONNECTIONS: '2' },
  )
  const hanging = get(`${base}/hang`)
  await eventually(() => up.requests.length === 1)
  t.equal((await get(`${base}/fast`)).body, 'fast')
  t.same(rt.router.main.http.stats(), { open: 2, idle: 1, busy: 1, queued: 0 })
  await rt.router.main.http.close()
  await eventually(() => up.conns.every((c) => c.closed))
  t.not((await hanging).status, 200, 'the busy request did not complete')
})
