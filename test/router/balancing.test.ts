// Balancing strategies and outlier ejection as pure units.
import t from 'tap'
import type { Endpoint } from '../../router/src/discovery/discovery.js'
import { WeightedBalancer } from '../../router/src/balancing/weighted.js'
import { P2cBalancer } from '../../router/src/balancing/p2c.js'
import { RoundRobinBalancer } from '../../router/src/balancing/round-robin.js'
import { LoadTracker } from '../../router/src/balancing/load-tracker.js'
import { OutlierDetector } from '../../router/src/balancing/outlier.js'
import { eligibleEndpoints } from '../../router/src/balancing/eligibility.js'
import { filterByHealth } from '../../router/src/discovery/cloudmap.js'

const ep = (id: string, attributes: Record<string, string> = {}, port = 1000): Endpoint => ({ id, host: '10.0.0.1', port: port + id.charCodeAt(id.length - 1), attributes })

t.test('weighted: proportions within 2% over 10,000 picks', async (t) => {
  const list = [ep('a', { weight: '1' }), ep('b', { weight: '2' }), ep('c', { weight: '7' }), ep('d', { weight: '0' })]
  const b = new WeightedBalancer()
  const counts: Record<string, number> = {}
  for (let i = 0; i < 10_000; i++) {
    const p = b.pick('k', list)
    if (p !== undefined) counts[p.id] = (counts[p.id] ?? 0) + 1
  }
  t.ok(Math.abs((counts.a ?? 0) - 1000) <= 200, `a ${counts.a}`)
  t.ok(Math.abs((counts.b ?? 0) - 2000) <= 200, `b ${counts.b}`)
  t.ok(Math.abs((counts.c ?? 0) - 7000) <= 200, `c ${counts.c}`)
  t.equal(counts.d, undefined, 'weight 0 gets nothing while others can serve')
  t.equal(b.pick('z', [ep('x', { weight: '0' })])?.id, 'x', 'all-zero still serves')
})

t.test('p2c: weighted random pairs follow weights when idle; prefers the less loaded', async (t) => {
  const load = new LoadTracker()
  const list = [ep('a', { weight: '1' }), ep('b', { weight: '3' })]
  const b = new P2cBalancer(load)
  const counts: Record<string, number> = {}
  for (let i = 0; i < 10_000; i++) {
    const p = b.pick('k', list)
    if (p !== undefined) counts[p.id] = (counts[p.id] ?? 0) + 1
  }
  t.ok((counts.a ?? 0) > 0 && (counts.b ?? 0) > (counts.a ?? 0), `idle picks a=${counts.a} b=${counts.b}`)
  const [a, bb] = list
  if (a === undefined || bb === undefined) return
  for (let i = 0; i < 10; i++) load.start(bb)
  let toA = 0
  for (let i = 0; i < 1000; i++) if (b.pick('k', list)?.id === 'a') toA++
  t.equal(toA, 1000, 'with two candidates, the loaded one never wins')
  t.equal(b.pick('k', list, new Set(['a']))?.id, 'b', 'exclusion honoured')
})

t.test('round-robin cycles and skips excluded', async (t) => {
  const list = [ep('a'), ep('b'), ep('c')]
  const b = new RoundRobinBalancer()
  t.same([1, 2, 3, 4].map(() => b.pick('k', list)?.id), ['a', 'b', 'c', 'a'])
  t.equal(b.pick('k', list, new Set(['b']))?.id, 'c')
})

t.test('eligibility: DRAINING gets no new work, except plain HTTP where the route allows it', async (t) => {
  const list = [ep('a', { status: 'ACTIVE' }), ep('b', { status: 'DRAINING' })]
  t.same(eligibleEndpoints(list, 'http', false).map((e) => e.id), ['a'])
  t.same(eligibleEndpoints(list, 'websocket', true).map((e) => e.id), ['a'])
  t.same(eligibleEndpoints(list, 'http', true).map((e) => e.id), ['a', 'b'])
  t.same(eligibleEndpoints([ep('b', { status: 'draining' })], 'websocket', false), [])
})

t.test('outlier ejection grows on repeat and never ejects the last instance', async (t) => {
  let now = 0
  const d = new OutlierDetector({ consecutiveFailures: 3, baseEjectionMs: 1000, maxEjectionMs: 3000, now: () => now })
  const a = ep('a')
  const b = ep('b')
  t.notOk(d.failure(a))
  t.notOk(d.failure(a))
  t.ok(d.failure(a), 'third failure ejects')
  t.ok(d.isEjected(a))
  t.same(d.filter([a, b]).map((e) => e.id), ['b'])
  t.same(d.filter([a]).map((e) => e.id), ['a'], 'last instance kept')
  now = 1001
  t.notOk(d.isEjected(a), 'back after 1 s')
  d.failure(a)
  d.failure(a)
  t.ok(d.failure(a), 'ejected again')
  now = 1001 + 1999
  t.ok(d.isEjected(a), 'second ejection lasts 2 s')
  now = 1001 + 2001
  d.success(a)
  t.notOk(d.isEjected(a))
  d.failure(a)
  d.failure(a)
  d.failure(a)
  now += 999
  t.ok(d.isEjected(a), 'after a success the interval starts small again')
  now += 2
  t.notOk(d.isEjected(a))
})

t.test('health filter', async (t) => {
  const i = (id: string, h: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN') => ({ instanceId: id, healthStatus: h, attributes: {} })
  const list = [i('a', 'HEALTHY'), i('b', 'UNHEALTHY'), i('c', 'UNKNOWN')]
  t.same(filterByHealth(list, 'HEALTHY').map((x) => x.instanceId), ['a', 'c'])
  t.same(filterByHealth(list, 'UNHEALTHY').map((x) => x.instanceId), ['b'])
  t.same(filterByHealth(list, 'ALL').map((x) => x.instanceId), ['a', 'b', 'c'])
  t.same(filterByHealth(list, 'HEALTHY_OR_ELSE_ALL').map((x) => x.instanceId), ['a', 'c'])
  t.same(filterByHealth([i('b', 'UNHEALTHY')], 'HEALTHY_OR_ELSE_ALL').map((x) => x.instanceId), ['b'], 'else all')
})

t.test('load tracker: counts per endpoint; idle endpoints are swept, not kept forever', async (t) => {
  const load = new LoadTracker()
  const a = ep('a')
  load.start(a)
  load.start(a)
  t.equal(load.get(a), 2)
  load.end(a)
  load.end(a)
  load.end(a)
  t.equal(load.get(a), 0, 'never below 0')
  // Endpoints that come and go (ECS tasks get new addresses): each served once, then never again.
  for (let i = 0; i < 10_000; i++) {
    const e = { ...ep(`x${i}`), port: 10_000 + i }
    load.start(e)
    load.end(e)
  }
  t.ok(load.size <= 129, `entries kept bounded: ${load.size}`)
  const busy = { ...ep('busy'), port: 1 }
  load.start(busy)
  for (let i = 0; i < 1000; i++) {
    const e = { ...ep(`y${i}`), port: 30_000 + i }
    load.start(e)
    load.end(e)
  }
  t.equal(load.get(busy), 1, 'an endpoint with a request in flight survives every sweep')
})
