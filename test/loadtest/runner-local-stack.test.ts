// `npm run loadtest`'s scenarios against the real local stack (router, media
// nodes, demo backends, Cloud Map emulator; what `npm start` runs, on port 0):
// every scenario meets its objectives at a small load, the drain goes through
// node-1's own admin listener and is observed, and no echo is counted lost.
// SLO latencies are loose (a shared, busy machine); counts and outcomes are what
// is asserted.

import t from 'tap'
import { Writable } from 'node:stream'
import { parseRunnerOptions } from '../../loadtest/src/config.js'
import { localAdmin, runScenarios } from '../../loadtest/src/run.js'
import { startLocalStack } from '../../loadtest/src/lib/dev-stack.js'
import { exitCode } from '../../loadtest/src/lib/summary.js'

const sink = (): Writable & { text: string } => {
  const w = Object.assign(new Writable({ write: (c: Buffer, _e, cb) => ((w.text += c.toString()), cb()) }), { text: '' })
  return w
}

t.test('every scenario passes against the local stack, the drain through the node admin API', async (t) => {
  const stack = await startLocalStack(true)
  t.teardown(() => stack.close())
  t.same(Object.keys(stack.mediaAdminUrls).sort(), ['node-1', 'node-2'], 'the stack exposes both admin listeners')
  const options = parseRunnerOptions({
    QUIET: '1',
    CONNECTIONS: '2',
    SPIKE_VUS: '4',
    DURATION: '3s',
    WS_SESSIONS: '4',
    WS_HOLD: '2s',
    WS_MSG_RATE: '10',
    DRAIN_AT: '1s',
    DRAIN_SETTLE: '2s',
    SLO_HTTP_P95_MS: '600000',
    SLO_HTTP_P99_MS: '600000',
    SLO_WS_CONNECT_P95_MS: '600000',
    SLO_WS_RTT_P95_MS: '600000',
    SLO_WS_RTT_P99_MS: '600000',
  })
  const out = sink()
  const reports = await runScenarios({ baseUrl: stack.routerUrl, deployments: stack.deployments, mediaNodes: stack.mediaNodes, nodeAdmin: localAdmin(stack) }, options, out)
  for (const r of reports) {
    t.equal(r.skipped, undefined, `${r.name} ran`)
    t.equal(r.error, undefined, `${r.name} did not crash`)
    t.ok(r.ok, `${r.name} met its objectives: ${r.results.filter((x) => !x.ok).map((x) => `${x.slo.metric}=${x.value}`).join(', ')}`)
  }
  const ws = reports.find((r) => r.name === 'ws-sessions')
  t.equal(ws?.measurements['ws.lostRate'], 0, 'no echo counted lost at close')
  t.ok((ws?.measurements['ws.echoed'] ?? 0) > 0)
  const drain = reports.find((r) => r.name === 'drain')
  t.equal(drain?.measurements['drain.requested'], 1, 'POST /admin/drain accepted')
  t.equal(drain?.measurements['drain.observed'], 1, 'node-1 reported DRAINING')
  t.equal(drain?.measurements['after.allocatedElsewhere'], 1, 'every new session went to node-2')
  t.equal(exitCode(reports), 0)
  t.match(out.text, /drain of node-1 at .*accepted \(202, DRAINING\); node reported DRAINING/)
})
