// Reading request bodies (router/src/proxy/request-body.ts) on a fake clock:
// the gap and minimum-rate rules as a table, and a real request body through
// a real http server — buffered when small, streamed with what was buffered
// first when long, 408 when it stalls, time held back by backpressure not
// counted against the client.
import t from 'tap'
import { createServer, type IncomingMessage } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import { BodyWatch, RequestBody, bodyVerdict, type BodyLimits, type WatchClock } from '../../router/src/proxy/request-body.js'
import { RouterError } from '../../router/src/errors.js'

const LIMITS = { gapTimeoutMs: 1000, minRate: 500 }

t.test('bodyVerdict: a gap limit, and a minimum rate after one gap of grace', async (t) => {
  const cases: ReadonlyArray<readonly [activeMs: number, idleMs: number, received: number, verdict: string]> = [
    [0, 0, 0, 'ok'],
    [999, 999, 0, 'ok'],
    [1001, 1001, 0, 'gap'],
    [1001, 10, 0, 'slow'],
    [1001, 10, 1, 'ok'],
    [3000, 10, 1000, 'ok'],
    [3001, 10, 1000, 'slow'],
    [60_000, 500, 29_500, 'ok'],
    [60_000, 500, 29_000, 'slow'],
  ]
  for (const [active, idle, received, verdict] of cases) t.equal(bodyVerdict(active, idle, received, LIMITS), verdict, `${received} B in ${active} ms, idle ${idle} ms → ${verdict}`)
  t.equal(bodyVerdict(1e9, 1e9, 0, { gapTimeoutMs: 0, minRate: 0 }), 'ok', 'both off')
  t.equal(bodyVerdict(1e6, 5, 0, { gapTimeoutMs: 0, minRate: 500 }), 'slow', 'rate alone')
})

class FakeClock implements WatchClock {
  #now = 0
  #fns: Array<() => void> = []
  now(): number {
    return this.#now
  }
  setInterval(fn: () => void): unknown {
    this.#fns.push(fn)
    return fn
  }
  clearInterval(h: unknown): void {
    this.#fns = this.#fns.filter((f) => f !== h)
  }
  get running(): boolean {
    return this.#fns.length > 0
  }
  advance(ms: number): void {
    this.#now += ms
    for (const f of [...this.#fns]) f()
  }
}

/** A real http server whose handler hands each request to `fn`; a raw client socket to it. */
async function server(t: { teardown(fn: () => void): void }, fn: (req: IncomingMessage) => void): Promise<Socket> {
  const srv = createServer((req, res) => {
    fn(req)
    res.on('error', () => undefined)
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => {
    srv.closeAllConnections()
    srv.close()
  })
  const c = connect((srv.address() as AddressInfo).port, '127.0.0.1')
  c.on('error', () => undefined)
  t.teardown(() => c.destroy())
  return c
}

function next<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

async function drain(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of r) parts.push(c as Buffer)
  return Buffer.concat(parts)
}

const limits = (over: Partial<BodyLimits> = {}): BodyLimits => ({ maxBodyBytes: 0, bufferBytes: 16, gapTimeoutMs: 1000, minRate: 0, ...over })

t.test('a body within the buffer is read whole before anything else', async (t) => {
  const clock = new FakeClock()
  const got = next<Buffer | Readable>()
  const c = await server(t, (req) => void new RequestBody(req, new BodyWatch(limits(), clock)).body().then(got.resolve))
  c.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123')
  c.write('456789')
  const body = await got.promise
  t.ok(Buffer.isBuffer(body))
  t.equal(body.toString(), '0123456789')
  t.notOk(clock.running, 'nothing left to watch')
})

t.test('a longer body is a stream that starts with what was buffered', async (t) => {
  const got = next<Buffer | Readable>()
  const c = await server(t, (req) => void new RequestBody(req, new BodyWatch(limits(), new FakeClock())).body().then(got.resolve))
  c.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n')
  c.write('14\r\nabcdefghijklmnopqrst\r\n')
  const body = await got.promise
  t.notOk(Buffer.isBuffer(body), 'past 16 bytes: a stream')
  c.write('3\r\nuvw\r\n0\r\n\r\n')
  t.equal((await drain(body as Readable)).toString(), 'abcdefghijklmnopqrstuvw')
})

t.test('a body that stalls → 408 REQUEST_TIMEOUT (before and after streaming started)', async (t) => {
  for (const [name, first] of [
    ['while buffering', '5\r\nabcde\r\n'],
    ['while streaming', '14\r\nabcdefghijklmnopqrst\r\n'],
  ] as const) {
    const clock = new FakeClock()
    const outcome = next<unknown>()
    let stream: Readable | undefined
    const c = await server(t, (req) =>
      new RequestBody(req, new BodyWatch(limits(), clock)).body().then(
        (b) => {
          if (b instanceof Readable) {
            stream = b
            b.on('error', outcome.resolve)
            b.resume()
          }
        },
        outcome.resolve,
      ),
    )
    c.write(`POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${first}`)
    await new Promise((r) => setTimeout(r, 50))
    clock.advance(999)
    clock.advance(2)
    const err = await outcome.promise
    t.ok(err instanceof RouterError && err.statusCode === 408 && err.code === 'REQUEST_TIMEOUT', `${name}: 408`)
    if (name === 'while streaming') t.ok(stream?.destroyed, 'the stream handed to undici is destroyed with the error')
    t.notOk(clock.running)
  }
})

t.test('time the router holds the client back (a full stream nobody reads) is not held against it', async (t) => {
  const clock = new FakeClock()
  const got = next<Buffer | Readable>()
  let failure: () => Error | null = () => null
  const c = await server(t, (req) => {
    const rb = new RequestBody(req, new BodyWatch(limits({ bufferBytes: 0 }), clock))
    failure = () => rb.failure
    void rb.body().then(got.resolve)
  })
  c.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n')
  // More than the stream's 64 KiB: it fills, and reading the client stops.
  const chunk = Buffer.alloc(32 * 1024, 'z')
  for (let i = 0; i < 6; i++) c.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]))
  const body = (await got.promise) as Readable
  await new Promise((r) => setTimeout(r, 100))
  clock.advance(5000)
  t.equal(failure(), null, 'not a gap: the router was the one not reading')
  c.write('0\r\n\r\n')
  t.equal((await drain(body)).length, 6 * chunk.length)
})

t.test('over MAX_BODY_BYTES without a Content-Length → 413', async (t) => {
  const outcome = next<unknown>()
  const c = await server(t, (req) => new RequestBody(req, new BodyWatch(limits({ maxBodyBytes: 8 }), new FakeClock())).body().then(() => outcome.resolve('resolved'), outcome.resolve))
  c.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n0\r\n\r\n')
  const err = await outcome.promise
  t.ok(err instanceof RouterError && err.statusCode === 413)
})
