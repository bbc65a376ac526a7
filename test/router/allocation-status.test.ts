// GET /media/allocate reads nodes' /status through a stale-while-revalidate
// cache. Regression (found by `npm run tier` on a loaded machine): every
// allocation waited for every sampled node's /status within 1 s, so when the
// nodes were slow to answer, allocation answered 503 NO_HEALTHY_ENDPOINT
// although every node was fine. Now a warmed allocation never waits for a
// node; a node that refuses connections is dropped at once; sessions handed
// out since a node's last answer count towards its load.

import t from 'tap'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { NodeStatusCache, type NodeStatus } from '../../router/src/allocation/status-cache.js'
import type { Endpoint } from '../../router/src/discovery/discovery.js'
import { startRouter, eventually } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'

type ProbeResult = NodeStatus | 'refused' | 'timeout'

/** A probe whose answers the test gives by hand, one pending promise per call. */
function manualProbe(): { probe: (e: Endpoint) => Promise<ProbeResult>; calls: string[]; answer: (r: ProbeResult) => Promise<void> } {
  const calls: string[] = []
  const pending: ((r: ProbeResult) => void)[] = []
  return {
    calls,
    probe: (e) => {
      calls.push(e.id)
      return new Promise((resolve) => pending.push(resolve))
    },
    answer: async (r) => {
      const next = pending.shift()
      if (next === undefined) throw new Error('no probe pending')
      next(r)
      // Let the cache's .then() run.
      await new Promise((r) => setImmediate(r))
    },
  }
}

const node = (id: string, port = 1): Endpoint => ({ id, host: '127.0.0.1', port, attributes: {} })
const active = (n: number, nodeId?: string): NodeStatus => ({ nodeId, status: 'ACTIVE', activeConnections: n })

t.test('status cache: fresh, stale-while-revalidate, max age, refused vs timeout, local counts', async (t) => {
  let now = 0
  const m = manualProbe()
  const cache = new NodeStatusCache({ freshMs: 1000, maxAgeMs: 10_000, probe: m.probe, now: () => now })
  const a = node('a')

  t.equal(cache.get(a), undefined, 'nothing known at first')
  t.same(m.calls, ['a'], 'a probe started')
  t.equal(cache.get(a), undefined)
  t.same(m.calls, ['a'], 'one probe per node at a time')
  await m.answer(active(3, 'a'))
  t.same(cache.get(a), { status: 'ACTIVE', nodeId: 'a', load: 3 })

  now = 999
  cache.get(a)
  t.equal(m.calls.length, 1, 'fresh: no new probe')

  cache.allocated(a)
  cache.allocated(a)
  t.equal(cache.peek(a)?.load, 5, 'sessions allocated since the answer count')

  now = 1001
  t.equal(cache.get(a)?.load, 5, 'past fresh: the last answer is still used')
  t.equal(m.calls.length, 2, '…while a background probe refreshes it')
  t.equal(cache.probing, 1)
  await m.answer('timeout')
  t.equal(cache.peek(a)?.load, 5, 'a timed-out probe keeps the last answer')

  now = 10_001
  t.equal(cache.get(a), undefined, 'past max age it is not used')
  await m.answer(active(1, 'a'))
  t.equal(cache.peek(a)?.load, 1, 'a new answer resets the local count')

  now = 12_000
  cache.get(a)
  await m.answer('refused')
  t.equal(cache.peek(a), undefined, 'a refused probe drops the node at once')

  const b = node('b', 2)
  cache.get(b)
  await m.answer(active(0))
  cache.retain([a])
  t.equal(cache.peek(b), undefined, 'nodes gone from discovery are forgotten')

  t.throws(() => new NodeStatusCache({ freshMs: 10, maxAgeMs: 5, probe: m.probe }), RangeError)
})

/** A fake media node: GET /status answers as `id`, or hangs while `hang` is set. */
async function fakeNode(id: string, connections = 0): Promise<{ port: number; hang: boolean; probes: number; hung: ServerResponse[]; server: Server }> {
  const state = { port: 0, hang: false, probes: 0, hung: [] as ServerResponse[], server: undefined as unknown as Server }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== '/status') {
      res.writeHead(404).end()
      return
    }
    state.probes++
    if (state.hang) {
      state.hung.push(res)
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ nodeId: id, status: 'ACTIVE', activeConnections: connections }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  state.port = (server.address() as AddressInfo).port
  state.server = server
  return state
}

async function allocate(url: string): Promise<{ status: number; nodeId: unknown; code: unknown }> {
  const r = await request(`${url}/media/allocate`)
  const body = (await r.body.json()) as Record<string, unknown>
  return { status: r.statusCode, nodeId: body['nodeId'], code: body['code'] }
}

t.test('a warmed allocation does not wait for nodes that stopped answering /status', async (t) => {
  const a = await fakeNode('a')
  const b = await fakeNode('b')
  const file = staticDiscoveryFile({ media: [{ id: 'a', port: a.port }, { id: 'b', port: b.port }] })
  const router = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file })
  t.teardown(async () => {
    for (const n of [a, b]) {
      for (const res of n.hung) res.destroy()
      n.server.closeAllConnections()
      n.server.close()
    }
    await router.close()
  })

  // Cold: the first allocation waits for the probes; the burst spreads over both nodes.
  const first = await Promise.all(Array.from({ length: 10 }, () => allocate(router.url)))
  t.same(first.map((r) => r.status), Array(10).fill(200))
  const counts = new Map<unknown, number>()
  for (const r of first) counts.set(r.nodeId, (counts.get(r.nodeId) ?? 0) + 1)
  // (Not exactly 5/5: on a slow machine a node's answer may be refreshed mid-burst.)
  t.ok((counts.get('a') ?? 0) >= 3 && (counts.get('b') ?? 0) >= 3, `sessions allocated since the last answer count, so a burst spreads: ${JSON.stringify(Object.fromEntries(counts))}`)

  // Both nodes stop answering; allocations go on from the last answers while
  // the refresh probes hang (they are due once the answers are a second old).
  a.hang = true
  b.hang = true
  const seenA = a.probes
  const seenB = b.probes
  await eventually(async () => {
    const r = await allocate(router.url)
    t.equal(r.status, 200, 'answered while a refresh may be due')
    return a.hung.length > 0 && b.hung.length > 0
  }, 30_000, 100)
  t.ok(a.probes > seenA && b.probes > seenB, 'refresh probes were sent and are hanging')
  const during = await Promise.all(Array.from({ length: 4 }, () => allocate(router.url)))
  t.same(during.map((r) => r.status), [200, 200, 200, 200], 'allocations answered while every probe hangs')
  t.equal(a.hung.length + b.hung.length, 2, 'one refresh per node at a time')
  const line = router.logs.find((l) => l['msg'] === 'access' && l['route'] === 'allocate')
  t.equal(line?.['status'], 200)
})

t.test('a node that refuses connections is dropped at once; an allocation 503 logs its code', async (t) => {
  // b is far less loaded, so it is picked whenever it is still a candidate.
  const a = await fakeNode('a', 100)
  const b = await fakeNode('b', 0)
  const file = staticDiscoveryFile({ media: [{ id: 'a', port: a.port }, { id: 'b', port: b.port }] })
  const router = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, EJECT_AFTER_FAILURES: '0' })
  t.teardown(async () => {
    a.server.close()
    await router.close()
  })
  t.equal((await allocate(router.url)).nodeId, 'b')
  // b dies: its port now refuses connections.
  b.server.closeAllConnections()
  await new Promise<void>((r) => b.server.close(() => r()))
  // Once b's answer is due for refresh, its probe is refused and it is dropped.
  await eventually(async () => (await allocate(router.url)).nodeId === 'a', 30_000, 100)
  const after = await Promise.all(Array.from({ length: 6 }, () => allocate(router.url)))
  t.same(after.map((r) => r.nodeId), Array(6).fill('a'), 'only the live node is allocated, although it is the more loaded')

  a.server.closeAllConnections()
  await new Promise<void>((r) => a.server.close(() => r()))
  await eventually(async () => (await allocate(router.url)).status === 503, 30_000, 100)
  const none = await allocate(router.url)
  t.equal(none.status, 503)
  t.equal(none.code, 'NO_HEALTHY_ENDPOINT')
  const logged = router.logs.filter((l) => l['msg'] === 'access' && l['route'] === 'allocate' && l['status'] === 503)
  t.ok(logged.length > 0)
  t.equal(logged[0]?.['error'], 'NO_HEALTHY_ENDPOINT', 'the access log names the error code')
})
