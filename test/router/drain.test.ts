// Router SIGTERM with in-flight HTTP and live WebSockets: /health is 503 from
// the signal on, the in-flight request completes, WebSocket clients get a
// well-formed close 1001 (and the node a masked one), and the process exits 0.
import t from 'tap'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import WebSocket from 'ws'
import { request } from 'undici'
import { startUpstream } from '../fixtures/upstream.js'
import { startRouterProcess } from '../fixtures/router-process.js'
import { startMediaNode } from '../../media-node/src/index.js'

t.test('SIGTERM drains HTTP and WebSockets, then exits 0', async (t) => {
  const slow = await startUpstream('slow', { delayMs: 1500 })
  const nodeLogs: Array<Record<string, unknown>> = []
  const node = await startMediaNode({ nodeId: 'node-1', host: '127.0.0.1', port: 0, heartbeatIntervalMs: 0, log: (e) => nodeLogs.push(e) })
  t.teardown(async () => {
    await slow.close()
    await node.close()
  })
  const file = staticDiscoveryFile({ dep: [{ id: 'a', port: slow.port }], media: [{ id: 'node-1', port: node.port }] })
  const rp = await startRouterProcess({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, DRAIN_DELAY_MS: '2000', DRAIN_HTTP_TIMEOUT_MS: '5000', DRAIN_TIMEOUT_MS: '3000' })
  t.teardown(() => rp.stop('SIGKILL'))
  const base = `http://127.0.0.1:${rp.port}`
  t.equal((await request(`${base}/health`)).statusCode, 200)

  const clients = await Promise.all(
    [1, 2, 3].map(
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${rp.port}/media/node-1/ws/drain`)
          ws.once('open', () => resolve(ws))
          ws.once('error', reject)
        }),
    ),
  )
  const closes = clients.map((ws) => new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code: number, reason: Buffer) => r({ code, reason: reason.toString() }))))
  const inflight = request(`${base}/services/dep/slow`).then(async (r) => ({ status: r.statusCode, body: await r.body.text() }))
  // SIGTERM only once the request is at the upstream (which holds it 1.5 s).
  while (slow.hits === 0) await new Promise((r) => setTimeout(r, 10))

  rp.child.kill('SIGTERM')
  // Signals arrive asynchronously: wait for the router to say it saw it, then
  // /health must answer 503 on every poll until the listener closes.
  while (!rp.lines.some((l) => l.includes('draining: /health is 503'))) await new Promise((r) => setTimeout(r, 10))
  const healthStatuses: number[] = []
  for (;;) {
    try {
      const h = await request(`${base}/health`, { reset: true })
      await h.body.text()
      healthStatuses.push(h.statusCode)
    } catch {
      break
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  t.ok(healthStatuses.length > 0, `health polled ${healthStatuses.length} times during the delay`)
  t.ok(healthStatuses.every((s) => s === 503), `/health was 503 throughout: ${healthStatuses.join(',')}`)

  // WebSockets keep relaying after the listener closed, until the drain timeout.
  const [a, b] = clients
  if (a === undefined || b === undefined) return
  const got = new Promise<string>((r) => b.once('message', (d: Buffer) => r(d.toString())))
  a.send('during drain')
  t.equal(await got, 'during drain', 'relaying during the drain')

  const done = await inflight
  t.equal(done.status, 200, 'in-flight HTTP completed')
  const results = await Promise.all(closes)
  for (const r of results) t.equal(r.code, 1001, `client got 1001 (${r.reason})`)
  t.equal(await rp.exited, 0, 'exit 0')
  // The node saw a proper (masked) close frame from the router: code 1001, not an abnormal 1006.
  const ends = nodeLogs.filter((l) => 'closeCode' in l)
  t.ok(ends.length >= 3)
  t.ok(ends.every((l) => l.closeCode === 1001), `node-side close codes: ${ends.map((l) => String(l.closeCode)).join(',')}`)
})

t.test('a second SIGTERM ends the drain at once', async (t) => {
  const file = staticDiscoveryFile({})
  const rp = await startRouterProcess({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, DRAIN_DELAY_MS: '600000' })
  t.teardown(() => rp.stop('SIGKILL'))
  rp.child.kill('SIGTERM')
  // Wait until the drain has started (/health flips to 503), then signal again.
  for (;;) {
    const h = await request(`http://127.0.0.1:${rp.port}/health`)
    await h.body.text()
    if (h.statusCode === 503) break
    await new Promise((r) => setTimeout(r, 50))
  }
  rp.child.kill('SIGTERM')
  const code = await Promise.race([rp.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))])
  t.equal(code, 1, 'exited at once (non-zero: the drain was cut short)')
})
