// Local load runner (npm run loadtest): runs the k6 scenarios' equivalents
// without k6 — autocannon for HTTP, `ws` clients for WebSockets — against the
// local dev stack it starts itself, or against BASE_URL when set. Shows a live
// progress line, prints a summary table, exits 1 when an SLO is missed.

import { pathToFileURL } from 'node:url'
import { parseRunnerOptions, type RunnerOptions } from './config.js'
import { OptionError, parseFlags } from './lib/options.js'
import { ProgressLine, formatElapsed } from './lib/progress.js'
import { startLocalStack, type DevStack } from './lib/dev-stack.js'
import { evaluateReport, exitCode, summaryTable, type EvaluatedReport } from './lib/summary.js'
import type { Scenario, Target } from './scenarios/scenario.js'
import { smoke } from './scenarios/smoke.js'
import { httpLoad } from './scenarios/http-load.js'
import { wsSessions } from './scenarios/ws-sessions.js'
import { spike } from './scenarios/spike.js'
import { drain } from './scenarios/drain.js'
import { discoverNodes, type NodeAdmin } from './lib/node-admin.js'

export const SCENARIOS: readonly Scenario[] = [smoke, httpLoad, wsSessions, spike, drain]

/** DRAIN_ADMIN_URL names one node's admin listener: the drained one (the drain scenario checks /status says so). */
export function adminFromOptions(options: RunnerOptions): (nodeId: string) => NodeAdmin | undefined {
  const url = options.drainAdminUrl
  if (url === undefined) return () => undefined
  return () => ({ url, token: options.drainToken ?? '' })
}

/** Runs the selected scenarios in order and returns their evaluated reports. */
export async function runScenarios(target: Target, options: RunnerOptions, out: NodeJS.WritableStream = process.stdout): Promise<EvaluatedReport[]> {
  const reports: EvaluatedReport[] = []
  for (const scenario of SCENARIOS.filter((s) => options.scenarios.some((n) => n === s.name))) {
    out.write(`\n▶ ${scenario.name}: ${scenario.question}\n`)
    let status = 'starting'
    const started = Date.now()
    const progress = options.quiet ? undefined : new ProgressLine(() => `  [${scenario.name} ${formatElapsed(Date.now() - started)}] ${status}`)
    let report: EvaluatedReport
    try {
      const outcome = await scenario.run({ target, options, setStatus: (s) => (status = s) })
      report = evaluateReport({ name: scenario.name, question: scenario.question, ...outcome })
    } catch (err) {
      report = evaluateReport({ name: scenario.name, question: scenario.question, measurements: {}, slos: [], notes: [], error: err instanceof Error ? err.message : String(err) })
    } finally {
      progress?.stop()
    }
    if (report.skipped !== undefined) out.write(`  skipped: ${report.skipped}\n`)
    for (const n of report.notes) out.write(`  ${n}\n`)
    if (report.error !== undefined) out.write(`  error: ${report.error}\n`)
    out.write(`  ${report.skipped !== undefined ? 'SKIP' : report.ok ? 'pass' : 'FAIL'} in ${formatElapsed(Date.now() - started)}\n`)
    reports.push(report)
  }
  return reports
}

/** The dev stack's media node admin listeners and token. */
export function localAdmin(stack: DevStack): (nodeId: string) => NodeAdmin | undefined {
  return (nodeId) => {
    const url = stack.mediaAdminUrls[nodeId]
    return url === undefined ? undefined : { url, token: stack.adminToken ?? '' }
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let options: RunnerOptions
  try {
    options = parseRunnerOptions(process.env, parseFlags(argv))
  } catch (err) {
    if (err instanceof OptionError) {
      process.stderr.write(`loadtest: ${err.message}\n`)
      return 2
    }
    throw err
  }

  let stack: DevStack | undefined
  let target: Target
  if (options.baseUrl !== undefined) {
    let mediaNodes = options.nodeIds
    const needNodes = options.scenarios.some((n) => n !== 'http-load' && n !== 'spike')
    if (mediaNodes.length === 0 && needNodes) {
      const found = await discoverNodes(options.baseUrl)
      if (found.nodes.length === 0) {
        process.stderr.write(`loadtest: NODE_IDS not set and GET ${options.baseUrl}/media/allocate found no node (${found.lastError ?? 'no answer'}); set NODE_IDS\n`)
        return 2
      }
      mediaNodes = found.nodes
      process.stdout.write(`loadtest: media nodes discovered through /media/allocate: ${mediaNodes.join(', ')}\n`)
    }
    target = { baseUrl: options.baseUrl, deployments: options.deploymentIds, mediaNodes, nodeAdmin: adminFromOptions(options) }
    process.stdout.write(`loadtest: targeting ${target.baseUrl}\n`)
  } else {
    process.stdout.write('loadtest: starting the local dev stack…\n')
    stack = await startLocalStack(true)
    target = {
      baseUrl: stack.routerUrl,
      deployments: options.deploymentIds.length > 0 ? options.deploymentIds : stack.deployments,
      mediaNodes: options.nodeIds.length > 0 ? options.nodeIds : stack.mediaNodes,
      nodeAdmin: options.drainAdminUrl !== undefined ? adminFromOptions(options) : localAdmin(stack),
    }
    process.stdout.write(`loadtest: dev stack router at ${target.baseUrl}\n`)
  }
  process.stdout.write(`  deployments: ${target.deployments.join(', ') || '(none)'}; media nodes: ${target.mediaNodes.join(', ') || '(none)'}\n`)

  const closeStack = async (): Promise<void> => {
    const s = stack
    stack = undefined
    if (s !== undefined) await s.close()
  }
  const onSignal = (): void => {
    process.stderr.write('\nloadtest: interrupted, stopping the stack\n')
    void closeStack().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const reports = await runScenarios(target, options)
    process.stdout.write('\nSummary\n' + summaryTable(reports) + '\n')
    const code = exitCode(reports)
    process.stdout.write(code === 0 ? '\nAll objectives met.\n' : '\nSome objectives were missed (exit 1).\n')
    return code
  } finally {
    await closeStack()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Exit now: keep-alive sockets of the load clients must not hold the run open.
      process.exit(code)
    },
    (err: unknown) => {
      process.stderr.write(`loadtest: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      process.exitCode = 2
    },
  )
}
