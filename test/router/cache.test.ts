// Discovery cache behaviour with a controllable clock and a scripted backend
// (the cache's contract is with the Discovery interface; the end-to-end tests
// exercise it against the emulator's real DNS and API). Stale-while-revalidate
// is checked on events: a lookup resolves while the backend call it started is
// still pending (the backend's gate is closed), never by how long it took.
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
  #last: Promise<unknown> | undefined
  resolve(target: Target): Promise<Resolution> {
    const call = this.#answer(target)
    this.#last = call
    return call
  }
  /** Resolves once the latest backend call settled and the cache stored its result. */
  async idle(): Promise<void> {
    await this.#last?.catch(() => undefined)
    await new Promise((r) => setImmediate(r))
  }
  /** A gate that holds every backend call until opened. */
  hold(): () => void {
    let open: () => void = () => undefined
    this.gate = new Promise<void>((r) => (open = r))
    return () => {
      this.gate = undefined
      open()
    }
  }
  async #answer(target: Target): Promise<Resolution> {
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

t.test('honours the TTL within clamps; past it the answer is served while one refresh runs', async (t) => {
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
  const served = await cache.resolve(target)
  t.equal(served.endpoints[0]?.port, 1, 'past the TTL: the current answer, at once')
  t.equal(backend.calls, 2, 'and a refresh started')
  await backend.idle()
  const r = await cache.resolve(target)
  t.equal(r.endpoints[0]?.port, 2, 'the refreshed answer afterwards')
  t.equal(backend.calls, 2)
  t.same(outcomes, ['miss', 'hit', 'hit', 'refresh', 'hit'])
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
  const open = backend.hold()
  const all = Promise.all(Array.from({ length: 100 }, () => cache.resolve(target)))
  open()
  const results = await all
  t.equal(results.length, 100)
  t.equal(backend.calls, 1)
})

t.test('a due refresh never makes a lookup wait, and runs once per target however many lookups come', async (t) => {
  const { backend, cache, advance, outcomes } = setup({ maxTtlMs: 1000 })
  await cache.resolve(target)
  advance(1001)
  const open = backend.hold()
  t.equal(cache.peek(target), undefined, 'the synchronous fast path only serves fresh answers')
  const answers = await Promise.all(Array.from({ length: 100 }, () => cache.resolve(target)))
  t.ok(cache.refreshing(target), 'the backend call is still pending')
  t.equal(backend.calls, 2, 'one refresh for 100 lookups')
  t.ok(answers.every((a) => a.endpoints[0]?.port === 1 && a.outcome === 'refresh'), 'all served the current answer while it is pending')
  t.match(cache.view(), [{ key: 'service:dep', refreshing: true, expired: true }])
  backend.port = 3
  open()
  await backend.idle()
  t.notOk(cache.refreshing(target))
  t.equal(cache.peek(target)?.endpoints[0]?.port, 3)
  t.equal(outcomes.filter((o) => o === 'refresh').length, 100)
})

t.test('not found is cached, then served while it is re-checked in the background', async (t) => {
  const { backend, cache, advance, outcomes } = setup()
  backend.mode = 'notfound'
  await t.rejects(cache.resolve(target), TargetNotFoundError)
  await t.rejects(cache.resolve(target), TargetNotFoundError)
  t.equal(backend.calls, 1)
  advance(2001)
  backend.mode = 'ok'
  const open = backend.hold()
  await t.rejects(cache.resolve(target), TargetNotFoundError, 'the cached answer, while the re-check is pending')
  t.ok(cache.refreshing(target))
  open()
  await backend.idle()
  const r = await cache.resolve(target)
  t.equal(r.endpoints.length, 1, 'found once the re-check answered')
  t.equal(backend.calls, 2)
  t.same(outcomes, ['negative', 'negative', 'negative', 'hit'])
})

t.test('a failed refresh keeps the answer (stale) up to max-stale, retrying periodically; past it lookups wait', async (t) => {
  const { backend, cache, advance, outcomes } = setup({ maxTtlMs: 1000, maxStaleMs: 10_000 })
  await cache.resolve(target)
  t.equal(cache.staleCount(), 0)
  backend.mode = 'fail'
  advance(1500)
  t.equal((await cache.resolve(target)).outcome, 'refresh', 'served at once; the refresh fails in the background')
  await backend.idle()
  t.equal(backend.calls, 2)
  const stale = await cache.resolve(target)
  t.equal(stale.outcome, 'stale')
  t.equal(cache.staleCount(), 1, 'the kept answer counts as stale (router_discovery_stale_targets)')
  t.equal(backend.calls, 2, 'no retry before staleRetryMs')
  advance(1001)
  t.equal(cache.staleCount(), 1, 'still stale between retries (past its retry TTL)')
  t.equal((await cache.resolve(target)).outcome, 'stale', 'still served at once')
  await backend.idle()
  t.equal(backend.calls, 3, 'retried after staleRetryMs')
  advance(9000) // now 11.5 s after the last good answer
  await t.rejects(cache.resolve(target), DiscoveryUnavailableError, 'past max-stale the lookup waits, and the error surfaces')
  t.equal(backend.calls, 4)
  backend.mode = 'ok'
  const fresh = await cache.resolve(target)
  t.equal(fresh.outcome, 'miss')
  t.equal(cache.staleCount(), 0, 'a fresh answer is not stale')
  t.ok(outcomes.includes('error'))
})

t.test('past max-stale a lookup waits for the backend (and gets its answer)', async (t) => {
  const { backend, cache, advance } = setup({ maxTtlMs: 1000, maxStaleMs: 5000 })
  await cache.resolve(target)
  advance(6000)
  backend.port = 9
  const open = backend.hold()
  let done = false
  const waiting = cache.resolve(target).finally(() => (done = true))
  await new Promise((r) => setImmediate(r))
  t.notOk(done, 'the lookup waits while the backend call is pending')
  open()
  t.equal((await waiting).endpoints[0]?.port, 9)
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
