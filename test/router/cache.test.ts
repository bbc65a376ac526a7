// Discovery cache behaviour with a controllable clock and a scripted backend
// (the cache's contract is with the Discovery interface; the end-to-end tests
// exercise it against the emulator's real DNS).
import t from 'tap'
import { DiscoveryCache, type CacheOutcome } from '../../router/src/discovery/cache.js'
import type { Discovery, Resolution, Target } from '../../router/src/discovery/discovery.js'
import { DiscoveryUnavailableError, TargetNotFoundError } from '../../router/src/errors.js'

class ScriptedBackend implements Discovery {
  readonly name = 'scripted'
  calls = 0
  mode: 'ok' | 'fail' | 'notfound' = 'ok'
  ttl = 10
  port = 1
  gate: Promise<void> | undefined
  async resolve(target: Target): Promise<Resolution> {
    this.calls++
    if (this.gate !== undefined) await this.gate
    if (this.mode === 'fail') throw new DiscoveryUnavailableError('dns down')
    if (this.mode === 'notfound') throw new TargetNotFoundError(target.service)
    return { endpoints: [{ id: 'i', host: '127.0.0.1', port: this.port, attributes: {} }], ttlSeconds: this.ttl }
  }
  async close(): Promise<void> {}
}

function setup(opts: Partial<{ minTtlMs: number; maxTtlMs: number; maxStaleMs: number }> = {}) {
  let now = 1_000_000
  const outcomes: CacheOutcome[] = []
  const backend = new ScriptedBackend()
  const cache = new DiscoveryCache(backend, {
    minTtlMs: opts.minTtlMs ?? 1000,
    maxTtlMs: opts.maxTtlMs ?? 30_000,
    negativeTtlMs: 2000,
    maxStaleMs: opts.maxStaleMs ?? 60_000,
    staleRetryMs: 1000,
    maxEntries: 100,
    now: () => now,
    onLookup: (o) => outcomes.push(o),
  })
  return { backend, cache, outcomes, advance: (ms: number) => (now += ms) }
}
const target: Target = { kind: 'service', service: 'dep' }

t.test('honours the TTL within clamps', async (t) => {
  const { backend, cache, advance, outcomes } = setup({ maxTtlMs: 5000 })
  backend.ttl = 60 // clamped to 5 s
  await cache.resolve(target)
  await cache.resolve(target)
  t.equal(backend.calls, 1)
  advance(4999)
  await cache.resolve(target)
  t.equal(backend.calls, 1, 'still fresh just before the clamp')
  advance(2)
  backend.port = 2
  const r = await cache.resolve(target)
  t.equal(backend.calls, 2, 'refetched after the clamped TTL')
  t.equal(r.endpoints[0]?.port, 2)
  t.same(outcomes, ['miss', 'hit', 'hit', 'miss'])
})

t.test('min clamp applies to a zero TTL', async (t) => {
  const { backend, cache, advance } = setup({ minTtlMs: 3000 })
  backend.ttl = 0
  await cache.resolve(target)
  advance(2000)
  await cache.resolve(target)
  t.equal(backend.calls, 1)
})

t.test('coalesces concurrent misses', async (t) => {
  const { backend, cache } = setup()
  let open: () => void = () => undefined
  backend.gate = new Promise<void>((r) => (open = r))
  const all = Promise.all(Array.from({ length: 100 }, () => cache.resolve(target)))
  open()
  const results = await all
  t.equal(results.length, 100)
  t.equal(backend.calls, 1)
})

t.test('caches not-found briefly', async (t) => {
  const { backend, cache, advance, outcomes } = setup()
  backend.mode = 'notfound'
  await t.rejects(cache.resolve(target), TargetNotFoundError)
  await t.rejects(cache.resolve(target), TargetNotFoundError)
  t.equal(backend.calls, 1)
  advance(2001)
  backend.mode = 'ok'
  const r = await cache.resolve(target)
  t.equal(r.endpoints.length, 1)
  t.equal(backend.calls, 2)
  t.same(outcomes, ['negative', 'negative', 'miss'])
})

t.test('serves stale while the backend fails, up to max-stale, retrying periodically', async (t) => {
  const { backend, cache, advance, outcomes } = setup({ maxTtlMs: 1000, maxStaleMs: 10_000 })
  await cache.resolve(target)
  backend.mode = 'fail'
  advance(1500)
  const stale = await cache.resolve(target)
  t.equal(stale.outcome, 'stale')
  t.equal(backend.calls, 2)
  await cache.resolve(target)
  t.equal(backend.calls, 2, 'no retry before staleRetryMs')
  advance(1001)
  await cache.resolve(target)
  t.equal(backend.calls, 3, 'retried after staleRetryMs')
  advance(9000) // now 11.5 s after the last good answer
  await t.rejects(cache.resolve(target), DiscoveryUnavailableError, 'past max-stale the error surfaces')
  backend.mode = 'ok'
  advance(1001)
  const fresh = await cache.resolve(target)
  t.equal(fresh.outcome, 'miss')
  t.ok(outcomes.includes('error'))
})

t.test('failure with nothing cached is an error', async (t) => {
  const { backend, cache } = setup()
  backend.mode = 'fail'
  await t.rejects(cache.resolve(target), DiscoveryUnavailableError)
})

t.test('view lists entries', async (t) => {
  const { cache } = setup()
  await cache.resolve(target)
  const v = cache.view()
  t.equal(v.length, 1)
  t.equal(v[0]?.key, 'service:dep')
  t.equal(v[0]?.endpoints.length, 1)
})

t.test('view keeps expired entries (regression: cluster route views came back empty after the TTL)', async (t) => {
  const { cache, advance } = setup({ maxTtlMs: 1000 })
  await cache.resolve(target)
  advance(5000)
  const v = cache.view()
  t.equal(v.length, 1)
  t.equal(v[0]?.expired, true)
  t.equal(v[0]?.ttlRemainingMs, 0)
})
