// Regression (issue 13, item 3): slow request bodies starved a deployment.
// Clients declaring a large Content-Length and trickling a byte at a time
// held every upstream connection (more than UPSTREAM_CONNECTIONS of them), so
// normal GETs to the same deployment queued behind them, and queue timeouts
// counted as connect failures ejected the healthy instance. Now a body is read
// up to REQUEST_BUFFER_BYTES before a connection is taken, must keep coming
// (CLIENT_BODY_GAP_TIMEOUT_MS, CLIENT_BODY_MIN_RATE → 408), and waiting for a
// connection has its own bounded queue (→ 503 UPSTREAM_BUSY) that never counts
// toward ejection.
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { request } from 'undici'
import { startRouter, eventually, ADMIN_TOKEN, type RouterFixture } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { startRawUpstream, okResponse } from '../fixtures/raw-upstream.js'
import { converse } from '../fixtures/raw-client.js'

async function metrics(rt: RouterFixture): Promise<string> {
  return (await request(`${rt.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body.text()
}

t.test('trickling uploads do not stop GETs to the same deployment, and do not eject it', async (t) => {
  const up = await startRawUpstream(t, (req, s) => s.write(okResponse(`ok ${req.method} ${req.url}`)))
  const file = staticDiscoveryFile({ dep: [{ id: 'healthy', port: up.port }] })
  // The shape, scaled down: 4 × more trickling clients than connections.
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, ACCESS_LOG: 'false', UPSTREAM_CONNECTIONS: '8', EJECT_AFTER_FAILURES: '1', CLIENT_BODY_GAP_TIMEOUT_MS: '60000', UPSTREAM_HEADERS_TIMEOUT_MS: '60000' })
  t.teardown(() => rt.close())
  const port = rt.router.port()

  const tricklers: Socket[] = []
  t.teardown(() => tricklers.forEach((s) => s.destroy()))
  for (let i = 0; i < 32; i++) {
    const s = connect(port, '127.0.0.1')
    s.on('error', () => undefined)
    s.write(`POST /services/dep/upload/${i} HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nx`)
    tricklers.push(s)
  }
  const trickle = setInterval(() => tricklers.forEach((s) => s.write('x')), 100)
  t.teardown(() => clearInterval(trickle))
  // Every trickling request has reached the router (each counts as in flight).
  await eventually(() => rt.router.main.inflight === 32)

  // Normal GETs, answered while all 32 uploads are still trickling.
  let answered = 0
  const gets = Array.from({ length: 11 }, (_, i) =>
    request(`${rt.url}/services/dep/get/${i}`).then(async (r) => {
      answered++
      return { status: r.statusCode, body: await r.body.text() }
    }),
  )
  // Upper bound for the failure case only (the GETs stuck behind the uploads); answered in milliseconds otherwise.
  let timer: NodeJS.Timeout | undefined
  const settled = await Promise.race([Promise.all(gets), new Promise<'stuck'>((r) => (timer = setTimeout(() => r('stuck'), 15_000)))])
  clearTimeout(timer)
  t.not(settled, 'stuck', `all GETs answered while the uploads trickle (${answered} of 11)`)
  if (settled !== 'stuck') t.ok(settled.every((g, i) => g.status === 200 && g.body === `ok GET /get/${i}`), 'each with its own answer')
  t.equal(tricklers.filter((s) => s.destroyed).length, 0, 'the uploads were still open')
  t.equal(up.requests.filter((r) => r.method === 'POST').length, 0, 'no trickling upload holds an upstream connection')
  const text = await metrics(rt)
  t.notMatch(text, /router_outlier_ejections_total\{[^}]*\} [1-9]/, 'the healthy instance was not ejected')
  t.notMatch(text, /router_upstream_errors_total\{/, 'nothing counted against it')
  clearInterval(trickle)
  tricklers.forEach((s) => s.destroy())
})

t.test('a body that pauses too long, or trickles below the minimum rate, gets 408 REQUEST_TIMEOUT', async (t) => {
  const up = await startRawUpstream(t, (req, s) => s.write(okResponse(`got ${req.body.length}`)))
  const file = staticDiscoveryFile({ dep: [{ id: 'a', port: up.port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, CLIENT_BODY_GAP_TIMEOUT_MS: '200', CLIENT_BODY_MIN_RATE: '1000', REQUEST_BUFFER_BYTES: '16' })
  t.teardown(() => rt.close())
  const port = rt.router.port()

  // Pauses: a few bytes, then nothing.
  const paused = await converse(port, [{ method: 'POST', text: 'POST /services/dep/p HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc' }], { timeoutMs: 20_000 })
  t.equal(paused.parsed.messages[0]?.status, 408)
  t.match(JSON.parse(paused.parsed.messages[0]?.body.toString() ?? '{}'), { code: 'REQUEST_TIMEOUT' })
  t.ok(paused.closed, 'the connection is closed (the rest of the body will not be read)')

  // Trickles: a byte every 20 ms (50 B/s, gaps far below 200 ms) against a 1000 B/s minimum.
  const s = connect(port, '127.0.0.1')
  s.on('error', () => undefined)
  const got: Buffer[] = []
  s.on('data', (d: Buffer) => got.push(d))
  s.write('POST /services/dep/t HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n')
  const timer = setInterval(() => s.write('x'), 20)
  await new Promise((r) => s.once('close', r))
  clearInterval(timer)
  const text = Buffer.concat(got).toString()
  t.match(text, /^HTTP\/1\.1 408 /)
  t.match(text, /"code":"REQUEST_TIMEOUT"/)
  t.equal(up.requests.length, 0, 'neither reached the upstream (both stayed within the buffer or stalled before it filled)')

  // A steady upload well above the rate goes through.
  const ok = await request(`${rt.url}/services/dep/u`, { method: 'POST', body: 'x'.repeat(5000) })
  t.equal(await ok.body.text(), 'got 5000')
})

t.test('the wait for a connection is bounded: 503 UPSTREAM_BUSY with Retry-After, never an ejection', async (t) => {
  const held: Array<() => void> = []
  const up = await startRawUpstream(t, (req, s) => {
    if (req.url === '/hold') held.push(() => s.write(okResponse('held')))
    else s.write(okResponse('ok'))
  })
  const file = staticDiscoveryFile({ dep: [{ id: 'a', port: up.port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, UPSTREAM_CONNECTIONS: '1', UPSTREAM_QUEUE_MAX: '1', UPSTREAM_QUEUE_TIMEOUT_MS: '300', EJECT_AFTER_FAILURES: '1' })
  t.teardown(() => rt.close())
  const hold = request(`${rt.url}/services/dep/hold`)
  await eventually(() => held.length === 1)
  const waiting = request(`${rt.url}/services/dep/waits`)
  await eventually(() => rt.router.main.http.stats().queued === 1)
  const full = await request(`${rt.url}/services/dep/full`)
  t.equal(full.statusCode, 503, 'the queue is full: at once')
  t.equal(full.headers['retry-after'], '1')
  t.match(JSON.parse(await full.body.text()), { code: 'UPSTREAM_BUSY' })
  const timedOut = await waiting
  t.equal(timedOut.statusCode, 503, 'waited its UPSTREAM_QUEUE_TIMEOUT_MS')
  t.match(JSON.parse(await timedOut.body.text()), { code: 'UPSTREAM_BUSY' })
  held.forEach((f) => f())
  t.equal(await (await hold).body.text(), 'held')
  t.equal(await (await request(`${rt.url}/services/dep/after`)).body.text(), 'ok', 'still served: not ejected')
  const text = await metrics(rt)
  t.notMatch(text, /router_outlier_ejections_total\{[^}]*\} [1-9]/)
  t.same(
    up.requests.map((r) => r.url),
    ['/hold', '/after'],
    'the turned-away requests never reached the upstream',
  )
})
