// The lean HTTP/1.1 upstream client (router/src/proxy/upstream/client.ts),
// tested against real sockets on 127.0.0.1:0. Most upstreams are raw
// net.Server instances that write exact bytes, so framing, malformed heads,
// stale keep-alive connections and timeouts are under the test's control; the
// server side parses each request strictly and records the raw bytes, so the
// request framing the client sends is checked byte for byte. No mocks.
//
// Conventions: a response is "delivered" when onHead was called once with the
// final head, every body byte reached the sink in order, and end() was called
// on the sink (checked with `writableEnded`, which end() sets synchronously).
// Reuse is judged by how many TCP connections the upstream accepted.
import t, { type Test } from 'tap'
import { createServer as createNetServer, connect, type Socket, type Server as NetServer } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import { Readable, Writable } from 'node:stream'
import { createHash, randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import {
  UpstreamClient,
  UpstreamClientError,
  type UpstreamClientOptions,
  type UpstreamClientErrorCode,
  type UpstreamRequestSpec,
  type UpstreamResponseHead,
} from '../../router/src/proxy/upstream/client.js'
import { ClientAbort } from '../../router/src/proxy/client-abort.js'

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

/** The TCP port a listening server is bound to. */
function portOf(server: NetServer): number {
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('server is not listening on TCP')
  return addr.port
}

/** Polls `cond` until it holds; fails with `what` after `ms` (an upper bound, not a speed claim). */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await sleep(10)
  }
}

/** The rejection of `p`; throws (failing the test) when `p` resolves. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected the request to reject, but it resolved')
}

function errField(err: unknown, key: 'code' | 'name' | 'beforeSend'): unknown {
  if (typeof err !== 'object' || err === null) return undefined
  const v: unknown = Reflect.get(err, key)
  return v
}

function expectClientError(t: Test, err: unknown, code: UpstreamClientErrorCode, beforeSend?: boolean): void {
  t.ok(err instanceof UpstreamClientError, `an UpstreamClientError (got ${String(err)})`)
  t.equal(errField(err, 'code'), code, `code ${code}`)
  if (beforeSend !== undefined) t.equal(errField(err, 'beforeSend'), beforeSend, `beforeSend ${String(beforeSend)}`)
}

const BASE_OPTS: UpstreamClientOptions = {
  connectTimeoutMs: 2000,
  headersTimeoutMs: 5000,
  bodyTimeoutMs: 5000,
  keepAliveTimeoutMs: 10_000,
  connectionsPerOrigin: 4,
}

function mkClient(t: Test, opts: Partial<UpstreamClientOptions> = {}): UpstreamClient {
  const client = new UpstreamClient({ ...BASE_OPTS, ...opts })
  t.teardown(() => client.close())
  return client
}

interface Sink {
  readonly stream: Writable
  readonly chunks: Buffer[]
  text(): string
  bytes(): number
}

function collector(onWrite?: (chunk: Buffer) => void): Sink {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk)
      onWrite?.(chunk)
      cb()
    },
  })
  return {
    stream,
    chunks,
    text: () => Buffer.concat(chunks).toString('latin1'),
    bytes: () => chunks.reduce((n, c) => n + c.length, 0),
  }
}

interface Call {
  readonly heads: UpstreamResponseHead[]
  readonly sink: Sink
  readonly done: Promise<void>
}

type SpecInput = Partial<UpstreamRequestSpec> & { readonly port: number }

/** Starts a request; `done` already has a no-op handler so a later `await` or rejection() is safe. */
function call(client: UpstreamClient, input: SpecInput, sink: Sink = collector()): Call {
  const heads: UpstreamResponseHead[] = []
  const spec: UpstreamRequestSpec = { host: '127.0.0.1', method: 'GET', path: '/', headers: {}, body: null, ...input }
  const done = client.request(spec, (head) => {
    heads.push(head)
    return sink.stream
  })
  done.catch(() => undefined)
  return { heads, sink, done }
}

/** A completed request: asserts one head, the sink ended, and returns status + body. */
async function fetchOk(t: Test, client: UpstreamClient, input: SpecInput): Promise<{ status: number; rawHeaders: readonly string[]; body: string }> {
  const c = call(client, input)
  await c.done
  t.equal(c.heads.length, 1, `onHead called once for ${input.method ?? 'GET'} ${input.path ?? '/'}`)
  t.ok(c.sink.stream.writableEnded, 'end() was called on the sink')
  const head = c.heads[0]
  return { status: head?.status ?? -1, rawHeaders: head?.rawHeaders ?? [], body: c.sink.text() }
}

// --- A raw upstream that parses requests strictly and lets the test write exact bytes.

interface RawConn {
  readonly id: number
  readonly socket: Socket
  closed: boolean
  /** Bytes received after the last complete request (should be 0 between requests). */
  pending: number
  readonly requests: RawRequest[]
}

interface RawRequest {
  readonly conn: RawConn
  /** Index of this request on its connection. */
  readonly index: number
  readonly requestLine: string
  readonly method: string
  readonly path: string
  readonly headerLines: readonly string[]
  readonly fields: ReadonlyArray<readonly [string, string]>
  /** The body bytes exactly as framed on the wire (after the blank line). */
  readonly rawBody: Buffer
  /** The decoded body. */
  readonly body: Buffer
}

interface RawServer {
  readonly port: number
  readonly conns: RawConn[]
  readonly requests: RawRequest[]
  /** Framing errors in what the client sent. */
  readonly errors: string[]
  openConns(): number
  close(): Promise<void>
}

type Responder = (req: RawRequest, socket: Socket) => void

type Parsed =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly reason: string }
  | {
      readonly kind: 'request'
      readonly consumed: number
      readonly requestLine: string
      readonly headerLines: string[]
      readonly fields: Array<readonly [string, string]>
      readonly rawBody: Buffer
      readonly body: Buffer
    }

function values(fields: ReadonlyArray<readonly [string, string]>, name: string): string[] {
  return fields.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v)
}

/** Strict HTTP/1.1 request parser (what the upstream sees). */
function parseRequest(buf: Buffer): Parsed {
  const headEnd = buf.indexOf('\r\n\r\n')
  if (headEnd < 0) return buf.length > 1 << 20 ? { kind: 'error', reason: 'request head too large' } : { kind: 'incomplete' }
  const head = buf.subarray(0, headEnd).toString('latin1')
  const [requestLine = '', ...headerLines] = head.split('\r\n')
  if (!/^[A-Z]+ \S+ HTTP\/1\.1$/.test(requestLine)) return { kind: 'error', reason: `bad request line ${JSON.stringify(requestLine)}` }
  const fields: Array<readonly [string, string]> = []
  for (const line of headerLines) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line)
    if (m === null || m[1] === undefined || m[2] === undefined) return { kind: 'error', reason: `bad header line ${JSON.stringify(line)}` }
    fields.push([m[1], m[2]])
  }
  const cl = values(fields, 'content-length')
  const te = values(fields, 'transfer-encoding')
  let pos = headEnd + 4
  const start = pos
  if (te.length > 0) {
    if (te.length !== 1 || te[0]?.toLowerCase() !== 'chunked' || cl.length > 0) return { kind: 'error', reason: `bad framing te=${te.join(',')} cl=${cl.join(',')}` }
    const parts: Buffer[] = []
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos)
      if (lineEnd < 0) return buf.length - pos > 32 ? { kind: 'error', reason: 'chunk size line too long' } : { kind: 'incomplete' }
      const line = buf.subarray(pos, lineEnd).toString('latin1')
      if (!/^[0-9a-fA-F]{1,8}$/.test(line)) return { kind: 'error', reason: `bad chunk size line ${JSON.stringify(line)}` }
      const size = parseInt(line, 16)
      pos = lineEnd + 2
      if (size === 0) {
        if (buf.length < pos + 2) return { kind: 'incomplete' }
        if (buf[pos] !== 13 || buf[pos + 1] !== 10) return { kind: 'error', reason: 'last chunk not followed by CRLF (trailers?)' }
        pos += 2
        break
      }
      if (buf.length < pos + size + 2) return { kind: 'incomplete' }
      parts.push(buf.subarray(pos, pos + size))
      if (buf[pos + size] !== 13 || buf[pos + size + 1] !== 10) return { kind: 'error', reason: 'chunk data not followed by CRLF' }
      pos += size + 2
    }
    return { kind: 'request', consumed: pos, requestLine, headerLines, fields, rawBody: buf.subarray(start, pos), body: Buffer.concat(parts) }
  }
  if (cl.length > 0) {
    const v = cl[0] ?? ''
    if (cl.length !== 1 || !/^\d+$/.test(v)) return { kind: 'error', reason: `bad content-length ${cl.join(',')}` }
    const n = Number(v)
    if (buf.length < pos + n) return { kind: 'incomplete' }
    const body = buf.subarray(pos, pos + n)
    return { kind: 'request', consumed: pos + n, requestLine, headerLines, fields, rawBody: body, body }
  }
  return { kind: 'request', consumed: pos, requestLine, headerLines, fields, rawBody: Buffer.alloc(0), body: Buffer.alloc(0) }
}

async function startRaw(t: Test, respond: Responder): Promise<RawServer> {
  const conns: RawConn[] = []
  const requests: RawRequest[] = []
  const errors: string[] = []
  const server = createNetServer((socket) => {
    socket.setNoDelay(true)
    const conn: RawConn = { id: conns.length, socket, closed: false, pending: 0, requests: [] }
    conns.push(conn)
    socket.on('close', () => (conn.closed = true))
    socket.on('error', () => undefined)
    let buf: Buffer = Buffer.alloc(0)
    socket.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d])
      for (;;) {
        const r = parseRequest(buf)
        if (r.kind === 'incomplete') break
        if (r.kind === 'error') {
          errors.push(r.reason)
          socket.destroy()
          return
        }
        buf = Buffer.from(buf.subarray(r.consumed))
        const [method = '', path = ''] = r.requestLine.split(' ')
        const req: RawRequest = {
          conn,
          index: conn.requests.length,
          requestLine: r.requestLine,
          method,
          path,
          headerLines: r.headerLines,
          fields: r.fields,
          rawBody: Buffer.from(r.rawBody),
          body: Buffer.from(r.body),
        }
        conn.requests.push(req)
        requests.push(req)
        respond(req, socket)
      }
      conn.pending = buf.length
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = portOf(server)
  const srv: RawServer = {
    port,
    conns,
    requests,
    errors,
    openConns: () => conns.filter((c) => !c.closed).length,
    close: async () => {
      for (const c of conns) c.socket.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
  t.teardown(() => srv.close())
  return srv
}

/** `HTTP/1.1 200 OK` with a Content-Length body. */
function okResponse(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n${extra}\r\n${body}`
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

function conn(srv: RawServer, i: number): RawConn {
  const c = srv.conns[i]
  if (c === undefined) throw new Error(`upstream has no connection #${i} (has ${srv.conns.length})`)
  return c
}

function req(srv: RawServer, i: number): RawRequest {
  const r = srv.requests[i]
  if (r === undefined) throw new Error(`upstream has no request #${i} (has ${srv.requests.length})`)
  return r
}

/** A port with nothing listening: bind, note the port, close. */
async function deadPort(): Promise<number> {
  const s = createNetServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = portOf(s)
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

// ---------------------------------------------------------------------------
// Response framing
// ---------------------------------------------------------------------------

t.test('Content-Length body: head exactly as received, body delivered, sink ended', async (t) => {
  const srv = await startRaw(t, (_req, s) => {
    s.write('HTTP/1.1 201 Created\r\nContent-Length: 11\r\nX-Foo: a\r\nx-foo: b\r\nSet-Cookie: c=1\r\nSet-Cookie: d=2\r\n\r\nhello world')
  })
  const client = mkClient(t)
  const r = await fetchOk(t, client, { port: srv.port })
  t.equal(r.status, 201)
  t.same(r.rawHeaders, ['Content-Length', '11', 'X-Foo', 'a', 'x-foo', 'b', 'Set-Cookie', 'c=1', 'Set-Cookie', 'd=2'])
  t.equal(r.body, 'hello world')
  t.same(srv.errors, [])
})

t.test('Content-Length: 0 and an empty reason phrase: empty body, connection reused', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.index === 0) s.write('HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n')
    else s.write(okResponse('second'))
  })
  const client = mkClient(t)
  const a = await fetchOk(t, client, { port: srv.port })
  t.equal(a.status, 200)
  t.equal(a.body, '')
  const b = await fetchOk(t, client, { port: srv.port })
  t.equal(b.body, 'second')
  t.equal(srv.conns.length, 1, 'one TCP connection for both')
})

t.test('header values lose surrounding whitespace; empty values are kept', async (t) => {
  const srv = await startRaw(t, (_req, s) => {
    s.write('HTTP/1.1 200 OK\r\nX-Pad:   v w  \r\nX-Tab:\tx\t\r\nX-Empty:\r\nContent-Length: 2\r\n\r\nok')
  })
  const client = mkClient(t)
  const r = await fetchOk(t, client, { port: srv.port })
  t.same(r.rawHeaders, ['X-Pad', 'v w', 'X-Tab', 'x', 'X-Empty', '', 'Content-Length', '2'])
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

t.test('chunked body with extensions, upper-case/zero-padded sizes and trailers: decoded, trailers dropped, connection reused', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.index === 0) s.write(CHUNKED_RESPONSE)
    else s.write(okResponse('after'))
  })
  const client = mkClient(t)
  const r = await fetchOk(t, client, { port: srv.port })
  t.equal(r.status, 200)
  t.same(r.rawHeaders, ['Transfer-Encoding', 'chunked', 'X-Kind', 'chunked'], 'framing header kept, trailers not in the head')
  t.equal(r.body, CHUNKED_BODY)
  // If the trailer section was not fully consumed, the next response on this connection would be misparsed.
  const next = await fetchOk(t, client, { port: srv.port })
  t.equal(next.body, 'after')
  t.equal(srv.conns.length, 1, 'the connection was reused after the trailers')
})

t.test('the same chunked response delivered one byte per write decodes identically', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.path === '/whole') s.write(CHUNKED_RESPONSE)
    else void dribble(s, CHUNKED_RESPONSE, 1)
  })
  const client = mkClient(t)
  const whole = await fetchOk(t, client, { port: srv.port, path: '/whole' })
  const byByte = await fetchOk(t, client, { port: srv.port, path: '/dribble' })
  const byByteAgain = await fetchOk(t, client, { port: srv.port, path: '/dribble' })
  t.equal(whole.body, CHUNKED_BODY)
  t.same(byByte, whole, 'byte-by-byte delivery gives the same status, head and body')
  t.same(byByteAgain, whole, 'and again on the reused connection')
  t.equal(srv.conns.length, 1)
})

t.test('a Content-Length response delivered one byte per write', async (t) => {
  const resp = okResponse('the quick brown fox', 'X-A: 1\r\n')
  const srv = await startRaw(t, (_req, s) => void dribble(s, resp, 1))
  const client = mkClient(t)
  const a = await fetchOk(t, client, { port: srv.port })
  const b = await fetchOk(t, client, { port: srv.port })
  t.same(a.rawHeaders, ['Content-Length', '19', 'X-A', '1'])
  t.equal(a.body, 'the quick brown fox')
  t.same(b, a)
  t.equal(srv.conns.length, 1)
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
  const srv = await startRaw(t, (req, s) => {
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
  const client = mkClient(t)
  const c = call(client, { port: srv.port })
  await c.done
  const got = Buffer.concat(c.sink.chunks)
  t.equal(got.length, payload.length, 'length')
  t.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(payload).digest('hex'), 'content')
  t.equal((await fetchOk(t, client, { port: srv.port })).body, 'next')
  t.equal(srv.conns.length, 1)
})

t.test('close-delimited body (no CL/TE): full body delivered, connection not reused', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.conn.id === 0) {
      void (async () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n')
        await sleep(10)
        s.write('part1-')
        await sleep(10)
        s.write('part2-')
        await sleep(10)
        s.end('part3')
      })()
    } else s.write(okResponse('fresh'))
  })
  const client = mkClient(t)
  const r = await fetchOk(t, client, { port: srv.port })
  t.equal(r.status, 200)
  t.same(r.rawHeaders, ['Content-Type', 'text/plain'])
  t.equal(r.body, 'part1-part2-part3')
  await until(() => client.stats().open === 0, 'client drops the closed connection')
  const next = await fetchOk(t, client, { port: srv.port })
  t.equal(next.body, 'fresh')
  t.equal(srv.conns.length, 2, 'a new TCP connection for the next request')
})

t.test('HEAD with Content-Length / Transfer-Encoding: no body expected, connection reused', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.method === 'HEAD' && req.path === '/cl') s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n')
    else if (req.method === 'HEAD') s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')
    else s.write(okResponse('get-body'))
  })
  const client = mkClient(t, { bodyTimeoutMs: 2000 })
  const h1 = await fetchOk(t, client, { port: srv.port, method: 'HEAD', path: '/cl' })
  t.equal(h1.status, 200)
  t.same(h1.rawHeaders, ['Content-Length', '1000'])
  t.equal(h1.body, '')
  const h2 = await fetchOk(t, client, { port: srv.port, method: 'HEAD', path: '/te' })
  t.equal(h2.body, '')
  const g = await fetchOk(t, client, { port: srv.port, method: 'GET', path: '/get' })
  t.equal(g.body, 'get-body', 'the GET after two HEADs reads its own response')
  t.equal(srv.conns.length, 1, 'all three on one connection')
})

t.test('204 and 304 have no body (even with a Content-Length on the 304); connection reused', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.path === '/204') s.write('HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n')
    else if (req.path === '/304') s.write('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 10\r\n\r\n')
    else s.write(okResponse('after'))
  })
  const client = mkClient(t, { bodyTimeoutMs: 2000 })
  const a = await fetchOk(t, client, { port: srv.port, path: '/204' })
  t.equal(a.status, 204)
  t.equal(a.body, '')
  const b = await fetchOk(t, client, { port: srv.port, path: '/304' })
  t.equal(b.status, 304)
  t.same(b.rawHeaders, ['ETag', '"x"', 'Content-Length', '10'])
  t.equal(b.body, '')
  const c = await fetchOk(t, client, { port: srv.port, path: '/after' })
  t.equal(c.body, 'after')
  t.equal(srv.conns.length, 1)
})

t.test('100 Continue and 103 Early Hints before the final 200: onHead once, with the 200', async (t) => {
  const interim = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n'
  const final = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\n\r\nok'
  const srv = await startRaw(t, (req, s) => {
    if (req.index === 0) s.write(interim + final)
    else
      void (async () => {
        // Same thing, in separate writes with pauses.
        s.write('HTTP/1.1 100 Continue\r\n\r\n')
        await sleep(20)
        s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\n')
        await sleep(20)
        s.write(final)
      })()
  })
  const client = mkClient(t)
  const a = await fetchOk(t, client, { port: srv.port })
  t.equal(a.status, 200)
  t.same(a.rawHeaders, ['Content-Length', '2', 'X-Final', 'yes'])
  t.equal(a.body, 'ok')
  const b = await fetchOk(t, client, { port: srv.port })
  t.equal(b.status, 200)
  t.same(b.rawHeaders, ['Content-Length', '2', 'X-Final', 'yes'])
  t.equal(b.body, 'ok')
  t.equal(srv.conns.length, 1)
})

t.test('Transfer-Encoding: chunked with Content-Length: chunked wins, connection not reused', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.conn.id === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n')
    else s.write(okResponse('fresh'))
  })
  const client = mkClient(t)
  const r = await fetchOk(t, client, { port: srv.port })
  t.equal(r.body, 'hello', 'decoded as chunked, not cut at 3 bytes')
  t.same(r.rawHeaders, ['Content-Length', '3', 'Transfer-Encoding', 'chunked'])
  const next = await fetchOk(t, client, { port: srv.port })
  t.equal(next.body, 'fresh')
  t.equal(srv.conns.length, 2, 'the ambiguous connection was not reused')
  await until(() => conn(srv, 0).closed, 'the client closes the ambiguous connection')
})

t.test('two identical Content-Length headers are accepted', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello'))
  const client = mkClient(t)
  const r = await fetchOk(t, client, { port: srv.port })
  t.equal(r.body, 'hello')
  t.same(r.rawHeaders, ['Content-Length', '5', 'Content-Length', '5'])
})

t.test('extra bytes after a complete Content-Length body: first response intact, connection not reused', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.conn.id === 0) s.write(okResponse('hello') + okResponse('evil!'))
    else s.write(okResponse('two'))
  })
  const client = mkClient(t)
  const a = await fetchOk(t, client, { port: srv.port })
  t.equal(a.body, 'hello')
  const b = await fetchOk(t, client, { port: srv.port })
  t.equal(b.body, 'two', 'the unsolicited response is not taken as the answer to the next request')
  t.equal(srv.conns.length, 2)
  await until(() => conn(srv, 0).closed, 'the client closes the polluted connection')
})

t.test('unsolicited bytes on an idle connection: it is discarded, the next request gets its own answer', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.conn.id === 0) {
      s.write(okResponse('hello'))
      setTimeout(() => s.write(okResponse('evil!')), 30)
    } else s.write(okResponse('two'))
  })
  const client = mkClient(t)
  const a = await fetchOk(t, client, { port: srv.port })
  t.equal(a.body, 'hello')
  await sleep(150)
  const b = await fetchOk(t, client, { port: srv.port })
  t.equal(b.body, 'two')
  t.equal(srv.conns.length, 2)
})

// ---------------------------------------------------------------------------
// Premature close
// ---------------------------------------------------------------------------

t.test('upstream closes mid Content-Length body → UPSTREAM_RESET after onHead', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello'))
  const client = mkClient(t)
  const c = call(client, { port: srv.port })
  const err = await rejection(c.done)
  expectClientError(t, err, 'UPSTREAM_RESET', false)
  t.equal(c.heads.length, 1, 'onHead was called')
  await until(() => client.stats().open === 0, 'no connection left open')
})

t.test('upstream closes mid chunked body → UPSTREAM_RESET', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'))
  const client = mkClient(t)
  const c = call(client, { port: srv.port })
  const err = await rejection(c.done)
  expectClientError(t, err, 'UPSTREAM_RESET', false)
  t.equal(c.heads.length, 1)
  await until(() => client.stats().open === 0, 'no connection left open')
})

t.test('upstream closes after reading the request, before any response byte → UPSTREAM_RESET, beforeSend false', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.end())
  const client = mkClient(t)
  const c = call(client, { port: srv.port })
  const err = await rejection(c.done)
  expectClientError(t, err, 'UPSTREAM_RESET', false)
  t.equal(c.heads.length, 0)
  t.equal(srv.requests.length, 1, 'the upstream did receive the request')
})

// ---------------------------------------------------------------------------
// Malformed responses
// ---------------------------------------------------------------------------

const MALFORMED: ReadonlyArray<{ readonly name: string; readonly wire: string; readonly headSeen: boolean; readonly maxHeaderBytes?: number }> = [
  { name: 'status code with letters (2OO)', wire: 'HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n', headSeen: false },
  { name: 'HTTP/2 status line', wire: 'HTTP/2 200\r\nContent-Length: 0\r\n\r\n', headSeen: false },
  { name: 'garbage status line', wire: 'garbage\r\n\r\n', headSeen: false },
  { name: 'two-digit status code', wire: 'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n', headSeen: false },
  { name: 'header line without a colon', wire: 'HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n', headSeen: false },
  { name: 'space before the colon', wire: 'HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 0\r\n\r\n', headSeen: false },
  { name: 'obs-fold continuation line', wire: 'HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n', headSeen: false },
  { name: 'NUL in a header value', wire: 'HTTP/1.1 200 OK\r\nX-A: b\u0000c\r\nContent-Length: 0\r\n\r\n', headSeen: false },
  { name: 'bare CR in a header value', wire: 'HTTP/1.1 200 OK\r\nX-A: b\rc\r\nContent-Length: 0\r\n\r\n', headSeen: false },
  { name: 'two different Content-Length values', wire: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', headSeen: false },
  { name: 'non-numeric Content-Length', wire: 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello', headSeen: false },
  { name: 'negative Content-Length', wire: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello', headSeen: false },
  { name: 'Content-Length with a plus sign', wire: 'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello', headSeen: false },
  { name: 'invalid chunk size (zz)', wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', headSeen: true },
  { name: 'chunk data not followed by CRLF', wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n', headSeen: true },
  {
    name: 'head larger than maxHeaderBytes (1024)',
    wire: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(2000)}\r\nContent-Length: 0\r\n\r\n`,
    headSeen: false,
    maxHeaderBytes: 1024,
  },
  {
    name: 'head larger than the default maxHeaderBytes (65536)',
    wire: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\nContent-Length: 0\r\n\r\n`,
    headSeen: false,
  },
]

for (const tc of MALFORMED) {
  t.test(`malformed response: ${tc.name} → UPSTREAM_PROTOCOL, connection destroyed`, async (t) => {
    const srv = await startRaw(t, (_req, s) => s.write(tc.wire))
    const client = mkClient(t, tc.maxHeaderBytes === undefined ? {} : { maxHeaderBytes: tc.maxHeaderBytes })
    const c = call(client, { port: srv.port })
    const err = await rejection(c.done)
    expectClientError(t, err, 'UPSTREAM_PROTOCOL', false)
    t.equal(c.heads.length, tc.headSeen ? 1 : 0, tc.headSeen ? 'onHead was called (the head was valid)' : 'onHead was not called')
    await until(() => conn(srv, 0).closed, 'the upstream sees its connection closed')
    await until(() => client.stats().open === 0, 'the client keeps no connection open')
  })
}

t.test('a head just under the default maxHeaderBytes is accepted', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(60_000)}\r\nContent-Length: 2\r\n\r\nok`))
  const client = mkClient(t)
  const r = await fetchOk(t, client, { port: srv.port })
  t.equal(r.rawHeaders[1]?.length, 60_000)
  t.equal(r.body, 'ok')
})

t.test('a never-ending head trickled in small writes is cut at maxHeaderBytes (not left to the headers timeout)', async (t) => {
  const srv = await startRaw(t, (_req, s) => {
    s.write('HTTP/1.1 200 OK\r\n')
    const timer = setInterval(() => {
      if (s.destroyed) clearInterval(timer)
      else s.write('X-Filler: 0123456789012345678901234567890123456789\r\n')
    }, 2)
    s.once('close', () => clearInterval(timer))
  })
  const client = mkClient(t, { maxHeaderBytes: 2048, headersTimeoutMs: 30_000 })
  const err = await rejection(call(client, { port: srv.port }).done)
  expectClientError(t, err, 'UPSTREAM_PROTOCOL', false)
  await until(() => conn(srv, 0).closed, 'the upstream sees its connection closed')
})

// ---------------------------------------------------------------------------
// Keep-alive and pooling
// ---------------------------------------------------------------------------

t.test('20 sequential requests share one TCP connection', async (t) => {
  const srv = await startRaw(t, (req, s) => s.write(okResponse(`r${req.index}:${req.path}`)))
  const client = mkClient(t)
  for (let i = 0; i < 20; i++) {
    const r = await fetchOk(t, client, { port: srv.port, path: `/n/${i}` })
    t.equal(r.body, `r${i}:/n/${i}`)
  }
  t.equal(srv.conns.length, 1, 'exactly one TCP connection')
  t.equal(conn(srv, 0).requests.length, 20)
  t.equal(conn(srv, 0).pending, 0, 'no stray request bytes')
  t.same(client.stats(), { open: 1, idle: 1, busy: 0, queued: 0 })
})

t.test('Connection: close in a response → the next request uses a new connection', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.conn.id === 0) {
      // Says close and closes.
      s.end(okResponse('first', 'Connection: close\r\n'))
    } else if (req.conn.id === 1) {
      // Says close (odd case, in a list) but leaves the socket open: the client must still not reuse it.
      s.write(okResponse('second', 'Connection: keep-alive, Close\r\n'))
    } else s.write(okResponse('third'))
  })
  const client = mkClient(t)
  const a = await fetchOk(t, client, { port: srv.port })
  t.equal(a.body, 'first', 'a response followed at once by the close resolves normally')
  const b = await fetchOk(t, client, { port: srv.port })
  t.equal(b.body, 'second')
  const c = await fetchOk(t, client, { port: srv.port })
  t.equal(c.body, 'third')
  t.equal(srv.conns.length, 3, 'a new connection after each Connection: close')
  await until(() => conn(srv, 1).closed, 'the client closes the connection it was told to close')
})

t.test('HTTP/1.0 response → connection not reused', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.conn.id === 0) s.write('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok')
    else s.write(okResponse('fresh'))
  })
  const client = mkClient(t)
  const a = await fetchOk(t, client, { port: srv.port })
  t.equal(a.status, 200)
  t.equal(a.body, 'ok')
  const b = await fetchOk(t, client, { port: srv.port })
  t.equal(b.body, 'fresh')
  t.equal(srv.conns.length, 2)
  await until(() => conn(srv, 0).closed, 'the client closes the HTTP/1.0 connection')
})

t.test('connectionsPerOrigin 1 with 5 concurrent requests: one connection, one outstanding at a time, FIFO', async (t) => {
  let outstanding = 0
  let maxOutstanding = 0
  const srv = await startRaw(t, (req, s) => {
    outstanding++
    maxOutstanding = Math.max(maxOutstanding, outstanding)
    setTimeout(() => {
      outstanding--
      s.write(okResponse(`body of ${req.path}`))
    }, 40)
  })
  const client = mkClient(t, { connectionsPerOrigin: 1 })
  const calls = [0, 1, 2, 3, 4].map((i) => call(client, { port: srv.port, path: `/${i}` }))
  await until(() => srv.requests.length === 1, 'the first request reaches the upstream')
  t.same(client.stats(), { open: 1, idle: 0, busy: 1, queued: 4 }, 'one busy connection, four queued')
  await Promise.all(calls.map((c) => c.done))
  calls.forEach((c, i) => t.equal(c.sink.text(), `body of /${i}`, `request ${i} got its own body`))
  t.equal(srv.conns.length, 1, 'one TCP connection')
  t.equal(maxOutstanding, 1, 'never more than one request outstanding at the upstream')
  t.same(
    srv.requests.map((r) => r.path),
    ['/0', '/1', '/2', '/3', '/4'],
    'queued requests are served in arrival order',
  )
  t.same(client.stats(), { open: 1, idle: 1, busy: 0, queued: 0 })
})

t.test('200 concurrent requests on a Node http upstream with connectionsPerOrigin 16', async (t) => {
  let accepted = 0
  let open = 0
  let maxOpenAtServer = 0
  const server = createHttpServer((req, res) => {
    setTimeout(() => {
      const body = `echo ${req.url ?? ''}`
      res.writeHead(200, { 'content-length': Buffer.byteLength(body), 'x-url': req.url ?? '' })
      res.end(body)
    }, Math.floor(Math.random() * 5))
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
  const port = portOf(server)
  const client = mkClient(t, { connectionsPerOrigin: 16 })
  let maxOpen = 0
  const sampler = setInterval(() => (maxOpen = Math.max(maxOpen, client.stats().open)), 1)
  const calls = Array.from({ length: 200 }, (_, i) =>
    call(client, { port, path: `/r/${i}` }, collector(() => (maxOpen = Math.max(maxOpen, client.stats().open)))),
  )
  await Promise.all(calls.map((c) => c.done))
  clearInterval(sampler)
  let allOk = true
  calls.forEach((c, i) => {
    if (c.heads.length !== 1 || c.heads[0]?.status !== 200 || c.sink.text() !== `echo /r/${i}` || !c.sink.stream.writableEnded) {
      allOk = false
      t.fail(`request ${i}: heads=${c.heads.length} status=${String(c.heads[0]?.status)} body=${JSON.stringify(c.sink.text())}`)
    }
  })
  t.ok(allOk, 'all 200 got status 200 and their own body')
  t.ok(maxOpen <= 16, `client open connections peaked at ${maxOpen} (≤ 16)`)
  t.ok(accepted <= 16, `upstream accepted ${accepted} connections (≤ 16)`)
  t.ok(maxOpenAtServer <= 16, `upstream saw at most ${maxOpenAtServer} at once`)
  t.equal(client.stats().busy, 0)
  t.equal(client.stats().queued, 0)
})

t.test('stale keep-alive: upstream closes an idle connection → client notices, next GET succeeds on a new one', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    s.write(okResponse(`conn ${req.conn.id}`))
    if (req.conn.id === 0) setTimeout(() => s.end(), 30)
  })
  const client = mkClient(t)
  const a = await fetchOk(t, client, { port: srv.port })
  t.equal(a.body, 'conn 0')
  await until(() => conn(srv, 0).closed, 'the upstream closed its idle connection')
  await until(() => client.stats().open === 0, 'the client notices the close and drops the connection')
  t.same(client.stats(), { open: 0, idle: 0, busy: 0, queued: 0 })
  const b = await fetchOk(t, client, { port: srv.port })
  t.equal(b.body, 'conn 1')
  t.equal(srv.conns.length, 2)
  t.same(client.stats(), { open: 1, idle: 1, busy: 0, queued: 0 })
})

t.test('stale keep-alive race: upstream drops a reused connection on the next request → retried or UPSTREAM_RESET (never a hang or beforeSend true)', async (t) => {
  const srv = await startRaw(t, (req, s) => {
    if (req.index === 0) s.write(okResponse(`conn ${req.conn.id}`))
    else s.destroy()
  })
  const client = mkClient(t)
  const a = await fetchOk(t, client, { port: srv.port })
  t.equal(a.body, 'conn 0')
  const c = call(client, { port: srv.port })
  let err: unknown = null
  try {
    await c.done
  } catch (e) {
    err = e
  }
  if (err === null) {
    t.equal(c.sink.text(), 'conn 1', 'retried on a fresh connection')
    t.equal(srv.conns.length, 2)
  } else {
    t.match(errField(err, 'code'), /^(UPSTREAM_RESET|ECONNRESET|EPIPE)$/, `a reset error (${String(err)})`)
    if (err instanceof UpstreamClientError) t.equal(err.beforeSend, false, 'the request bytes did reach the upstream')
  }
  await until(() => client.stats().busy === 0, 'no busy connection left')
})

t.test('a stale-connection retry respects connectionsPerOrigin (no extra connection for the queue)', async (t) => {
  // connectionsPerOrigin 1: request A completes on conn 0; then B (sent on the
  // idle conn 0) and C (queued) start together. The upstream drops conn 0 on
  // B without answering, so B may be retried on a fresh connection — but the
  // pool must still hold at most one connection, with C waiting its turn.
  let maxClientOpen = 0
  let client: UpstreamClient | undefined
  const srv = await startRaw(t, (r, s) => {
    maxClientOpen = Math.max(maxClientOpen, client?.stats().open ?? 0)
    if (r.conn.id === 0 && r.index > 0) s.destroy()
    else s.write(okResponse(`conn ${r.conn.id} ${r.path}`))
  })
  client = mkClient(t, { connectionsPerOrigin: 1 })
  t.equal((await fetchOk(t, client, { port: srv.port, path: '/a' })).body, 'conn 0 /a')
  const b = call(client, { port: srv.port, path: '/b' })
  const c = call(client, { port: srv.port, path: '/c' })
  let bErr: unknown = null
  try {
    await b.done
  } catch (e) {
    bErr = e
  }
  await c.done
  t.equal(c.sink.text(), 'conn 1 /c', 'C ran on the one replacement connection')
  if (bErr === null) t.equal(b.sink.text(), 'conn 1 /b', 'B was retried on the replacement connection')
  else t.match(errField(bErr, 'code'), /^(UPSTREAM_RESET|ECONNRESET|EPIPE)$/)
  t.ok(maxClientOpen <= 1, `the client never held more than 1 connection (held ${maxClientOpen})`)
  t.equal(srv.conns.length, 2, 'conn 0 and one replacement')
  t.ok(client.stats().open <= 1, `open ${client.stats().open} ≤ 1`)
})

t.test('a POST on a kept-alive connection the upstream drops is not re-sent', async (t) => {
  const srv = await startRaw(t, (r, s) => {
    if (r.conn.id === 0 && r.index > 0) s.destroy()
    else s.write(okResponse(`conn ${r.conn.id}`))
  })
  const client = mkClient(t)
  await fetchOk(t, client, { port: srv.port, path: '/warm' })
  const c = call(client, { port: srv.port, method: 'POST', path: '/pay', headers: { 'content-length': '3' }, body: Readable.from([Buffer.from('abc')]) })
  const err = await rejection(c.done)
  t.match(errField(err, 'code'), /^(UPSTREAM_RESET|ECONNRESET|EPIPE)$/, `a reset error (${String(err)})`)
  if (err instanceof UpstreamClientError) t.equal(err.beforeSend, false)
  await sleep(100)
  t.equal(srv.requests.filter((r) => r.path === '/pay').length, 1, 'the upstream saw the POST exactly once')
})

// ---------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------

t.test('upstream never answers → UPSTREAM_HEADERS_TIMEOUT, connection destroyed', async (t) => {
  const srv = await startRaw(t, () => undefined)
  const client = mkClient(t, { headersTimeoutMs: 200 })
  const c = call(client, { port: srv.port })
  const err = await rejection(c.done)
  expectClientError(t, err, 'UPSTREAM_HEADERS_TIMEOUT', false)
  t.equal(c.heads.length, 0)
  t.equal(srv.requests.length, 1)
  await until(() => conn(srv, 0).closed, 'the upstream sees its connection closed')
  await until(() => client.stats().open === 0, 'the client keeps no connection')
})

t.test('upstream sends part of the head then stalls → UPSTREAM_HEADERS_TIMEOUT', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.write('HTTP/1.1 200 OK\r\nX-A: 1\r\n'))
  const client = mkClient(t, { headersTimeoutMs: 200 })
  const c = call(client, { port: srv.port })
  expectClientError(t, await rejection(c.done), 'UPSTREAM_HEADERS_TIMEOUT', false)
  t.equal(c.heads.length, 0)
  await until(() => conn(srv, 0).closed, 'the upstream sees its connection closed')
})

t.test('head + part of a Content-Length body then a stall → UPSTREAM_BODY_TIMEOUT after onHead', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel'))
  const client = mkClient(t, { bodyTimeoutMs: 200 })
  const c = call(client, { port: srv.port })
  const err = await rejection(c.done)
  expectClientError(t, err, 'UPSTREAM_BODY_TIMEOUT', false)
  t.equal(c.heads.length, 1, 'onHead was called')
  t.equal(c.sink.text(), 'hel', 'the partial body reached the sink')
  await until(() => conn(srv, 0).closed, 'the upstream sees its connection closed')
  await until(() => client.stats().open === 0, 'the client keeps no connection')
})

t.test('the body timeout is a gap limit, not a total: a slow but steady body completes', async (t) => {
  const pieces = ['aa', 'bb', 'cc', 'dd', 'ee', 'ff', 'gg', 'hh']
  const srv = await startRaw(t, (_req, s) => {
    void (async () => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${pieces.join('').length}\r\n\r\n`)
      for (const p of pieces) {
        await sleep(60)
        s.write(p)
      }
    })()
  })
  // ~480 ms in total, 60 ms gaps; both timeouts shorter than the total.
  const client = mkClient(t, { bodyTimeoutMs: 400, headersTimeoutMs: 300 })
  const r = await fetchOk(t, client, { port: srv.port })
  t.equal(r.body, pieces.join(''))
})

t.test('a slow sink is not an upstream stall: backpressure pauses the body timeout', async (t) => {
  // The upstream sends the whole 256 KiB body at once; the sink holds its
  // first write for 700 ms, so the client pauses reading (backpressure). No
  // byte is outstanding at the upstream's side of the exchange, so this must
  // not end as UPSTREAM_BODY_TIMEOUT (undici likewise does not fire its body
  // timeout while paused by the consumer).
  const SIZE = 256 * 1024
  const payload = randomBytes(SIZE)
  const srv = await startRaw(t, (_req, s) => {
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${SIZE}\r\n\r\n`)
    s.write(payload)
  })
  const client = mkClient(t, { bodyTimeoutMs: 200 })
  const chunks: Buffer[] = []
  let first = true
  const slow = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk)
      if (first) {
        first = false
        setTimeout(cb, 700)
      } else cb()
    },
  })
  await client.request({ host: '127.0.0.1', port: srv.port, method: 'GET', path: '/', headers: {}, body: null }, () => slow)
  t.ok(slow.writableEnded)
  t.ok(Buffer.concat(chunks).equals(payload), 'the whole body arrived')
})

t.test('bodyTimeoutMs 0 disables the body timeout', async (t) => {
  const srv = await startRaw(t, (_req, s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab')
    setTimeout(() => s.write('cd'), 400)
  })
  const client = mkClient(t, { bodyTimeoutMs: 0 })
  const r = await fetchOk(t, client, { port: srv.port })
  t.equal(r.body, 'abcd')
})

t.test('an idle connection older than keepAliveTimeoutMs is closed by the client; before that it is reused', async (t) => {
  const srv = await startRaw(t, (req, s) => s.write(okResponse(`n${req.index}`)))
  const client = mkClient(t, { keepAliveTimeoutMs: 250 })
  // Requests 100 ms apart keep the connection alive (the idle timer restarts each time).
  for (let i = 0; i < 5; i++) {
    t.equal((await fetchOk(t, client, { port: srv.port })).body, `n${i}`)
    if (i < 4) await sleep(100)
  }
  t.equal(srv.conns.length, 1, 'reused while younger than the keep-alive timeout')
  t.equal(conn(srv, 0).closed, false)
  await until(() => conn(srv, 0).closed, 'the upstream sees the idle connection closed by the client')
  await until(() => client.stats().open === 0, 'the client no longer counts it')
  t.same(client.stats(), { open: 0, idle: 0, busy: 0, queued: 0 })
})

t.test('connect timeout (a listener whose accept queue is full) → UPSTREAM_CONNECT_TIMEOUT, beforeSend true', async (t) => {
  // Node accepts every connection, so the non-accepting listener is a python3
  // socket with listen(0); one filler connection fills its accept queue and
  // further SYNs are dropped, leaving connect() pending.
  const py = spawn('python3', [
    '-c',
    "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)",
  ])
  t.teardown(() => void py.kill('SIGKILL'))
  const port = await new Promise<number | null>((resolve) => {
    py.once('error', () => resolve(null))
    py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())))
    setTimeout(() => resolve(null), 5000)
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
  const client = mkClient(t, { connectTimeoutMs: 200 })
  const c = call(client, { port })
  expectClientError(t, await rejection(c.done), 'UPSTREAM_CONNECT_TIMEOUT', true)
  t.equal(c.heads.length, 0)
  await until(() => client.stats().open === 0, 'the client keeps no connection')
})

// ---------------------------------------------------------------------------
// Connect failure
// ---------------------------------------------------------------------------

t.test('nothing listening → rejects with ECONNREFUSED (never throws synchronously)', async (t) => {
  const port = await deadPort()
  const client = mkClient(t)
  let c: Call | undefined
  t.doesNotThrow(() => {
    c = call(client, { port })
  }, 'request() does not throw synchronously')
  if (c === undefined) return
  const err = await rejection(c.done)
  t.equal(errField(err, 'code'), 'ECONNREFUSED')
  t.equal(c.heads.length, 0)
  await until(() => client.stats().open === 0, 'no connection kept')
  t.same(client.stats(), { open: 0, idle: 0, busy: 0, queued: 0 })
})

// ---------------------------------------------------------------------------
// Requests as the upstream receives them
// ---------------------------------------------------------------------------

function lines(r: RawRequest, name: string): string[] {
  return values(r.fields, name)
}

t.test('GET with body null: request line, host added, no body framing headers', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.write(okResponse('ok')))
  const client = mkClient(t)
  await fetchOk(t, client, { port: srv.port, method: 'GET', path: '/a/b?c=1&d=%20', headers: { 'x-one': '1', accept: 'text/plain' } })
  const r = req(srv, 0)
  t.equal(r.requestLine, 'GET /a/b?c=1&d=%20 HTTP/1.1')
  t.same(lines(r, 'content-length'), [], 'no Content-Length')
  t.same(lines(r, 'transfer-encoding'), [], 'no Transfer-Encoding')
  t.same(lines(r, 'host'), [`127.0.0.1:${srv.port}`], 'one host header, host:port')
  t.same(lines(r, 'x-one'), ['1'])
  t.same(lines(r, 'accept'), ['text/plain'])
  t.equal(r.rawBody.length, 0)
  t.equal(r.conn.pending, 0, 'nothing after the head')
  t.same(srv.errors, [])
})

t.test('a given host header is kept, not duplicated', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.write(okResponse('ok')))
  const client = mkClient(t)
  await fetchOk(t, client, { port: srv.port, headers: { host: 'example.com' } })
  t.same(lines(req(srv, 0), 'host'), ['example.com'])
})

t.test('array header values are sent as repeated lines, in order', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.write(okResponse('ok')))
  const client = mkClient(t)
  await fetchOk(t, client, { port: srv.port, headers: { 'x-multi': ['a', 'b', 'c'], cookie: 'k=v', 'x-single': ['only'] } })
  const r = req(srv, 0)
  t.same(lines(r, 'x-multi'), ['a', 'b', 'c'])
  t.same(lines(r, 'x-single'), ['only'])
  t.same(lines(r, 'cookie'), ['k=v'])
  t.equal(r.headerLines.filter((l) => /^x-multi:/i.test(l)).length, 3, 'three separate lines')
})

t.test('other methods: DELETE / OPTIONS request lines', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.write(okResponse('ok')))
  const client = mkClient(t)
  await fetchOk(t, client, { port: srv.port, method: 'DELETE', path: '/x/1' })
  await fetchOk(t, client, { port: srv.port, method: 'OPTIONS', path: '*' })
  t.same(
    srv.requests.map((r) => r.requestLine),
    ['DELETE /x/1 HTTP/1.1', 'OPTIONS * HTTP/1.1'],
  )
})

t.test('POST with content-length 11: exactly Content-Length: 11 and the 11 bytes, no chunking', async (t) => {
  const srv = await startRaw(t, (r, s) => s.write(okResponse(`got ${r.body.length}`)))
  const client = mkClient(t)
  const body = Readable.from([Buffer.from('hello'), Buffer.from(' '), Buffer.from('world')])
  const res = await fetchOk(t, client, { port: srv.port, method: 'POST', path: '/up', headers: { 'content-length': '11', 'content-type': 'text/plain' }, body })
  t.equal(res.body, 'got 11')
  const r = req(srv, 0)
  t.equal(r.requestLine, 'POST /up HTTP/1.1')
  t.same(lines(r, 'content-length'), ['11'])
  t.same(lines(r, 'transfer-encoding'), [])
  t.equal(r.rawBody.toString('latin1'), 'hello world', 'raw body bytes are exactly the payload')
  t.equal(r.conn.pending, 0, 'no bytes beyond the 11')
  t.same(srv.errors, [])
})

t.test('POST without content-length: Transfer-Encoding: chunked, correct framing, ends with 0\\r\\n\\r\\n', async (t) => {
  const srv = await startRaw(t, (r, s) => s.write(okResponse(`got ${r.body.length}`)))
  const client = mkClient(t)
  // An empty chunk in the middle must not be sent as a premature last-chunk.
  const body = Readable.from([Buffer.from('abc'), Buffer.alloc(0), Buffer.from('defgh'), Buffer.from('ij')])
  const res = await fetchOk(t, client, { port: srv.port, method: 'POST', path: '/up', body })
  t.same(srv.errors, [], 'the upstream parsed the chunked framing strictly')
  t.equal(res.body, 'got 10')
  const r = req(srv, 0)
  t.same(lines(r, 'transfer-encoding'), ['chunked'])
  t.same(lines(r, 'content-length'), [])
  t.equal(r.body.toString('latin1'), 'abcdefghij')
  t.ok(r.rawBody.toString('latin1').endsWith('\r\n0\r\n\r\n'), 'ends with the last-chunk')
  t.equal(r.rawBody.toString('latin1').indexOf('\r\n0\r\n'), r.rawBody.length - 7, 'exactly one last-chunk')
  t.equal(r.conn.pending, 0, 'nothing after the last-chunk')
  // The connection stays usable after a chunked upload.
  await fetchOk(t, client, { port: srv.port })
  t.equal(srv.conns.length, 1)
})

t.test('a 1 MB chunked upload in 100 pieces arrives intact', async (t) => {
  const srv = await startRaw(t, (r, s) => s.write(okResponse(createHash('sha256').update(r.body).digest('hex'))))
  const client = mkClient(t)
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
  const res = await fetchOk(t, client, { port: srv.port, method: 'PUT', body })
  t.same(srv.errors, [])
  t.equal(req(srv, 0).body.length, 1_048_600)
  t.equal(res.body, sent.digest('hex'))
})

// ---------------------------------------------------------------------------
// Backpressure
// ---------------------------------------------------------------------------

/** A gc() when the flag can be turned on at run time (so RSS reflects live memory, not garbage). */
function exposeGc(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc')
    const fn: unknown = runInNewContext('gc')
    if (typeof fn === 'function') return () => void fn()
  } catch {
    // fall through
  }
  return null
}

t.test('a 50 MB response into a slow sink: bytes in order, backpressure honoured, bounded memory', async (t) => {
  // The upstream writes as fast as its socket drains (it honours its own
  // backpressure, so it buffers nothing itself). The sink takes one chunk per
  // timer tick and has a 16 KiB highWaterMark. If the client ignored the
  // sink's backpressure, the body would pile up in the sink's buffer (checked
  // directly) or in the client (caught by RSS). RSS is a loose check:
  // sockets hand out fresh buffers per read, and V8 frees them lazily, so
  // garbage alone can look like tens of MB; gc() is forced before each RSS
  // sample when it can be exposed, so the samples show live memory plus at
  // most a sample period of garbage, and the bound is half the body.
  const SIZE = 50 * 1024 * 1024
  const pieces = Array.from({ length: 17 }, () => randomBytes(65_521))
  const sent = createHash('sha256')
  const srv = await startRaw(t, (r, s) => {
    if (r.path === '/warm') {
      s.write(okResponse('warm'))
      return
    }
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${SIZE}\r\n\r\n`)
    let left = SIZE
    let i = 0
    const pump = (): void => {
      while (left > 0 && !s.destroyed) {
        const p = pieces[i++ % pieces.length] ?? Buffer.alloc(0)
        const part = left >= p.length ? p : p.subarray(0, left)
        left -= part.length
        sent.update(part)
        if (!s.write(part)) {
          s.once('drain', pump)
          return
        }
      }
    }
    pump()
  })
  const client = mkClient(t, { bodyTimeoutMs: 30_000 })
  await fetchOk(t, client, { port: srv.port, path: '/warm' })

  const gc = exposeGc()
  gc?.()
  const baseline = process.memoryUsage.rss()
  let peak = baseline
  // Not more often: a full GC of the test process's heap takes tens of ms.
  const sampler = setInterval(() => {
    gc?.()
    peak = Math.max(peak, process.memoryUsage.rss())
  }, gc === null ? 25 : 250)

  const got = createHash('sha256')
  let received = 0
  let writes = 0
  let maxBuffered = 0
  const sinkStream = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      maxBuffered = Math.max(maxBuffered, this.writableLength)
      got.update(chunk)
      received += chunk.length
      writes++
      setTimeout(cb, 1)
    },
  })
  const heads: UpstreamResponseHead[] = []
  await client.request({ host: '127.0.0.1', port: srv.port, method: 'GET', path: '/big', headers: {}, body: null }, (h) => {
    heads.push(h)
    return sinkStream
  })
  clearInterval(sampler)
  // One more sample at the moment the request resolves: a client that ignored
  // backpressure finishes fast and leaves the body queued in the sink, which
  // the periodic samples alone could miss.
  gc?.()
  peak = Math.max(peak, process.memoryUsage.rss())
  t.equal(heads.length, 1)
  t.ok(sinkStream.writableEnded, 'end() called on the sink')
  t.equal(received, SIZE, 'all bytes arrived')
  t.equal(got.digest('hex'), sent.digest('hex'), 'in order and intact')
  const growth = peak - baseline
  t.comment(`${writes} sink writes, max sink buffer ${(maxBuffered / 1024).toFixed(0)} KiB, RSS growth ${(growth / 1048576).toFixed(1)} MB (gc ${gc === null ? 'not ' : ''}forced)`)
  t.ok(maxBuffered <= 1024 * 1024, `the sink never held more than 1 MiB (held ${maxBuffered} bytes): write() === false is respected`)
  t.ok(growth < SIZE / 2, `RSS grew ${(growth / 1048576).toFixed(1)} MB, well under half the 50 MB body`)
  t.same(client.stats(), { open: 1, idle: 1, busy: 0, queued: 0 }, 'the connection is reusable afterwards')
})

// ---------------------------------------------------------------------------
// Abort
// ---------------------------------------------------------------------------

/** An upstream that sends a 100 MB Content-Length head and then 16 KiB every 10 ms until the socket closes. */
function streamingForever(_req: RawRequest, s: Socket): void {
  s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`)
  const chunk = Buffer.alloc(16 * 1024, 'z')
  const timer = setInterval(() => {
    if (s.destroyed) clearInterval(timer)
    else s.write(chunk)
  }, 10)
  s.once('close', () => clearInterval(timer))
}

t.test('abort after onHead while the body streams → AbortError, upstream socket closed, listener removed', async (t) => {
  const srv = await startRaw(t, streamingForever)
  const client = mkClient(t)
  const signal = new ClientAbort()
  let seen = 0
  const c = call(
    client,
    { port: srv.port, signal },
    collector(() => {
      if (++seen === 2) signal.abort()
    }),
  )
  const err = await rejection(c.done)
  t.equal(errField(err, 'name'), 'AbortError')
  t.equal(c.heads.length, 1, 'onHead had been called')
  await until(() => conn(srv, 0).closed, 'the upstream sees its socket closed')
  await until(() => client.stats().open === 0, 'the client keeps no connection')
  t.equal(signal.listenerCount('abort'), 0, 'no abort listener left on the signal')
})

t.test('abort while waiting for the head → AbortError, upstream socket closed', async (t) => {
  const srv = await startRaw(t, () => undefined)
  const client = mkClient(t)
  const signal = new ClientAbort()
  const c = call(client, { port: srv.port, signal })
  await until(() => srv.requests.length === 1, 'the request reached the upstream')
  signal.abort()
  t.equal(errField(await rejection(c.done), 'name'), 'AbortError')
  t.equal(c.heads.length, 0)
  await until(() => conn(srv, 0).closed, 'the upstream sees its socket closed')
  t.equal(signal.listenerCount('abort'), 0)
})

t.test('a signal already aborted before request() → AbortError and no connection opened', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.write(okResponse('ok')))
  const client = mkClient(t)
  const signal = new ClientAbort()
  signal.abort()
  let c: Call | undefined
  t.doesNotThrow(() => {
    c = call(client, { port: srv.port, signal })
  }, 'request() does not throw synchronously')
  if (c === undefined) return
  t.equal(errField(await rejection(c.done), 'name'), 'AbortError')
  await sleep(100)
  t.equal(srv.conns.length, 0, 'the upstream saw no connection')
  t.same(client.stats(), { open: 0, idle: 0, busy: 0, queued: 0 })
  t.equal(c.heads.length, 0)
})

t.test('abort of a queued request → AbortError, it never reaches the upstream, the pool keeps working', async (t) => {
  const held: Array<() => void> = []
  const srv = await startRaw(t, (r, s) => {
    if (r.path === '/hold') held.push(() => s.write(okResponse('held')))
    else s.write(okResponse(`ok ${r.path}`))
  })
  const client = mkClient(t, { connectionsPerOrigin: 1 })
  const first = call(client, { port: srv.port, path: '/hold' })
  const signal = new ClientAbort()
  const queued = call(client, { port: srv.port, path: '/queued', signal })
  await until(() => srv.requests.length === 1, 'the first request reached the upstream')
  t.equal(client.stats().queued, 1)
  signal.abort()
  t.equal(errField(await rejection(queued.done), 'name'), 'AbortError')
  t.equal(client.stats().queued, 0, 'removed from the queue')
  t.equal(signal.listenerCount('abort'), 0)
  held.forEach((f) => f())
  await first.done
  t.equal(first.sink.text(), 'held')
  const after = await fetchOk(t, client, { port: srv.port, path: '/after' })
  t.equal(after.body, 'ok /after')
  t.same(
    srv.requests.map((r) => r.path),
    ['/hold', '/after'],
    'the aborted request was never sent',
  )
  t.equal(srv.conns.length, 1)
})

t.test('a signal that fires after the request completed changes nothing; its listener was removed', async (t) => {
  const srv = await startRaw(t, (_req, s) => s.write(okResponse('done')))
  const client = mkClient(t)
  const signal = new ClientAbort()
  const r = await fetchOk(t, client, { port: srv.port, signal })
  t.equal(r.body, 'done')
  t.equal(signal.listenerCount('abort'), 0, 'no abort listener left after completion')
  signal.abort()
  await sleep(50)
  t.equal(conn(srv, 0).closed, false, 'the idle connection survives')
  t.same(client.stats(), { open: 1, idle: 1, busy: 0, queued: 0 })
  await fetchOk(t, client, { port: srv.port })
  t.equal(srv.conns.length, 1)
})

// ---------------------------------------------------------------------------
// close()
// ---------------------------------------------------------------------------

t.test('close() with one idle and one busy connection destroys both', async (t) => {
  const srv = await startRaw(t, (r, s) => {
    if (r.path !== '/hang') s.write(okResponse('fast'))
  })
  const client = new UpstreamClient({ ...BASE_OPTS, connectionsPerOrigin: 2 })
  let closed = false
  t.teardown(() => (closed ? undefined : client.close()))
  const busy = call(client, { port: srv.port, path: '/hang' })
  await until(() => srv.requests.length === 1, 'the hanging request reached the upstream')
  t.equal((await fetchOk(t, client, { port: srv.port, path: '/fast' })).body, 'fast')
  t.equal(srv.conns.length, 2, 'the fast request used a second connection')
  t.same(client.stats(), { open: 2, idle: 1, busy: 1, queued: 0 })
  closed = true
  await client.close()
  t.same(client.stats(), { open: 0, idle: 0, busy: 0, queued: 0 })
  const err = await rejection(busy.done)
  t.ok(err instanceof Error, `the busy request rejects (${String(err)})`)
  await until(() => conn(srv, 0).closed && conn(srv, 1).closed, 'the upstream sees both connections closed')
})

t.test('close() rejects a queued request, which never reaches the upstream', async (t) => {
  const srv = await startRaw(t, () => undefined)
  const client = new UpstreamClient({ ...BASE_OPTS, connectionsPerOrigin: 1 })
  let closed = false
  t.teardown(() => (closed ? undefined : client.close()))
  const busy = call(client, { port: srv.port, path: '/hang' })
  const queued = call(client, { port: srv.port, path: '/queued' })
  await until(() => srv.requests.length === 1, 'the first request reached the upstream')
  t.equal(client.stats().queued, 1)
  closed = true
  await client.close()
  t.ok((await rejection(queued.done)) instanceof Error, 'the queued request rejects')
  t.ok((await rejection(busy.done)) instanceof Error, 'the busy request rejects')
  t.same(client.stats(), { open: 0, idle: 0, busy: 0, queued: 0 })
  await sleep(50)
  t.same(
    srv.requests.map((r) => r.path),
    ['/hang'],
  )
  await until(() => conn(srv, 0).closed, 'the upstream sees the connection closed')
})
