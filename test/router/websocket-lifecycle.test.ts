// WebSocket socket hygiene through a router process: a media node killed with
// SIGKILL closes its clients promptly; 1,000 concurrent WebSockets opened and
// closed leave the router's open fd count where it started.
import t from 'tap'
import WebSocket from 'ws'
import { startCloudMap } from '../fixtures/cloudmap.js'
import { eventually } from '../fixtures/router.js'
import { startRouterProcess } from '../fixtures/router-process.js'
import { spawnNode } from '../media-node/fixtures/child.js'
import { startMediaNode } from '../../media-node/src/index.js'

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

t.test('media node killed with SIGKILL → client socket closes promptly', async (t) => {
  const cm = await startCloudMap()
  t.teardown(() => cm.close())
  await cm.service('media')
  const node = spawnNode(t, {
    NODE_ID: 'node-k',
    CLOUDMAP_ENDPOINT: cm.emulator.apiEndpoint,
    AWS_REGION: 'us-east-1',
    ADVERTISE_IPV4: '127.0.0.1',
    HEARTBEAT_INTERVAL_MS: '0',
  })
  await node.line((l) => l.msg === 'media node active', 'node active')
  const rp = await startRouterProcess({ DNS_SERVERS: cm.dnsServer, ACCESS_LOG: 'false' })
  t.teardown(() => rp.stop('SIGKILL'))
  const ws = await open(`ws://127.0.0.1:${rp.port}/media/node-k/ws/s1`)
  const echoed = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())))
  const ws2 = await open(`ws://127.0.0.1:${rp.port}/media/node-k/ws/s1`)
  ws2.send('ping-through')
  t.equal(await echoed, 'ping-through', 'relaying before the kill')
  const closedAt = new Promise<number>((r) => ws.once('close', (code: number) => r(code)))
  node.child.kill('SIGKILL')
  // "Promptly": the kernel resets the node's sockets and the router closes the
  // client side at once — long before any TCP keep-alive (30 s) would notice.
  const code = await Promise.race([closedAt, new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000))])
  t.not(code, 'timeout', 'client socket closed within 10 s of the kill')
  t.equal(code, 1006, 'abnormal closure: no close frame from a killed node')
  ws2.terminate()
})

t.test('1,000 concurrent WebSockets, then all closed → router fd count back to start', async (t) => {
  const cm = await startCloudMap()
  t.teardown(() => cm.close())
  const node = await startMediaNode({ nodeId: 'node-fd', host: '127.0.0.1', port: 0, heartbeatIntervalMs: 0, log: () => undefined })
  t.teardown(() => node.close())
  const media = await cm.service('media')
  await cm.register(media, 'node-fd', node.port)
  const rp = await startRouterProcess({ DNS_SERVERS: cm.dnsServer, ACCESS_LOG: 'false' })
  t.teardown(() => rp.stop('SIGKILL'))
  // One warm-up connection so lazily opened fds (DNS sockets, etc.) exist in the baseline.
  const warm = await open(`ws://127.0.0.1:${rp.port}/media/node-fd/ws/warm`)
  warm.close()
  await eventually(() => node.status().activeConnections === 0)
  const baseline = rp.openFds()

  const N = 1000
  const sockets: WebSocket[] = []
  for (let i = 0; i < N; i += 100) {
    const batch = await Promise.all(Array.from({ length: 100 }, (_, j) => open(`ws://127.0.0.1:${rp.port}/media/node-fd/ws/s${(i + j) % 50}`)))
    sockets.push(...batch)
  }
  await eventually(() => node.status().activeConnections === N, 30_000)
  const during = rp.openFds()
  t.ok(during >= baseline + 2 * N, `router holds two fds per WebSocket (${during - baseline} for ${N})`)
  // Half close from the client side, half from the node side.
  const closes = sockets.map((ws) => new Promise<void>((r) => ws.once('close', () => r())))
  sockets.slice(0, N / 2).forEach((ws) => ws.close(1000))
  node.closeAll(1001, 'bye')
  await Promise.all(closes)
  await eventually(() => rp.openFds() <= baseline, 30_000, 100)
  t.equal(rp.openFds(), baseline, 'no leaked file descriptors')
})
