// The runner's load engines and scenarios against in-test servers on port 0
// (a fake router with HTTP services and WebSocket echo/relay sessions). Only
// counts and outcomes are asserted, never timings: every SLO is set loose.

import t from 'tap'
import { runHttpLoad } from '../../loadtest/src/lib/http-load.js'
import { mediaSessionUrl, runWsSessions } from '../../loadtest/src/lib/ws-sessions.js'
import { parseRunnerOptions } from '../../loadtest/src/config.js'
import { runScenarios } from '../../loadtest/src/run.js'
import { exitCode } from '../../loadtest/src/lib/summary.js'
import { FAKE_ADMIN_TOKEN, startFakeRouter, type FakeRouter } from './fixtures/fake-router.js'

const adminOf = (router: FakeRouter, token = FAKE_ADMIN_TOKEN) => (id: string) => ({ url: router.adminUrl(id), token })
import { Writable } from 'node:stream'

const LOOSE = {
  SLO_HTTP_P95_MS: '600000',
  SLO_HTTP_P99_MS: '600000',
  SLO_WS_CONNECT_P95_MS: '600000',
  SLO_WS_RTT_P95_MS: '600000',
  SLO_WS_RTT_P99_MS: '600000',
  QUIET: '1',
}

function sink(): Writable & { text: string } {
  const w = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        w.text += chunk.toString()
        cb()
      },
    }),
    { text: '' },
  )
  return w
}

t.test('runHttpLoad counts every response and its latency', async (t) => {
  const router = await startFakeRouter()
  t.teardown(() => router.close())
  const r = await runHttpLoad({ url: `${router.baseUrl}/services/a/`, paths: ['/services/a/', '/services/b/x'], connections: 4, durationMs: 1000 })
  t.ok(r.responses > 0, 'got responses')
  t.equal(r.latency.count, r.responses, 'one latency sample per response')
  t.equal(r.errorRate, 0, 'no errors')
  t.equal(r.badStatus, 0)
  t.ok(router.requests >= r.responses, 'the server saw the requests')
})

t.test('runHttpLoad counts error statuses', async (t) => {
  const router = await startFakeRouter({ serviceStatus: 503 })
  t.teardown(() => router.close())
  const r = await runHttpLoad({ url: `${router.baseUrl}/services/a/`, connections: 2, durationMs: 1000 })
  t.ok(r.responses > 0)
  t.equal(r.badStatus, r.responses, 'every response is bad')
  t.equal(r.errorRate, 1)
})

t.test('runWsSessions: echoes measured, relays counted, sessions held', async (t) => {
  const router = await startFakeRouter()
  t.teardown(() => router.close())
  const r = await runWsSessions({
    url: (i) => mediaSessionUrl(router.baseUrl, 'n1', `s${Math.floor(i / 2)}`),
    clients: 4,
    msgRate: 50,
    holdMs: 400,
  })
  t.equal(r.opened, 4)
  t.equal(r.failedToOpen, 0)
  t.equal(r.closedEarly, 0)
  t.ok(r.sent > 0, 'messages sent')
  t.ok(r.echoed > 0, 'echoes came back')
  t.equal(r.rtt.count, r.echoed, 'one rtt sample per echo')
  t.ok(r.relayed > 0, 'peers got relayed messages')
  t.equal(r.connect.count, 4)
})

t.test('runWsSessions: sessions cut by the server are counted with their close code', async (t) => {
  const router = await startFakeRouter({ dropSessionsAfterMs: 100 })
  t.teardown(() => router.close())
  const r = await runWsSessions({ url: (i) => mediaSessionUrl(router.baseUrl, 'n1', `s${i}`), clients: 3, msgRate: 0, holdMs: 10_000 })
  t.equal(r.opened, 3)
  t.equal(r.closedEarly, 3)
  t.same(r.earlyCloseCodes, { '1001': 3 })
})

t.test('runWsSessions: refused upgrades are failures to open', async (t) => {
  const router = await startFakeRouter({ refuseUpgrades: 503 })
  t.teardown(() => router.close())
  const r = await runWsSessions({ url: (i) => mediaSessionUrl(router.baseUrl, 'n1', `s${i}`), clients: 3, msgRate: 10, holdMs: 200 })
  t.equal(r.opened, 0)
  t.equal(r.failedToOpen, 3)
  t.match(r.errorSamples.join('\n'), /503/)
})

t.test('runScenarios: every scenario passes against a healthy fake router', async (t) => {
  // The drain scenario drains at DRAIN_AT and measures the sessions open by then: on a
  // loaded machine 100 ms was not enough for any to open (cutRate NaN), so 1.5 s of a 4 s hold.
  const router = await startFakeRouter()
  t.teardown(() => router.close())
  const options = parseRunnerOptions({ ...LOOSE, BASE_URL: router.baseUrl, DEPLOYMENT_IDS: 'a,b', NODE_IDS: 'n1,n2', CONNECTIONS: '2', SPIKE_VUS: '6', DURATION: '3s', WS_SESSIONS: '4', WS_HOLD: '4s', WS_MSG_RATE: '20', DRAIN_AT: '1500ms', DRAIN_SETTLE: '0ms' })
  const out = sink()
  const reports = await runScenarios({ baseUrl: router.baseUrl, deployments: ['a', 'b'], mediaNodes: ['n1', 'n2'], nodeAdmin: adminOf(router) }, options, out)
  t.same(reports.map((r) => r.name), ['smoke', 'http-load', 'ws-sessions', 'spike', 'drain'])
  for (const r of reports) {
    t.equal(r.skipped, undefined, `${r.name} ran`)
    t.equal(r.error, undefined, `${r.name} did not crash`)
    t.ok(r.results.length > 0, `${r.name} has objectives`)
    t.ok(r.ok, `${r.name} met its objectives: ${r.results.filter((x) => !x.ok).map((x) => x.slo.metric).join(', ')}`)
  }
  t.same(router.drained, ['n1'], 'the first node was drained')
  t.equal(exitCode(reports), 0)
  t.match(out.text, /▶ smoke/)
})

t.test('runScenarios: a drain that cuts sessions misses the drain SLO (exit 1)', async (t) => {
  const router = await startFakeRouter({ drainCutsSessions: true })
  t.teardown(() => router.close())
  const options = parseRunnerOptions({ ...LOOSE, BASE_URL: router.baseUrl, SCENARIOS: 'drain', NODE_IDS: 'n1,n2', WS_SESSIONS: '4', WS_HOLD: '300ms', WS_MSG_RATE: '0', DRAIN_AT: '200ms', DRAIN_SETTLE: '0ms' })
  const reports = await runScenarios({ baseUrl: router.baseUrl, deployments: [], mediaNodes: ['n1', 'n2'], nodeAdmin: adminOf(router) }, options, sink())
  const drain = reports[0]
  t.ok(drain !== undefined)
  const cut = drain?.results.find((r) => r.slo.metric === 'drain.cutRate')
  t.equal(cut?.value, 1, 'every session on the drained node was cut')
  t.equal(cut?.ok, false)
  t.equal(exitCode(reports), 1)
})

t.test('runScenarios: drain is skipped without a way to drain; http errors fail the load SLO', async (t) => {
  const router = await startFakeRouter({ serviceStatus: 500 })
  t.teardown(() => router.close())
  const options = parseRunnerOptions({ ...LOOSE, BASE_URL: router.baseUrl, SCENARIOS: 'http-load,drain', DEPLOYMENT_IDS: 'a', CONNECTIONS: '2', DURATION: '1s' })
  const reports = await runScenarios({ baseUrl: router.baseUrl, deployments: ['a'], mediaNodes: ['n1'], nodeAdmin: () => undefined }, options, sink())
  t.equal(reports[0]?.ok, false, 'http-load fails on 500s')
  t.match(reports[1]?.skipped ?? '', /DRAIN_ADMIN_URL/)
  t.equal(reports[1]?.ok, true, 'a skip is not a failure')
  t.equal(exitCode(reports), 1)
})

t.test('runScenarios: a drain that was refused, or allocations that still land on the drained node, fail (exit 1)', async (t) => {
  const drainOpts = { ...LOOSE, SCENARIOS: 'drain', WS_SESSIONS: '4', WS_HOLD: '400ms', WS_MSG_RATE: '0', DRAIN_AT: '200ms', DRAIN_SETTLE: '0ms', DRAIN_OBSERVE: '300ms' }
  const router = await startFakeRouter()
  t.teardown(() => router.close())
  const refused = await runScenarios(
    { baseUrl: router.baseUrl, deployments: [], mediaNodes: ['n1', 'n2'], nodeAdmin: adminOf(router, 'wrong-token') },
    parseRunnerOptions({ ...drainOpts, BASE_URL: router.baseUrl }),
    sink(),
  )
  const r = refused[0]
  t.equal(r?.results.find((x) => x.slo.metric === 'drain.requested')?.ok, false, 'a 401 is not a drain')
  t.equal(r?.results.find((x) => x.slo.metric === 'drain.observed')?.ok, false, 'and the node never reported DRAINING')
  t.same(router.drained, [], 'nothing was drained')
  t.equal(exitCode(refused), 1)

  const broken = await startFakeRouter({ allocateIgnoresDrain: true })
  t.teardown(() => broken.close())
  const reports = await runScenarios(
    { baseUrl: broken.baseUrl, deployments: [], mediaNodes: ['n1', 'n2'], nodeAdmin: adminOf(broken) },
    parseRunnerOptions({ ...drainOpts, BASE_URL: broken.baseUrl }),
    sink(),
  )
  const elsewhere = reports[0]?.results.find((x) => x.slo.metric === 'after.allocatedElsewhere')
  t.equal(elsewhere?.value, 0.5, 'half of the new sessions went to the drained node')
  t.equal(elsewhere?.ok, false)
  t.equal(reports[0]?.results.find((x) => x.slo.metric === 'drain.requested')?.ok, true, 'the drain itself was fine')
  t.equal(exitCode(reports), 1)
})

t.test('runWsSessions: a whole-second hold at 10 msg/s loses no echo at close (issue 19)', async (t) => {
  const router = await startFakeRouter()
  t.teardown(() => router.close())
  const r = await runWsSessions({ url: (i) => mediaSessionUrl(router.baseUrl, 'n1', `whole-${i}`), clients: 4, msgRate: 10, holdMs: 1000, echoGraceMs: 300 })
  t.ok(r.sent > 0)
  t.equal(r.lost, 0, 'nothing lost')
  t.equal(r.unansweredAtClose, 0)
  t.equal(r.echoed, r.sent, 'every message echoed')
})

t.test('runScenarios: sessions whose echoes never come back fail instead of passing on empty figures', async (t) => {
  const router = await startFakeRouter({ swallowMessages: true })
  t.teardown(() => router.close())
  const options = parseRunnerOptions({ ...LOOSE, BASE_URL: router.baseUrl, SCENARIOS: 'ws-sessions', WS_SESSIONS: '2', WS_HOLD: '600ms', WS_MSG_RATE: '20', WS_ECHO_GRACE: '100ms' })
  const reports = await runScenarios({ baseUrl: router.baseUrl, deployments: [], mediaNodes: ['n1'], nodeAdmin: () => undefined }, options, sink())
  const failed = reports[0]?.results.filter((x) => !x.ok).map((x) => x.slo.metric) ?? []
  t.ok(failed.includes('ws.echoed'), 'no echo is a failure')
  t.ok(failed.includes('ws.rtt.p95'), 'an unmeasured round trip is a failure')
  t.ok(failed.includes('ws.lostRate'), 'every message lost')
  t.equal(exitCode(reports), 1)
})

t.test('options: DRAIN_URL is refused with a pointer; BASE_URL needs DEPLOYMENT_IDS for HTTP scenarios', async (t) => {
  t.throws(() => parseRunnerOptions({ DRAIN_URL: 'https://admin.example.internal/admin/drain' }), /DRAIN_URL is gone.*DRAIN_ADMIN_URL/)
  t.throws(() => parseRunnerOptions({ BASE_URL: 'https://edge.example.com' }), /DEPLOYMENT_IDS is required with BASE_URL/)
  t.same(parseRunnerOptions({ BASE_URL: 'https://edge.example.com', SCENARIOS: 'ws-sessions' }).nodeIds, [], 'nodes are discovered, not guessed')
  t.same(parseRunnerOptions({}).deploymentIds, [], 'no guessed deployment for the dev stack either')
})
