// Draining, end to end. A child-process node registered in the local Cloud
// Map emulator holds 200 live sockets and is drained through POST
// /admin/drain: /status and Cloud Map say DRAINING (attribute + custom health
// UNHEALTHY), no new socket is accepted (503 + Retry-After), every existing
// socket keeps relaying until its client closes it, and only then does the
// node deregister and exit 0. With a short drain timeout the remaining
// sockets get 1001 "Going Away"; force-close sends 1001 at once.

import t from 'tap'
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery'
import type { HttpInstanceSummary, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery'
import { WebSocket } from 'ws'
import { startEmulator } from '../../infra/local/src/emulator/index.js'
import { emulatorClient, ensurePrivateDnsNamespace, ensureService } from '../../infra/local/src/emulator/sdk-setup.js'
import { spawnNode } from './fixtures/child.js'
import { startSwitchProxy } from './fixtures/switch-proxy.js'
import { closed, collect, getJson, openClient, parseResponse, rawExchange, startTestNode, upgradeRequest, waitFor } from './helpers.js'
import type { Message } from './helpers.js'

const TOKEN = 'drain-test-token-0123456789'
const SESSIONS = 100 // two sockets each: 200 in all

async function cloudWithCustomHealth(t: { teardown(fn: () => unknown): void }) {
  const emulator = await startEmulator({ log: () => {} })
  t.teardown(() => emulator.close())
  const client = emulatorClient(emulator.apiEndpoint)
  t.teardown(() => client.destroy())
  const namespaceId = await ensurePrivateDnsNamespace(client, 'ecs.internal')
  const serviceId = await ensureService(client, { namespaceId, name: 'media', records: [{ type: 'SRV', ttl: 10 }], customHealth: true })
  return { emulator, client, serviceId }
}

async function discover(client: ServiceDiscoveryClient, healthStatus: 'ALL' | 'HEALTHY'): Promise<HttpInstanceSummary[]> {
  const out = await client.send(new DiscoverInstancesCommand({ NamespaceName: 'ecs.internal', ServiceName: 'media', HealthStatus: healthStatus }))
  return out.Instances ?? []
}

async function post(port: number, path: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
  return { status: res.status, body: await res.json() }
}

interface Pair {
  a: WebSocket
  b: WebSocket
  atA: Message[]
  atB: Message[]
}

/** Sends one message each way through every pair and waits for all of them. */
async function relayRound(pairs: Pair[], round: string): Promise<void> {
  const before = pairs.map((p) => ({ a: p.atA.length, b: p.atB.length }))
  pairs.forEach((p, i) => {
    p.a.send(`${round}-a-${i}`)
    p.b.send(`${round}-b-${i}`)
  })
  await waitFor(() => pairs.every((p, i) => p.atB.length === (before[i]?.b ?? 0) + 1 && p.atA.length === (before[i]?.a ?? 0) + 1), `relay round ${round}`)
  pairs.forEach((p, i) => {
    if (p.atB.at(-1)?.data.toString() !== `${round}-a-${i}` || p.atA.at(-1)?.data.toString() !== `${round}-b-${i}`) {
      throw new Error(`pair ${i} got the wrong message in round ${round}`)
    }
  })
}

t.test('200 live sockets drained: no new socket, every socket relays until its client closes it, then deregister and exit 0', async (t) => {
  const cloud = await cloudWithCustomHealth(t)
  const proc = spawnNode(t, {
    NODE_ID: 'drain-200',
    ADVERTISE_IPV4: '127.0.0.1',
    CLOUDMAP_ENDPOINT: cloud.emulator.apiEndpoint,
    CLOUDMAP_SERVICE_ID: cloud.serviceId,
    ADMIN_TOKEN: TOKEN,
    DRAIN_POLL_MS: '20',
    RETRY_AFTER_SECONDS: '9',
    HEARTBEAT_INTERVAL_MS: '0',
  })
  const port = Number((await proc.line((l) => l['msg'] === 'media node listening', 'listening'))['port'])
  const adminPort = Number((await proc.line((l) => l['msg'] === 'admin listening', 'admin listening'))['port'])
  await proc.line((l) => l['msg'] === 'media node active', 'registered')
  t.match(await discover(cloud.client, 'HEALTHY'), [{ InstanceId: 'drain-200', Attributes: { status: 'ACTIVE' } }])

  const pairs: Pair[] = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, i) => {
      const a = await openClient(t, `ws://127.0.0.1:${port}/ws/s-${i}`)
      const b = await openClient(t, `ws://127.0.0.1:${port}/ws/s-${i}`)
      return { a, b, atA: collect(a), atB: collect(b) }
    }),
  )
  const closes = pairs.flatMap((p) => [closed(p.a), closed(p.b)])
  await relayRound(pairs, 'before')
  t.match((await getJson(adminPort, '/status')).body, { status: 'ACTIVE', activeConnections: 2 * SESSIONS })

  const drained = await post(adminPort, '/admin/drain', TOKEN)
  t.equal(drained.status, 202)
  t.match(drained.body, { status: 'DRAINING', activeConnections: 2 * SESSIONS, drain: { timeoutMs: 7_200_000, closing: false } })
  t.match((await getJson(port, '/status')).body, { status: 'DRAINING' }, '/status on the main port too')
  t.equal((await post(adminPort, '/admin/drain', TOKEN)).status, 202, 'drain again: idempotent')

  // Cloud Map: status=DRAINING for API discovery, UNHEALTHY so DNS answers (HEALTHY filter) drop it.
  await waitFor(() => proc.lines.some((l) => l['msg'] === 'Cloud Map custom health reported' && l['status'] === 'UNHEALTHY'), 'UNHEALTHY reported')
  t.match(await discover(cloud.client, 'ALL'), [{ InstanceId: 'drain-200', HealthStatus: 'UNHEALTHY', Attributes: { status: 'DRAINING', AWS_INSTANCE_PORT: String(port) } }])
  t.same(await discover(cloud.client, 'HEALTHY'), [], 'not among the healthy instances')

  const refused = parseResponse((await rawExchange(port, upgradeRequest('/ws/s-0'))).response)
  t.match(refused.statusLine, /^HTTP\/1\.1 503 Service Unavailable$/, 'new socket refused')
  t.equal(refused.headers['retry-after'], '9')
  t.match(JSON.parse(refused.body), { code: 'NODE_UNAVAILABLE' })
  const late = new WebSocket(`ws://127.0.0.1:${port}/media/drain-200/ws/late`)
  const lateStatus = await new Promise<number>((resolve, reject) => {
    late.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    late.once('open', () => reject(new Error('a socket was accepted while draining')))
    late.once('error', () => {})
  })
  t.equal(lateStatus, 503, 'a ws client is refused with 503 too')

  await relayRound(pairs, 'draining')
  t.pass('all 200 sockets relay while draining')

  // Clients leave in two halves; the node waits for the last one.
  const [first, second] = [pairs.slice(0, SESSIONS / 2), pairs.slice(SESSIONS / 2)]
  for (const p of first) {
    p.a.close(1000, 'done')
    p.b.close(1000, 'done')
  }
  await waitFor(() => first.every((p) => p.a.readyState === WebSocket.CLOSED && p.b.readyState === WebSocket.CLOSED), 'first half closed')
  await relayRound(second, 'half')
  const half = (await getJson(adminPort, '/status')).body
  t.match(half, { status: 'DRAINING', activeConnections: SESSIONS })
  t.equal(proc.child.exitCode, null, 'still running with sockets open')
  t.notOk(proc.lines.some((l) => l['msg'] === 'deregistered from Cloud Map'), 'still registered with sockets open')

  for (const p of second) {
    p.a.close(1000, 'done')
    p.b.close(1000, 'done')
  }
  const { code } = await proc.exited
  t.equal(code, 0, 'exit 0')
  const codes = new Set((await Promise.all(closes)).map((c) => c.code))
  t.same([...codes], [1000], 'every socket was closed by its client; none got 1001')
  t.same(await discover(cloud.client, 'ALL'), [], 'deregistered')
  const msgs = proc.lines.map((l) => l['msg'])
  t.ok(msgs.indexOf('drained: no connections left') < msgs.indexOf('deregistered from Cloud Map'), 'deregistered after the last socket closed')
  t.equal(proc.lines.filter((l) => l['msg'] === 'connection closed').length, 2 * SESSIONS, 'one log line per socket')
})

t.test('short drain timeout: the sockets still open get 1001 "Going Away", then exit 0', async (t) => {
  const proc = spawnNode(t, { CLOUDMAP_REGISTER: 'false', NODE_ID: 'drain-timeout', ADMIN_TOKEN: TOKEN, DRAIN_TIMEOUT_MS: '300', DRAIN_POLL_MS: '20' })
  const port = Number((await proc.line((l) => l['msg'] === 'media node listening', 'listening'))['port'])
  const adminPort = Number((await proc.line((l) => l['msg'] === 'admin listening', 'admin listening'))['port'])
  const sockets = await Promise.all(Array.from({ length: 20 }, (_, i) => openClient(t, `ws://127.0.0.1:${port}/ws/t-${i % 5}`)))
  const closes = sockets.map((ws) => closed(ws))
  t.equal((await post(adminPort, '/admin/drain', TOKEN)).status, 202)
  const results = await Promise.all(closes)
  t.same(new Set(results.map((r) => `${r.code} ${r.reason}`)), new Set(['1001 Going Away']))
  t.equal((await proc.exited).code, 0)
  t.ok(proc.lines.some((l) => l['msg'] === 'drain timeout: closing connections with 1001' && l['activeConnections'] === 20))
})

t.test('POST /admin/force-close: every session gets 1001 now, the node closes', async (t) => {
  const { node, url } = await startTestNode(t, { admin: { port: 0, token: TOKEN }, drainPollMs: 20 })
  const adminPort = node.adminPort ?? 0
  const sockets = await Promise.all(Array.from({ length: 10 }, (_, i) => openClient(t, url(`/ws/f-${i % 3}`))))
  const closes = sockets.map((ws) => closed(ws))
  const res = await post(adminPort, '/admin/force-close', TOKEN)
  t.equal(res.status, 200)
  t.match(res.body, { closed: 10, status: 'DRAINING', drain: { closing: true } })
  const results = await Promise.all(closes)
  t.same(new Set(results.map((r) => `${r.code} ${r.reason}`)), new Set(['1001 Going Away']))
  await node.whenClosed()
  await t.rejects(fetch(`http://127.0.0.1:${adminPort}/status`), 'admin port closed')
  await t.rejects(fetch(`http://127.0.0.1:${node.port}/status`), 'main port closed')
})

t.test('force-close during a drain ends the wait', async (t) => {
  const { node, url, logs } = await startTestNode(t, { drainPollMs: 20 })
  const ws = await openClient(t, url('/ws/wait'))
  const done = closed(ws)
  const draining = node.drain(86_400_000)
  const report = await node.whenDraining()
  t.match(report, { timeoutMs: 86_400_000, closing: false })
  t.equal(ws.readyState, WebSocket.OPEN, 'open while draining')
  t.equal(node.forceClose(), 1)
  t.match(await done, { code: 1001, reason: 'Going Away' })
  await draining
  t.ok(logs.some((l) => l['msg'] === 'force-close: closing connections with 1001'))
})

t.test('hard limit: Cloud Map stops answering mid-drain; 1001 at the drain timeout, exit 1 at drain timeout + SHUTDOWN_TIMEOUT_MS', async (t) => {
  const cloud = await cloudWithCustomHealth(t)
  const proxy = await startSwitchProxy(t, cloud.emulator.apiEndpoint)
  const proc = spawnNode(t, {
    NODE_ID: 'hung-cloud',
    ADVERTISE_IPV4: '127.0.0.1',
    CLOUDMAP_ENDPOINT: `http://127.0.0.1:${proxy.port}`,
    CLOUDMAP_SERVICE_ID: cloud.serviceId,
    DRAIN_TIMEOUT_MS: '200',
    SHUTDOWN_TIMEOUT_MS: '500',
    DRAIN_POLL_MS: '20',
  })
  const port = Number((await proc.line((l) => l['msg'] === 'media node listening', 'listening'))['port'])
  await proc.line((l) => l['msg'] === 'media node active', 'registered')
  const ws = await openClient(t, `ws://127.0.0.1:${port}/ws/hung`)
  const done = closed(ws)
  proxy.blackhole()
  proc.child.kill('SIGTERM')
  t.match(await done, { code: 1001, reason: 'Going Away' }, 'the socket still gets 1001 at the drain timeout')
  t.equal((await proc.exited).code, 1, 'exit 1: the drain could not finish')
  t.ok(proc.lines.some((l) => l['msg'] === 'shutdown timed out, closing everything with 1001'))
  t.notOk(proc.lines.some((l) => l['msg'] === 'deregistered from Cloud Map'))
})
