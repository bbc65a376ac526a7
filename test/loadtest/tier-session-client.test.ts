// The tier's media client against a real router and real media nodes on
// 127.0.0.1 (static discovery): it allocates through /media/allocate, gets its
// echoes, reconnects to the same node after a 1001, and moves to another node
// (a new allocation) when its node refuses with 503 while draining. Waits are
// event-driven; nothing asserts wall-clock time.

import t from 'tap'
import { Agent } from 'undici'
import { startMediaNode, type MediaNode } from '../../media-node/src/index.js'
import { SessionClient, parseAllocation, reconnectDelayMs, type WsEvent } from '../../loadtest/src/tier/session-client.js'
import { eventually, startRouter } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'

t.test('backoff and allocation parsing (pure)', async (t) => {
  for (let attempt = 1; attempt <= 8; attempt++) {
    const base = Math.min(1600, 100 * 2 ** (attempt - 1))
    t.equal(reconnectDelayMs(attempt, () => 0), base / 2)
    t.equal(reconnectDelayMs(attempt, () => 1), base)
  }
  t.same(parseAllocation({ nodeId: 'n1', sessionId: 's', path: '/media/n1/ws/s' }), { nodeId: 'n1', path: '/media/n1/ws/s' })
  t.equal(parseAllocation({ nodeId: 'n1', path: '/elsewhere' }), undefined)
  t.equal(parseAllocation(['n1']), undefined)
  t.equal(parseAllocation(null), undefined)
})

t.test('allocate, echo, reconnect to the same node after 1001, move away from a draining node', async (t) => {
  const nodes: MediaNode[] = []
  for (const nodeId of ['n1', 'n2']) nodes.push(await startMediaNode({ nodeId, host: '127.0.0.1', port: 0, registration: false, closeTimeoutMs: 1000 }))
  t.teardown(async () => {
    for (const n of nodes) await n.close().catch(() => undefined)
  })
  const file = staticDiscoveryFile({ media: nodes.map((n) => ({ id: n.nodeId, port: n.port })) })
  const router = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, ACCESS_LOG: 'false' })
  t.teardown(() => router.close())
  const dispatcher = new Agent()
  t.teardown(() => dispatcher.close())

  const events: WsEvent[] = []
  const counters = { sent: 0, echoed: 0 }
  const client = new SessionClient({
    baseUrl: router.url,
    client: 7,
    msgRate: 50,
    holdMinMs: 600_000,
    holdMaxMs: 600_000,
    stallMs: 60_000,
    maxReconnectAttempts: 3,
    dispatcher,
    emit: (e) => events.push(e),
    counters,
  })
  const running = client.run()
  const opens = (): Extract<WsEvent, { kind: 'open' }>[] => events.filter((e): e is Extract<WsEvent, { kind: 'open' }> => e.kind === 'open')

  await eventually(() => opens().length === 1 && counters.echoed > 0)
  const first = opens()[0]!
  t.equal(events[0]?.kind, 'alloc', 'the session was allocated through /media/allocate')
  t.equal(first.reconnect, false)
  const node = nodes.find((n) => n.nodeId === first.node)!
  const other = nodes.find((n) => n !== node)!

  node.closeAll(1001, 'Going Away')
  await eventually(() => opens().length === 2)
  const close = events.find((e) => e.kind === 'close')
  t.match(close, { code: 1001, byClient: false, node: first.node })
  t.match(opens()[1], { reconnect: true, sameNode: true, node: first.node }, 'reconnected to the same node')
  const echoed = counters.echoed
  await eventually(() => counters.echoed > echoed)

  // Draining: new upgrades get 503, so after the next 1001 the client cannot come back and allocates elsewhere.
  await node.startDraining()
  node.closeAll(1001, 'Going Away')
  await eventually(() => opens().length === 3)
  t.ok(
    events.some((e) => e.kind === 'refused' && e.status === 503 && e.node === first.node),
    'the draining node refused the reconnect with 503',
  )
  t.match(opens()[2], { reconnect: true, sameNode: false, node: other.nodeId }, 'moved to the other node')

  client.stop()
  await running
  t.match(events.at(-1), { kind: 'close', byClient: true, node: other.nodeId })
})
