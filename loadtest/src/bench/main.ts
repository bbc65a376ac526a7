// Bench entry point (npm run bench): one upstream served four+ ways — direct,
// our router, nginx, HAProxy, minimal Node proxies (http-proxy, undici) and the Node floor —
// measured for HTTP keep-alive and WebSockets over several rounds in rotated
// order. Prints medians with min–max and ratios, writes JSON and an SVG chart.

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { OptionError } from '../lib/options.js'
import { ProgressLine, formatElapsed } from '../lib/progress.js'
import { detectPinning, killAllChildren, siblingScript, spawnNodeScript, type Child } from './child.js'
import { measureHttp, measureWs, warmUp, type MeasureContext } from './measure.js'
import { benchRaw, parseBenchOptions, type BenchOptions } from './options.js'
import { clockTicksPerSecond } from './procfs.js'
import { asReady } from './protocol.js'
import { aggregate, buildTables, renderMarkdown, renderText, type TargetRound } from './report.js'
import { benchPanels, renderSvg } from './chart.js'
import { TARGETS, type RunningTarget, type TargetName, type Upstream } from './targets.js'

/** The repository root: the nearest ancestor of this module with a package.json. */
export function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir
    dir = dirname(dir)
  }
  throw new Error('cannot find the repository root (package.json) above the bench')
}

/** Rotates `items` left by `n` so each round starts with a different target. */
export function rotate<T>(items: readonly T[], n: number): T[] {
  if (items.length === 0) return []
  const k = n % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

function log(line: string): void {
  process.stdout.write(line + '\n')
}

/** Starts the bench upstream child and reads its HTTP and WebSocket ports. */
export async function startUpstream(cpu: string | undefined, verbose: boolean): Promise<{ child: Child; upstream: Upstream }> {
  const child = spawnNodeScript(siblingScript('./upstream.js'), { cpu, label: 'upstream', verbose })
  const ready = await child.message(asReady, 20_000)
  const httpPort = ready.ports['http']
  const wsPort = ready.ports['ws']
  if (httpPort === undefined || wsPort === undefined) throw new Error('upstream ready message lacks ports')
  return { child, upstream: { httpPort, wsPort } }
}

function installIfNeeded(opts: BenchOptions, root: string, selected: TargetName[]): void {
  const missing = selected.filter((t) => (t === 'nginx' || t === 'haproxy') && TARGETS[t].unavailable({ repoRoot: root }) !== undefined)
  if (missing.length === 0 || !opts.install) return
  log(`bench: ${missing.join(' and ')} missing; running loadtest/scripts/install-bench-deps.sh`)
  const r = spawnSync('bash', [join(root, 'loadtest', 'scripts', 'install-bench-deps.sh')], { stdio: 'inherit' })
  if (r.status !== 0) log('bench: install-bench-deps.sh failed; those targets will be skipped')
}

export interface BenchResult {
  version: 1
  startedAt: string
  finishedAt: string
  command: string
  /** loadavg: 1/5/15-minute load averages at start and end — other work on the machine shows here. */
  machine: { cpus: number; cpuModel: string; kernel: string; node: string; loadavgStart: number[]; loadavgEnd: number[] }
  options: BenchOptions
  pinning: { loadCpu: string | null; proxyCpu: string | null }
  skipped: Record<string, string>
  measured: string[]
  runs: TargetRound[]
  summary: ReturnType<typeof aggregate>
}

async function main(argv: readonly string[]): Promise<number> {
  let opts: BenchOptions
  try {
    opts = parseBenchOptions(benchRaw(process.env, argv))
  } catch (err) {
    if (err instanceof OptionError) {
      process.stderr.write(`bench: ${err.message}\n`)
      return 2
    }
    throw err
  }
  const root = findRepoRoot()
  const started = new Date()
  const loadStart = loadavg()
  if (!opts.smoke) installIfNeeded(opts, root, opts.targets)

  const skipped: Record<string, string> = {}
  const selected: TargetName[] = []
  for (const t of opts.targets) {
    const why = TARGETS[t].unavailable({ repoRoot: root })
    if (why === undefined) selected.push(t)
    else {
      skipped[t] = why
      log(`bench: skipping ${t}: ${why}`)
    }
  }
  if (selected.length === 0) {
    process.stderr.write('bench: no target can run here\n')
    return 1
  }

  const pinning = detectPinning(opts.pin)
  if (pinning.loadCpu !== undefined) spawnSync('taskset', ['-p', '-c', pinning.loadCpu, String(process.pid)], { stdio: 'ignore' })
  log(
    `bench: ${selected.join(', ')} | ${opts.rounds} round(s) × HTTP ${opts.connections.join('/')} conns × ${opts.durationMs / 1000}s + ${opts.wsCount} WebSockets` +
      ` | ${pinning.proxyCpu !== undefined ? `proxy on CPU ${pinning.proxyCpu}, load+upstream on CPU ${pinning.loadCpu}` : 'no CPU pinning'}`,
  )

  const workDir = mkdtempSync(join(tmpdir(), 'bench-'))
  const runs: TargetRound[] = []
  let status = 'starting'
  let where = ''
  const t0 = Date.now()
  const progress = new ProgressLine(() => `  [${formatElapsed(Date.now() - t0)}] ${where} ${status}`)
  const ctx: MeasureContext = { loadCpu: pinning.loadCpu, ticksPerSecond: clockTicksPerSecond(), verbose: opts.verbose, setStatus: (s) => (status = s) }
  let upstreamChild: Child | undefined
  const cleanup = async (): Promise<void> => {
    progress.stop()
    await upstreamChild?.stop()
    rmSync(workDir, { recursive: true, force: true })
  }
  process.once('exit', killAllChildren)
  const onSignal = (): void => {
    process.stderr.write('\nbench: interrupted, stopping every child process\n')
    killAllChildren()
    void cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  try {
    for (let round = 0; round < opts.rounds; round++) {
      const up = await startUpstream(pinning.loadCpu, opts.verbose)
      upstreamChild = up.child
      for (const name of rotate(selected, round)) {
        where = `round ${round + 1}/${opts.rounds} ${name}:`
        status = 'starting'
        const entry: TargetRound = { target: name, round, http: [], ws: null }
        runs.push(entry)
        const start = (): Promise<RunningTarget> =>
          TARGETS[name].start({ upstream: up.upstream, cpu: pinning.proxyCpu, workDir, repoRoot: root, maxConnections: Math.max(opts.wsCount, ...opts.connections), verbose: opts.verbose })
        // HTTP, then WebSockets on a fresh proxy process: its RSS baseline holds
        // no garbage from the HTTP phase, and collecting that garbage does not
        // pause the echo rounds.
        const phases: Array<(running: RunningTarget) => Promise<void>> = [
          async (running) => {
            await warmUp(running, opts.connections[0] ?? 10, opts.warmupMs, ctx)
            for (const c of opts.connections) entry.http.push(await measureHttp(running, c, opts.durationMs, ctx))
          },
        ]
        if (opts.wsCount > 0) {
          phases.push(async (running) => {
            entry.ws = await measureWs(running, { count: opts.wsCount, procs: opts.wsProcs, concurrency: opts.wsConcurrency, echoRounds: opts.echoRounds, echoRate: opts.echoRate, holdMs: opts.wsHoldMs }, ctx)
          })
        }
        for (const phase of phases) {
          let running: RunningTarget
          try {
            running = await start()
          } catch (err) {
            entry.error = `start failed: ${err instanceof Error ? err.message : String(err)}`
            break
          }
          try {
            await phase(running)
          } catch (err) {
            entry.error = err instanceof Error ? err.message : String(err)
          } finally {
            const tail = running.logTail().trim()
            if (tail !== '') entry.proxyLog = entry.proxyLog !== undefined ? `${entry.proxyLog}\n${tail}` : tail
            await running.stop()
          }
          if (entry.error !== undefined) break
        }
        progress.stop()
        const h = entry.http.map((x) => `${x.connections}c ${x.rps.toFixed(0)} rps p99 ${x.p99.toFixed(2)} ms${x.cpuUsPerReq !== null ? ` ${x.cpuUsPerReq.toFixed(1)} µs/req` : ''}${x.errors > 0 ? ` ${x.errors} err (${x.badStatus} bad status)` : ''}`).join(' | ')
        const w = entry.ws !== null ? ` | ws held ${entry.ws.held}/${entry.ws.count} p99 ${entry.ws.p99.toFixed(2)} ms${entry.ws.rssPerConnKb !== null ? ` ${entry.ws.rssPerConnKb.toFixed(1)} KB/conn` : ''}${entry.ws.rssTotalPerConnKb !== null ? ` (${entry.ws.rssTotalPerConnKb.toFixed(1)} incl. process growth)` : ''}` : ''
        log(`  round ${round + 1} ${name}: ${h}${w}${entry.error !== undefined ? ` | ERROR ${entry.error}` : ''}`)
      }
      await up.child.stop()
      upstreamChild = undefined
    }
  } finally {
    await cleanup()
  }

  const summary = aggregate(runs, selected, opts.connections)
  const tables = buildTables(summary, opts.connections)
  log('\n' + renderText(tables))
  for (const [t, why] of Object.entries(skipped)) log(`(${t} not measured: ${why})`)
  log(`load average at start ${loadStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${cpus().length} CPUs)`)

  const outDir = opts.outDir ?? join(root, 'loadtest', 'results')
  mkdirSync(outDir, { recursive: true })
  const stamp = started.toISOString().replace(/[:.]/g, '-')
  const command = ['npm run bench', ...argv].join(' ')
  const result: BenchResult = {
    version: 1,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', kernel: release(), node: process.version, loadavgStart: loadStart, loadavgEnd: loadavg() },
    options: opts,
    pinning: { loadCpu: pinning.loadCpu ?? null, proxyCpu: pinning.proxyCpu ?? null },
    skipped,
    measured: selected,
    runs,
    summary,
  }
  const jsonPath = join(outDir, `bench-${stamp}.json`)
  writeFileSync(jsonPath, JSON.stringify(result, null, 2) + '\n')
  const subtitle = `${started.toISOString().slice(0, 16)}Z · ${result.machine.cpus}× ${result.machine.cpuModel} · node ${process.version} · ${opts.rounds} round(s), median with min–max whiskers · ${pinning.proxyCpu !== undefined ? 'proxy pinned to its own core' : 'no pinning'}`
  const svgPath = join(outDir, `bench-${stamp}.svg`)
  writeFileSync(svgPath, renderSvg('Edge router bench: one upstream, served through each proxy', subtitle, benchPanels(summary, opts.connections)))
  const mdPath = join(outDir, `bench-${stamp}.md`)
  writeFileSync(mdPath, renderMarkdown(tables) + '\n')
  log(`\nbench: wrote ${relative(process.cwd(), jsonPath)}, ${relative(process.cwd(), svgPath)} and ${relative(process.cwd(), mdPath)}`)
  const allFailed = selected.filter((t) => runs.filter((r) => r.target === t).every((r) => r.error !== undefined))
  if (allFailed.length > 0) {
    log(`bench: every round failed for ${allFailed.join(', ')}`)
    return 1
  }
  return 0
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      process.exit(2)
    },
  )
}
