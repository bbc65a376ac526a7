// The run itself, started by main.ts on the client host (inside its network
// namespace, so it reaches every host's address): starts the tier, puts the
// steady load on, runs the scenarios one after the other, prints the table,
// writes the JSON document, stops everything it started. Exit 0 when every
// scenario passed, 1 otherwise.
//   node conductor.js <runDir> <full 0|1> <json path> [scenario,ids]

import { writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TierLoad } from './load.js'
import { DEPLOYMENTS, FULL, SHORT, tierHosts } from './plan.js'
import { crashed, tierDocument, tierMarkdown, tierSummaryLine, tierTable } from './report.js'
import { SCENARIOS, rollingRestartScenario, type ScenarioContext } from './scenarios.js'
import { TierStack } from './stack.js'
import { judge, type Judged } from './known.js'

const started = Date.now()
const loadAtStart = loadavg()[0] ?? 0
const log = (msg: string): void => {
  process.stderr.write(`[tier +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`)
}

async function main(): Promise<number> {
  const [runDir, fullArg, jsonPath, only] = process.argv.slice(2)
  if (runDir === undefined || jsonPath === undefined) throw new Error('usage: conductor.js <runDir> <full 0|1> <json path> [scenario,ids]')
  const sizes = fullArg === '1' ? FULL : SHORT
  const wanted = only === undefined || only === '' ? undefined : new Set(only.split(','))
  // dist/loadtest/src/tier/conductor.js → dist/
  const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
  const stack = new TierStack({ hosts: tierHosts(), sizes, runDir, dist, log })
  const load = new TierLoad({
    baseUrl: stack.lbUrl,
    deployments: DEPLOYMENTS,
    httpRps: sizes.httpRps,
    httpConnections: sizes.full ? 50 : 20,
    wsSessions: sizes.wsSessions,
    wsMsgRate: sizes.wsMsgRate,
    holdMinMs: sizes.holdMinMs,
    holdMaxMs: sizes.holdMaxMs,
    rampMs: sizes.full ? 10_000 : 4_000,
  })
  let stopping = false
  const onSignal = (sig: string): void => {
    if (stopping) return
    stopping = true
    log(`${sig}: stopping the load and the tier`)
    void load
      .stop()
      .catch(() => undefined)
      .then(() => stack.stopAll())
      .finally(() => process.exit(130))
  }
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGTERM', () => onSignal('SIGTERM'))

  const results: Judged[] = []
  try {
    log(`starting the tier (${sizes.full ? 'full' : 'short'} run) in ${runDir}`)
    await stack.start()
    log(`tier up: LB ${stack.lbUrl}, routers ${[...stack.routers.keys()].join(' ')}, media ${[...stack.media.values()].map((m) => m.nodeId).join(' ')}`)
    load.start()
    log(`load: ${sizes.httpRps} HTTP req/s over ${DEPLOYMENTS.join(', ')}; ${sizes.wsSessions} WebSocket sessions at ${sizes.wsMsgRate} msg/s`)
    await new Promise((r) => setTimeout(r, (sizes.full ? 10_000 : 4_000) + sizes.settleMs))
    const ctx: ScenarioContext = { stack, load, log }
    for (const sc of SCENARIOS) {
      if (wanted !== undefined && !wanted.has(sc.id)) continue
      if (stopping) break
      log(`scenario ${sc.id}`)
      try {
        if (sc.mode !== stack.mode) {
          log(`rolling the routers into ${sc.mode} mode first`)
          await rollingRestartScenario(sc.mode, 'switch', 'switch')(ctx)
        }
        const r = judge(await sc.run(ctx))
        results.push(r)
        for (const k of r.knownPassed) log(k)
        log(`scenario ${sc.id}: ${r.pass ? 'PASS' : 'FAIL'}`)
      } catch (err) {
        log(`scenario ${sc.id} could not finish: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
        results.push(judge(crashed(sc.id, err)))
      }
    }
  } catch (err) {
    log(`the tier failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    results.push(judge(crashed('tier-start', err)))
  } finally {
    await load.stop().catch(() => undefined)
    await stack.stopAll().catch(() => undefined)
  }
  const doc = tierDocument({
    full: sizes.full,
    startedAt: new Date(started).toISOString(),
    durationS: Math.round((Date.now() - started) / 1000),
    sizes: { ...sizes },
    scenarios: results,
    httpErrors: load.httpErrorMessages(),
    loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
  })
  writeFileSync(jsonPath, `${JSON.stringify(doc, null, 2)}\n`)
  // The same table as Markdown, for loadtest/TIER.md.
  writeFileSync(join(runDir, 'tier.md'), `${tierMarkdown(results)}\n`)
  // Raw events for digging into a result: every session event, every failed HTTP answer.
  const raw = [...load.ws.map((e) => JSON.stringify(e)), ...load.http.filter((e) => e.status === 0 || e.status >= 400).map((e) => JSON.stringify({ kind: 'http-failed', ...e }))]
  writeFileSync(join(runDir, 'events.jsonl'), `${raw.join('\n')}\n`)
  process.stdout.write(`\n${tierTable(results)}\n\ntier: ${tierSummaryLine(results)} (${sizes.full ? 'full' : 'short'} run, ${doc.durationS} s, load average ${doc.loadAverage.start.toFixed(1)} → ${doc.loadAverage.end.toFixed(1)} on ${availableParallelism()} CPUs); JSON: ${jsonPath}; logs: ${runDir}\n`)
  return doc.pass ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`conductor failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    process.exit(1)
  },
)
