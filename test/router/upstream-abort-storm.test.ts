// Many clients giving up at random moments (before the response head, while
// the body streams, between requests) must not leak upstream connections,
// leave requests stuck in the pool, or disturb the clients that stay.
import t from 'tap'
import { createServer } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { request } from 'undici'
import { startRouter, eventually } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { prng } from '../fixtures/prng.js'

t.test('clients aborting at random points leave the pool clean', async (t) => {
  let open = 0
  // /stream: 8 chunks 5 ms apart, then the end. /forever streams until the
  // connection closes and /never sends nothing: only the router cancelling
  // the upstream request on a client abort ends those.
  const up = createServer((req, res) => {
    open++
    res.on('close', () => open--)
    if (req.url === '/never') return
    res.writeHead(200, { 'content-type': 'text/plain' })
    let n = 0
    const tick = (): void => {
      if (res.destroyed) return
      if (req.url === '/stream' && n === 8) {
        res.end('done')
        return
      }
      n++
      res.write(`chunk-${n};`)
      setTimeout(tick, 5)
    }
    tick()
  })
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => {
    up.closeAllConnections()
    up.close()
  })
  const file = staticDiscoveryFile({ storm: [{ id: 'a', port: (up.address() as AddressInfo).port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, UPSTREAM_CONNECTIONS: '16', ACCESS_LOG: 'false' })
  t.teardown(() => rt.close())
  const port = rt.router.port()
  const rand = prng(20261122)

  // 300 raw clients, 40 at a time; each destroys its socket after a random delay (0–60 ms).
  let aborted = 0
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const s = connect(port, '127.0.0.1')
      const path = i % 3 === 0 ? '/never' : '/forever'
      s.on('error', () => {})
      s.on('close', () => resolve())
      s.write(`GET /services/storm${path} HTTP/1.1\r\nHost: t\r\n\r\n`)
      setTimeout(() => {
        aborted++
        s.destroy()
      }, Math.floor(rand() * 60))
    })
  // Meanwhile well-behaved clients must all get complete answers.
  const good: Array<Promise<string>> = []
  for (let batch = 0; batch < 300; batch += 40) {
    const wave: Array<Promise<void>> = []
    for (let i = batch; i < Math.min(300, batch + 40); i++) wave.push(one(i))
    good.push(request(`${rt.url}/services/storm/stream`).then((r) => r.body.text()))
    await Promise.all(wave)
  }
  t.equal(aborted, 300)
  const bodies = await Promise.all(good)
  t.same(new Set(bodies), new Set(['chunk-1;chunk-2;chunk-3;chunk-4;chunk-5;chunk-6;chunk-7;chunk-8;done']), 'every patient client got the whole body')

  // Every aborted exchange closed its upstream request (they never end otherwise); nothing busy or queued remains.
  await eventually(() => open === 0)
  t.equal(open, 0, 'the upstream sees no request left open')
  await eventually(() => rt.router.main.http.stats().busy === 0)
  const stats = rt.router.main.http.stats()
  t.equal(stats.busy, 0, 'no connection left busy')
  t.equal(stats.queued, 0, 'nothing left queued')
  t.ok(stats.open <= 16, `open connections within UPSTREAM_CONNECTIONS (${stats.open})`)

  const after = await request(`${rt.url}/services/storm/stream`)
  t.equal(after.statusCode, 200)
  t.equal(await after.body.text(), 'chunk-1;chunk-2;chunk-3;chunk-4;chunk-5;chunk-6;chunk-7;chunk-8;done', 'the router still serves normally')
})
