// The per-origin admission gate (router/src/proxy/upstream/admission.ts) on a
// fake clock: a running limit, FIFO order, a bounded queue, and a queue
// timeout that needs no real time to test.
import t from 'tap'
import { AdmissionGate, type GateClock, type Waiter } from '../../router/src/proxy/upstream/admission.js'

/** A clock that only moves when told to; timers fire in deadline order. */
class FakeClock implements GateClock {
  #now = 0
  #timers: Array<{ at: number; fn: () => void; id: number }> = []
  #next = 1
  now(): number {
    return this.#now
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++
    this.#timers.push({ at: this.#now + ms, fn, id })
    return id
  }
  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((x) => x.id !== handle)
  }
  get pending(): number {
    return this.#timers.length
  }
  advance(ms: number): void {
    const until = this.#now + ms
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at)
      const first = this.#timers[0]
      if (first === undefined || first.at > until) break
      this.#timers.shift()
      this.#now = first.at
      first.fn()
    }
    this.#now = until
  }
}

function waiter(log: string[], name: string): Waiter {
  return { admitted: () => log.push(`${name}:in`), rejected: (r) => log.push(`${name}:${r}`) }
}

t.test('runs up to the limit, then queues in arrival order; each leave admits the next', async (t) => {
  const clock = new FakeClock()
  const gate = new AdmissionGate({ limit: 2, queueMax: 10, queueTimeoutMs: 1000, clock })
  const log: string[] = []
  t.equal(gate.enter(waiter(log, 'a')), 'run')
  t.equal(gate.enter(waiter(log, 'b')), 'run')
  t.equal(gate.enter(waiter(log, 'c')), 'queued')
  t.equal(gate.enter(waiter(log, 'd')), 'queued')
  t.same([gate.running, gate.queued], [2, 2])
  gate.leave()
  t.same(log, ['c:in'])
  gate.leave()
  t.same(log, ['c:in', 'd:in'])
  t.same([gate.running, gate.queued], [2, 0])
  gate.leave()
  gate.leave()
  t.same([gate.running, gate.queued], [0, 0])
  t.equal(clock.pending, 0, 'no timer left once nothing waits')
})

t.test('a newcomer does not overtake waiters even when a slot is free', async (t) => {
  const gate = new AdmissionGate({ limit: 1, queueMax: 10, queueTimeoutMs: 1000, clock: new FakeClock() })
  const log: string[] = []
  gate.enter(waiter(log, 'a'))
  gate.enter(waiter(log, 'b'))
  t.equal(gate.enter(waiter(log, 'c')), 'queued')
  gate.leave()
  t.same(log, ['b:in'])
})

t.test('a full queue refuses at once', async (t) => {
  const gate = new AdmissionGate({ limit: 1, queueMax: 2, queueTimeoutMs: 1000, clock: new FakeClock() })
  const log: string[] = []
  t.equal(gate.enter(waiter(log, 'a')), 'run')
  t.equal(gate.enter(waiter(log, 'b')), 'queued')
  t.equal(gate.enter(waiter(log, 'c')), 'queued')
  t.equal(gate.enter(waiter(log, 'd')), 'full')
  t.equal(gate.queued, 2)
  const none = new AdmissionGate({ limit: 1, queueMax: 0, queueTimeoutMs: 1000, clock: new FakeClock() })
  none.enter(waiter(log, 'x'))
  t.equal(none.enter(waiter(log, 'y')), 'full', 'UPSTREAM_QUEUE_MAX=0: no waiting at all')
})

t.test('waiters time out in order, each after its own queueTimeoutMs; the running ones are untouched', async (t) => {
  const clock = new FakeClock()
  const gate = new AdmissionGate({ limit: 1, queueMax: 10, queueTimeoutMs: 1000, clock })
  const log: string[] = []
  gate.enter(waiter(log, 'a'))
  gate.enter(waiter(log, 'b'))
  clock.advance(400)
  gate.enter(waiter(log, 'c'))
  clock.advance(599)
  t.same(log, [], 'b has waited 999 ms')
  clock.advance(1)
  t.same(log, ['b:timeout'])
  clock.advance(399)
  t.same(log, ['b:timeout'], 'c has waited 999 ms')
  clock.advance(1)
  t.same(log, ['b:timeout', 'c:timeout'])
  t.same([gate.running, gate.queued], [1, 0])
  t.equal(clock.pending, 0)
  gate.leave()
  t.equal(gate.running, 0)
})

t.test('cancel removes a waiter; close rejects every waiter', async (t) => {
  const clock = new FakeClock()
  const gate = new AdmissionGate({ limit: 1, queueMax: 10, queueTimeoutMs: 1000, clock })
  const log: string[] = []
  gate.enter(waiter(log, 'a'))
  const b = waiter(log, 'b')
  gate.enter(b)
  gate.enter(waiter(log, 'c'))
  t.ok(gate.cancel(b))
  t.notOk(gate.cancel(b), 'only once')
  gate.leave()
  t.same(log, ['c:in'])
  gate.enter(waiter(log, 'd'))
  gate.close()
  t.same(log, ['c:in', 'd:closed'])
  t.equal(clock.pending, 0)
})

t.test('a long queue drained one by one keeps FIFO order', async (t) => {
  const gate = new AdmissionGate({ limit: 1, queueMax: 1000, queueTimeoutMs: 1000, clock: new FakeClock() })
  const log: string[] = []
  gate.enter(waiter(log, 'first'))
  for (let i = 0; i < 500; i++) gate.enter(waiter(log, String(i)))
  for (let i = 0; i < 500; i++) gate.leave()
  t.same(log, Array.from({ length: 500 }, (_, i) => `${i}:in`))
})
