// A misbehaving upstream, seen through the router: malformed heads become a
// 502 JSON error, a stalled upstream a 504, a body cut short a cut client
// connection — and in every case the next request to the same upstream gets
// its own, correct answer (no connection left mid-response in the pool, no
// smuggled second response served to another client).
import t from 'tap'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { request } from 'undici'
import { startRouter } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'

/** What the raw upstream writes for each path; connections are kept alive unless the script closes them. */
const SCRIPTS: Record<string, (s: Socket) => void> = {
  '/ok': (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ngenuine!'),
  '/bad-header': (s) => s.write('HTTP/1.1 200 OK\r\nBad Header Line\r\nContent-Length: 2\r\n\r\nno'),
  '/obs-fold': (s) => s.write('HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 2\r\n\r\nno'),
  '/two-lengths': (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\nno'),
  // A second, unsolicited response right behind the first: it must never reach anyone.
  '/smuggle': (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled'),
  '/chunked': (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n'),
  '/chunked-and-length': (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 999\r\n\r\n5\r\nhello\r\n0\r\n\r\n'),
  '/cut': (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b')
    setTimeout(() => s.destroy(), 20)
  },
  '/silent': () => {},
}

interface Upstream {
  port: number
  connections: number
}

async function startRawUpstream(t: { teardown(fn: () => Promise<void>): void }): Promise<Upstream> {
  const state = { port: 0, connections: 0 }
  const server = createServer((s) => {
    state.connections++
    let buf = ''
    s.on('error', () => s.destroy())
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1')
      for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end)
        buf = buf.slice(end + 4)
        const path = head.split(' ')[1] ?? ''
        const script = SCRIPTS[path]
        if (script === undefined) s.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')
        else script(s)
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  state.port = (server.address() as AddressInfo).port
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return state
}

async function get(url: string): Promise<{ status: number; body: string; error?: string }> {
  try {
    const r = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 })
    return { status: r.statusCode, body: await r.body.text() }
  } catch (err) {
    return { status: 0, body: '', error: err instanceof Error ? err.message : String(err) }
  }
}

t.test('misbehaving upstream responses', async (t) => {
  const up = await startRawUpstream(t)
  const file = staticDiscoveryFile({ raw: [{ id: 'a', port: up.port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, UPSTREAM_HEADERS_TIMEOUT_MS: '400', UPSTREAM_CONNECTIONS: '2' })
  t.teardown(() => rt.close())
  const base = `${rt.url}/services/raw`

  const first = await get(`${base}/ok`)
  t.same(first, { status: 200, body: 'genuine!' })

  for (const path of ['/bad-header', '/obs-fold', '/two-lengths']) {
    const r = await get(`${base}${path}`)
    t.equal(r.status, 502, `${path} → 502`)
    t.match(JSON.parse(r.body), { code: 'UPSTREAM_ERROR' }, `${path} → JSON error`)
    t.same(await get(`${base}/ok`), { status: 200, body: 'genuine!' }, `after ${path} the next request gets its own answer`)
  }

  const smuggled = await get(`${base}/smuggle`)
  t.same(smuggled, { status: 200, body: 'ok' }, 'first response delivered as framed')
  for (let i = 0; i < 5; i++) t.same(await get(`${base}/ok`), { status: 200, body: 'genuine!' }, 'the smuggled response reaches nobody')

  // RFC 9112 §6.3: both framings at once may be treated as an error; llhttp (and nginx) do.
  const both = await get(`${base}/chunked-and-length`)
  t.equal(both.status, 502, 'Transfer-Encoding with Content-Length → 502')
  t.same(await get(`${base}/ok`), { status: 200, body: 'genuine!' })
  const chunked = await get(`${base}/chunked`)
  t.same(chunked, { status: 200, body: 'hello world' }, 'chunked body decoded (extensions and trailers dropped)')
  t.same(await get(`${base}/ok`), { status: 200, body: 'genuine!' })

  const cut = await get(`${base}/cut`)
  t.ok(cut.status === 0 || cut.body.length < 100, 'a body cut short is not passed off as complete')
  t.same(await get(`${base}/ok`), { status: 200, body: 'genuine!' }, 'after a cut body')

  const silent = await get(`${base}/silent`)
  t.equal(silent.status, 504, 'no response head in time → 504')
  t.match(JSON.parse(silent.body), { code: 'UPSTREAM_TIMEOUT' })
  t.same(await get(`${base}/ok`), { status: 200, body: 'genuine!' }, 'after a timeout')

  const metrics = await request(`${rt.adminUrl}/metrics`, { headers: { authorization: 'Bearer test-admin-token-0123456789' } })
  const text = await metrics.body.text()
  t.match(text, /router_upstream_errors_total\{route="services",reason="protocol"\} 4/, 'four protocol errors counted')
  t.match(text, /router_upstream_errors_total\{route="services",reason="timeout"\} 1/, 'one timeout counted')
  // Sequential requests reuse the warmest connection; failed ones were closed, none is left busy.
  t.match(text, /router_upstream_connections\{state="idle"\} [12]\n/, 'the pool keeps a kept-alive connection')
  t.match(text, /router_upstream_connections\{state="busy"\} 0\n/, 'nothing left mid-response')
  t.match(text, /router_upstream_connections\{state="queued"\} 0\n/)
})
