// The k6 scenarios' logic that runs without k6 (loadtest/k6/lib, pure modules):
// configuration and SCALE, phases, each scenario's thresholds judged on empty
// and healthy summaries the way k6 judges them, the session's lost-message
// accounting on a fake clock, and the words of the fail-fast messages.

import t from 'tap'
import { readConfig, LOCAL_STACK } from '../../loadtest/k6/lib/config.js'
import { formatDuration, humanDuration, parseDurationS } from '../../loadtest/k6/lib/duration.js'
import { phaseAt, spike, totalSeconds } from '../../loadtest/k6/lib/stages.js'
import { THRESHOLDS_BY_SCRIPT } from '../../loadtest/k6/lib/thresholds.js'
import { evaluateThresholds, parseThreshold, verdict } from '../../loadtest/k6/lib/verdict.js'
import { createSession, type SessionIo } from '../../loadtest/k6/lib/session-core.js'
import { allocatedNode, distinct, drainAnswerProblem, isUnknownTarget, unknownIdMessage } from '../../loadtest/k6/lib/router-api.js'
import { drainPlan, httpLoadPlan, smokePlan, spikePlan, wsSessionsPlan } from '../../loadtest/k6/lib/plans.js'
import { readFileSync } from 'node:fs'

type Thresholds = Record<string, string[]>
type Summary = Record<string, { values: Record<string, number> }>

t.test('durations: k6 strings in, milliseconds out', async (t) => {
  t.equal(parseDurationS('2m'), 120)
  t.equal(parseDurationS('1m30s'), 90)
  t.equal(parseDurationS('1.5s'), 1.5)
  t.equal(parseDurationS('250ms'), 0.25)
  t.equal(parseDurationS('1h'), 3600)
  t.equal(parseDurationS('90'), 90, 'bare seconds')
  for (const bad of ['', 'abc', '2x', '1m 30s', 's', '-1s']) t.throws(() => parseDurationS(bad), /not a duration/, bad)
  t.equal(formatDuration(12.5), '12500ms')
  t.equal(formatDuration(0), '1ms', 'never zero')
  t.equal(humanDuration(125), '2 min 5 s')
  t.equal(humanDuration(45), '45 s')
})

t.test('config: local defaults, deployed router, SCALE, errors', async (t) => {
  const local = readConfig({})
  t.equal(local.baseUrl, LOCAL_STACK.baseUrl)
  t.ok(local.local)
  t.same(local.deploymentIds, ['hello', 'echo'], 'the npm start deployments')
  t.same(local.nodeIds, [], 'nodes are discovered')
  t.equal(local.drainToken, LOCAL_STACK.adminToken)
  t.equal(local.wsHoldS, 30)
  t.equal(local.wsEchoGraceMs, 1000)

  const remote = readConfig({ BASE_URL: 'https://edge.example.com/', NODE_IDS: 'a, b' })
  t.equal(remote.baseUrl, 'https://edge.example.com')
  t.equal(remote.wsBaseUrl, 'wss://edge.example.com')
  t.notOk(remote.local)
  t.same(remote.deploymentIds, [], 'no guessed deployment ids for a deployed router')
  t.same(remote.nodeIds, ['a', 'b'])
  t.equal(remote.drainToken, '', 'no token guessed either')

  const fast = readConfig({ SCALE: '0.1', DURATION: '2m', WS_HOLD_S: '30', DRAIN_AT_S: '20' })
  t.equal(fast.durationS, 12)
  t.equal(fast.wsHoldS, 3)
  t.equal(fast.drainAtS, 2)
  t.equal(fast.wsEchoGraceMs, 1000, 'grace is not scaled')
  t.equal(readConfig({ SCALE: '0.1', WS_HOLD_S: '10' }).wsHoldS, 1, 'scaled durations never drop below 1 s')
  t.equal(readConfig({ WS_HOLD_S: '1' }).wsEchoGraceMs, 500, 'grace at most half the hold')

  t.throws(() => readConfig({ DRAIN_URL: 'https://admin.example.internal/admin/drain' }), /DRAIN_URL is gone.*DRAIN_ADMIN_URL/)
  t.throws(() => readConfig({ SCALE: '0' }), /SCALE must be > 0/)
  t.throws(() => readConfig({ VUS: 'lots' }), /VUS must be a non-negative number/)
  t.throws(() => readConfig({ DURATION: 'forever' }), /DURATION: not a duration/)
  t.throws(() => readConfig({ BASE_URL: 'edge.example.com' }), /BASE_URL must be/)
  t.throws(() => readConfig({ SERVICE_PATH: 'x' }), /SERVICE_PATH/)
})

t.test('plans: defaults and SCALE shorten every scenario proportionally', async (t) => {
  const d = readConfig({})
  t.equal(httpLoadPlan(d).nominalS, 165)
  t.equal(wsSessionsPlan(d).nominalS, 165)
  t.equal(spikePlan(d).nominalS, 125)
  t.equal(drainPlan(d).nominalS, 90)
  const s = readConfig({ SCALE: '0.1' })
  t.equal(httpLoadPlan(s).nominalS, 16.5)
  t.equal(spikePlan(s).nominalS, 12.5)
  t.equal(drainPlan(s).nominalS, 9)
  t.same(spikePlan(s).stages[0], { duration: '2000ms', target: 20 })
})

t.test('spike phases: baseline, spike, recovery at their boundaries (and scaled)', async (t) => {
  const st = spike(20, 200, 1)
  t.equal(totalSeconds(st), 125)
  const at: [number, string][] = [[0, 'baseline'], [49_999, 'baseline'], [50_000, 'spike'], [89_999, 'spike'], [90_000, 'recovery'], [124_999, 'recovery'], [500_000, 'recovery']]
  for (const [ms, phase] of at) t.equal(phaseAt(st, ms), phase, `${ms} ms`)
  const fast = spike(20, 200, 0.1)
  t.equal(phaseAt(fast, 4_999), 'baseline')
  t.equal(phaseAt(fast, 5_000), 'spike')
  t.equal(phaseAt(fast, 9_000), 'recovery')
})

/** A value that satisfies `op limit` (for a healthy summary). */
function satisfying(op: string, limit: number): number {
  if (op === '<') return limit > 0 ? limit / 2 : limit - 1
  if (op === '<=' || op === '==' || op === '===' || op === '>=') return limit
  if (op === '>') return limit + 1
  return limit + 1
}

function healthySummary(th: Thresholds): Summary {
  const out: Summary = {}
  for (const [metric, list] of Object.entries(th)) {
    const values: Record<string, number> = {}
    for (const e of list) {
      const p = parseThreshold(e)
      values[p.stat] = satisfying(p.op, p.limit)
    }
    out[metric] = { values }
  }
  return out
}

/** The counter whose `count>0` guards a rate or trend on the same events. */
const GUARD_OF: Record<string, string> = {
  ws_rtt: 'ws_echoes',
  ws_message_lost: 'ws_echoes',
  ws_session_failed: 'ws_sessions',
  ws_connecting: 'ws_sessions',
  http_req_failed: 'http_reqs',
  http_req_duration: 'http_reqs',
}

t.test('every scenario fails on an empty summary, passes on a healthy one', async (t) => {
  for (const cfg of [readConfig({}), readConfig({ BASE_URL: 'https://edge.example.com', WS_MSG_RATE: '0', SCALE: '0.1' })]) {
    for (const [script, build] of Object.entries(THRESHOLDS_BY_SCRIPT)) {
      const th: Thresholds = build(cfg)
      const empty = verdict(th, {})
      t.notOk(empty.ok, `${script}: nothing measured is a failure`)
      t.ok(empty.failed.length > 0 && empty.failed.every((f) => f.value === 0), `${script}: failed on zero values`)
      t.same(empty.empty.sort(), Object.keys(th).sort(), `${script}: every metric listed as empty`)
      const healthy = verdict(th, healthySummary(th))
      t.ok(healthy.ok, `${script}: a healthy summary passes (${healthy.failed.map((f) => f.metric + ' ' + f.expression).join(', ')})`)
    }
  }
})

t.test('every threshold that passes on zero has a count>0 guard on the same events', async (t) => {
  const cfg = readConfig({})
  for (const [script, build] of Object.entries(THRESHOLDS_BY_SCRIPT)) {
    const th: Thresholds = build(cfg)
    for (const [key, list] of Object.entries(th)) {
      const zero = evaluateThresholds({ [key]: list }, {})
      if (zero.some((r) => !r.ok)) continue // fails on its own when empty (count>0, rate==1, rate>0.99)
      const m = /^([a-z_]+)(\{.*\})?$/.exec(key)
      const name = m?.[1] ?? key
      const filter = m?.[2] ?? ''
      const guard = GUARD_OF[name]
      t.ok(guard !== undefined, `${script}: ${key} has a known guard counter`)
      const guardKey = name === 'ws_connecting' ? `${guard}` : `${guard}${filter}`
      t.same(th[guardKey], ['count>0'], `${script}: ${key} is guarded by ${guardKey} count>0`)
    }
  }
})

t.test('spike thresholds are per phase; drain thresholds require the drain and its observation', async (t) => {
  const cfg = readConfig({})
  const spikeTh: Thresholds = THRESHOLDS_BY_SCRIPT['04-spike.js'](cfg)
  for (const phase of ['baseline', 'spike', 'recovery']) {
    t.ok(spikeTh[`http_req_duration{phase:${phase}}`] !== undefined, `${phase} latency`)
    t.same(spikeTh[`http_reqs{phase:${phase}}`], ['count>0'], `${phase} guard`)
  }
  t.same(spikeTh['http_req_duration{phase:recovery}'], ['p(95)<300'], 'recovery back under the steady p95')
  const drainTh: Thresholds = THRESHOLDS_BY_SCRIPT['05-drain-under-load.js'](cfg)
  const good = healthySummary(drainTh)
  t.ok(verdict(drainTh, good).ok)
  const noDrain = { ...good }
  delete noDrain['drain_requested']
  delete noDrain['drain_observed']
  t.notOk(verdict(drainTh, noDrain).ok, 'no drain request: fail (the old 05 passed here)')
  t.notOk(verdict(drainTh, { ...good, drain_allocated_elsewhere: { values: { rate: 0.98 } } }).ok, 'one allocation to the drained node: fail')
  t.notOk(verdict(drainTh, { ...good, 'ws_session_failed{spans_drain:yes}': { values: { rate: 0.5 } } }).ok, 'sessions cut by the drain: fail')
})

t.test('03 at the README load passes on a correct router: lost is a rate, not a count', async (t) => {
  const cfg = readConfig({})
  const th: Thresholds = THRESHOLDS_BY_SCRIPT['03-ws-sessions.js'](cfg)
  t.notOk(Object.keys(th).some((k) => k.startsWith('ws_lost_messages')), 'no count threshold on lost messages')
  const s = healthySummary(th)
  // 1,500 sessions × 60 messages, 1 lost in 100,000: under 0.1 %.
  t.ok(verdict(th, { ...s, ws_message_lost: { values: { rate: 1e-5, passes: 1, fails: 99_999 } } }).ok)
  t.notOk(verdict(th, { ...s, ws_message_lost: { values: { rate: 0.01 } } }).ok, '1 % lost fails')
})

/** A fake clock and scheduler: timers fire in time order as the test advances. */
function fakeIo(echoDelayMs: number | null): SessionIo & { advance(ms: number): void; deliver: ((data: string) => void) | undefined; closed: number[]; sent: string[] } {
  let now = 0
  let seq = 0
  const timers: { at: number; seq: number; fn: () => void; every: number }[] = []
  const io = {
    closed: [] as number[],
    sent: [] as string[],
    deliver: undefined as ((data: string) => void) | undefined,
    now: () => now,
    send(text: string) {
      io.sent.push(text)
      if (echoDelayMs !== null) timers.push({ at: now + echoDelayMs, seq: seq++, every: 0, fn: () => io.deliver?.(text) })
    },
    close(code: number) {
      io.closed.push(code)
    },
    every(fn: () => void, ms: number) {
      timers.push({ at: now + ms, seq: seq++, fn, every: ms })
    },
    after(fn: () => void, ms: number) {
      timers.push({ at: now + ms, seq: seq++, fn, every: 0 })
    },
    advance(ms: number) {
      const end = now + ms
      for (let guard = 0; guard < 100_000; guard++) {
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq)
        const next = timers[0]
        if (next === undefined || next.at > end) break
        timers.shift()
        now = next.at
        if (next.every > 0) timers.push({ at: now + next.every, seq: seq++, fn: next.fn, every: next.every })
        next.fn()
      }
      now = end
    },
  }
  return io
}

t.test('session: a whole-second hold at 2, 4, 5 and 10 msg/s loses nothing on a healthy echo (issue 19)', async (t) => {
  for (const rate of [1, 2, 4, 5, 10]) {
    const io = fakeIo(5)
    const s = createSession({ clientId: 'c', holdMs: 2000, msgRate: rate, graceMs: 1000, padding: '' }, io)
    io.deliver = (d) => s.onMessage(d)
    s.onOpen()
    io.advance(2000) // the close timer fires at 2000 together with the last interval tick
    t.same(io.closed, [1000], `${rate}/s: closed with 1000`)
    s.onClose(1000)
    const r = s.result()
    t.ok(r.sent > 0, `${rate}/s: sent ${r.sent}`)
    t.equal(r.lost, 0, `${rate}/s: nothing lost`)
    t.equal(r.unansweredAtClose, 0)
    t.equal(r.echoed, r.sent)
    t.equal(r.rttsMs.length, r.sent)
    t.ok(r.rttsMs.every((x) => x === 5), 'round trips measured on the clock')
    t.notOk(r.closedEarly)
  }
})

t.test('session: missing echoes are lost, a cut session is early, young ones are unanswered', async (t) => {
  const io = fakeIo(null) // the far end never echoes
  const s = createSession({ clientId: 'c', holdMs: 5000, msgRate: 10, graceMs: 1000, padding: 'xx' }, io)
  s.onOpen()
  io.advance(2050)
  s.onClose(1001) // the far end cuts the session at 2.05 s
  const r = s.result()
  t.ok(r.closedEarly)
  t.equal(r.closeCode, 1001)
  t.equal(r.sent, 20)
  t.equal(r.lost, 10, "sent at 100..1000 ms: at least 1 s before the cut")
  t.equal(r.unansweredAtClose, 10, "sent at 1100..2000 ms: too young to call lost")
  t.equal(r.echoed, 0)

  const io2 = fakeIo(3)
  const s2 = createSession({ clientId: 'me', holdMs: 1000, msgRate: 0, graceMs: 100, padding: '' }, io2)
  s2.onOpen()
  s2.onMessage(JSON.stringify({ from: 'peer', seq: 1 }))
  s2.onMessage('not json')
  s2.onMessage(JSON.stringify({ from: 'me', seq: 99 }))
  io2.advance(1000)
  s2.onClose(1000)
  const r2 = s2.result()
  t.equal(r2.relayed, 1, 'a peer message is a relay')
  t.equal(r2.echoed, 0, 'an echo of a message never sent is ignored')
  t.equal(r2.sent, 0)
  t.notOk(r2.closedEarly)

  const io3 = fakeIo(null)
  const s3 = createSession({ clientId: 'x', holdMs: 1000, msgRate: 5, graceMs: 100, padding: '' }, io3)
  s3.onError()
  s3.onClose(1006)
  t.same({ opened: s3.result().opened, early: s3.result().closedEarly }, { opened: false, early: false }, 'never opened: a failure to open, not an early close')
})

t.test('router answers: unknown ids, allocation, drain answers', async (t) => {
  const notFound = JSON.stringify({ error: 'deployment "demo" not found', code: 'TARGET_NOT_FOUND' })
  t.ok(isUnknownTarget(404, notFound))
  t.ok(isUnknownTarget(400, JSON.stringify({ error: 'x', code: 'INVALID_TARGET' })))
  t.notOk(isUnknownTarget(404, 'Not Found'), "the service's own 404 is not an unknown id")
  t.notOk(isUnknownTarget(200, notFound))
  const msg = unknownIdMessage('deployment', 'demo', 'http://r/services/demo/', 404, notFound, 'http://r')
  t.match(msg, /deployment "demo" does not exist at http:\/\/r/)
  t.match(msg, /HTTP 404 TARGET_NOT_FOUND/)
  t.match(msg, /list-services/)
  t.match(msg, /DEPLOYMENT_IDS/)
  const nodeMsg = unknownIdMessage('node', 'media-1', 'http://r/media/media-1/status', 404, notFound, 'http://r')
  t.match(nodeMsg, /media node "media-1"/)
  t.match(nodeMsg, /curl http:\/\/r\/media\/allocate/)
  t.match(nodeMsg, /NODE_IDS/)

  t.equal(allocatedNode(JSON.stringify({ nodeId: 'node-2', sessionId: 's' })), 'node-2')
  t.equal(allocatedNode('{"nodeId":2}'), undefined)
  t.equal(allocatedNode('oops'), undefined)
  t.same(distinct(['a', undefined, 'b', 'a']), ['a', 'b'])

  const draining = JSON.stringify({ nodeId: 'node-1', status: 'DRAINING', activeConnections: 3 })
  t.equal(drainAnswerProblem(202, draining, 'node-1'), undefined)
  t.match(drainAnswerProblem(202, draining, 'node-2') ?? '', /wrong node/)
  t.match(drainAnswerProblem(401, '{}', 'node-1') ?? '', /DRAIN_TOKEN/)
  t.match(drainAnswerProblem(404, JSON.stringify({ error: 'no admin route', code: 'NOT_FOUND' }), 'node-1') ?? '', /HTTP 404 no admin route/)
  t.match(drainAnswerProblem(202, JSON.stringify({ nodeId: 'node-1', status: 'ACTIVE' }), 'node-1') ?? '', /ACTIVE, not DRAINING/)
})

t.test("loadtest/README.md's duration table matches the plans at defaults", async (t) => {
  const readme = readFileSync(new URL('../../loadtest/README.md', import.meta.url), 'utf8')
  const d = readConfig({})
  const rows: [string, number][] = [
    ['01-smoke.js', smokePlan(d, LOCAL_STACK.mediaNodes.length).nominalS],
    ['02-http-load.js', httpLoadPlan(d).nominalS],
    ['03-ws-sessions.js', wsSessionsPlan(d).nominalS],
    ['04-spike.js', spikePlan(d).nominalS],
    ['05-drain-under-load.js', drainPlan(d).nominalS],
  ]
  for (const [script, seconds] of rows) {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${script}\``))
    t.ok(row !== undefined, `${script} has a row`)
    t.ok(row?.split('|')[4]?.trim().startsWith(humanDuration(seconds)), `${script}: ${humanDuration(seconds)}`)
  }
})
