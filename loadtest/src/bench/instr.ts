// npm run bench:instr — user-space instructions per proxied HTTP request,
// counted by callgrind, for the router and the minimal undici proxy (and, on
// request, the other Node targets). Instruction counts repeat to ≈ 1 % where
// CPU time on a shared 2-core machine moves by ±20 %.
// Method: each target runs under valgrind with instrumentation off; a warm-up
// of sequential keep-alive requests from this process (outside valgrind) heats
// the JIT; instrumentation is switched on (callgrind_control) and more requests
// let the JIT settle at valgrind's speed; then W windows of N requests are
// counted (zero, send N, dump), each window's Ir / N is one value, and a run's
// figure is the median window. Why the median: at valgrind's speed V8 keeps
// deoptimising and recompiling now and then (weak-map and wrong-map deopts
// after major GCs) — a burst of 10–250 % on the window it lands in, about one
// window in three, and no V8 flag tried (--single-threaded, --predictable)
// removed it. The median is the steady per-request cost; the mean, printed
// too, carries the bursts. Each run starts fresh processes.
// --keep-dumps=<dir> keeps each window's callgrind dump there (for
// callgrind_annotate --inclusive=yes); by default they go with the work dir.

import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runHttpLoad } from '../lib/http-load.js'
import { OptionError, checkChoices, mergeOptions, parseFlags, readBool, readInt, readList, readOptionalString } from '../lib/options.js'
import { runAsEntry, withUpstream } from './bench-tool.js'
import { callgrindLauncher, dumpCounts, haveCallgrind, instructionsOf, instrumentationOn, perRequest, spread, zeroCounts } from './callgrind.js'
import { findRepoRoot } from './main.js'
import { TARGETS, withoutUnsetBefore, type RunningTarget, type TargetName, type Upstream } from './targets.js'

const NODE_TARGETS = ['router', 'router-before', 'undici', 'http-proxy', 'node-floor'] as const satisfies readonly TargetName[]
const KNOWN = ['TARGETS', 'REQUESTS', 'WINDOWS', 'WARMUP', 'SETTLE', 'CONNECTIONS', 'RUNS', 'INSTALL', 'VERBOSE', 'ACCESS_LOG', 'KEEP_DUMPS']
/** The goal: router ≤ 1.25 × the minimal undici proxy. */
const GOAL_RATIO = 1.25

function log(line: string): void {
  process.stdout.write(line + '\n')
}

interface InstrOptions {
  targets: (typeof NODE_TARGETS)[number][]
  /** Requests per counted window. */
  requests: number
  windows: number
  warmup: number
  settle: number
  connections: number
  runs: number
  install: boolean
  verbose: boolean
  /** The router's ACCESS_LOG (on as it ships; off to measure what the log costs). */
  accessLog: boolean
  /** Directory the windows' callgrind dumps are copied to; undefined: not kept. */
  keepDumps: string | undefined
}

function readOptions(argv: readonly string[]): InstrOptions {
  const src = mergeOptions({}, parseFlags(argv), KNOWN)
  return {
    targets: checkChoices('TARGETS', readList(src, 'TARGETS', withoutUnsetBefore(['router', 'router-before', 'undici'])), NODE_TARGETS),
    requests: readInt(src, 'REQUESTS', 1500, 100, 1_000_000),
    windows: readInt(src, 'WINDOWS', 9, 1, 100),
    warmup: readInt(src, 'WARMUP', 3000, 0, 1_000_000),
    settle: readInt(src, 'SETTLE', 6000, 0, 1_000_000),
    connections: readInt(src, 'CONNECTIONS', 1, 1, 64),
    runs: readInt(src, 'RUNS', 1, 1, 20),
    install: readBool(src, 'INSTALL', true),
    verbose: readBool(src, 'VERBOSE', false),
    accessLog: readBool(src, 'ACCESS_LOG', true),
    keepDumps: readOptionalString(src, 'KEEP_DUMPS'),
  }
}

/** `amount` keep-alive requests; fails unless every one got a 2xx/3xx. */
async function send(target: RunningTarget, amount: number, connections: number): Promise<number> {
  if (amount === 0) return 0
  const r = await runHttpLoad({ url: target.httpUrl, connections, durationMs: 3_600_000, amount, timeoutS: 120 })
  if (r.transportErrors > 0 || r.badStatus > 0 || r.responses !== amount) {
    throw new Error(`${target.httpUrl}: ${r.responses}/${amount} responses, ${r.badStatus} with status >= 400, ${r.transportErrors} transport errors; stderr: ${target.logTail()}`)
  }
  return r.responses
}

/** Instructions per request of each counted window of one fresh target process. */
async function measureOne(name: TargetName, opts: InstrOptions, workDir: string, upstream: Upstream, run: number): Promise<number[]> {
  const outBase = join(workDir, `${name}-run${run}.callgrind`)
  const target = await TARGETS[name].start({
    upstream,
    cpu: undefined,
    workDir,
    repoRoot: findRepoRoot(),
    maxConnections: opts.connections,
    verbose: opts.verbose,
    nodeLauncher: callgrindLauncher(outBase),
    nodeEnv: { ACCESS_LOG: String(opts.accessLog) },
    startTimeoutMs: 300_000,
  })
  try {
    const pid = target.pid
    if (pid === undefined) throw new Error(`${name} has no process to count`)
    await send(target, opts.warmup, opts.connections)
    instrumentationOn(pid, outBase)
    await send(target, opts.settle, opts.connections)
    const windows: number[] = []
    for (let w = 0; w < opts.windows; w++) {
      zeroCounts(pid, outBase)
      const responses = await send(target, opts.requests, opts.connections)
      const dump = await dumpCounts(pid, outBase)
      if (opts.keepDumps !== undefined) {
        mkdirSync(opts.keepDumps, { recursive: true })
        writeFileSync(join(opts.keepDumps, `${name}-log-${opts.accessLog ? 'on' : 'off'}-run${run}-w${w + 1}.callgrind`), dump)
      }
      windows.push(perRequest(instructionsOf(dump), responses))
    }
    return windows
  } finally {
    await target.stop()
  }
}

function installValgrind(root: string): void {
  log('bench:instr: valgrind missing; running loadtest/scripts/install-valgrind.sh')
  const r = spawnSync('bash', [join(root, 'loadtest', 'scripts', 'install-valgrind.sh')], { stdio: 'inherit' })
  if (r.status !== 0) throw new Error('install-valgrind.sh failed')
}

const fmt = (n: number): string => n.toLocaleString('en-US')

async function main(argv: readonly string[]): Promise<number> {
  const opts = readOptions(argv)
  const root = findRepoRoot()
  if (!haveCallgrind()) {
    if (!opts.install) throw new OptionError('valgrind is not installed (run loadtest/scripts/install-valgrind.sh, or drop --install=false)')
    installValgrind(root)
  }
  for (const t of opts.targets) {
    const why = TARGETS[t].unavailable({ repoRoot: root })
    if (why !== undefined) throw new Error(`${t}: ${why}`)
  }
  log(
    `bench:instr: ${opts.windows} windows of ${fmt(opts.requests)} keep-alive GETs over ${opts.connections} connection(s) counted per target and run, ` +
      `after ${fmt(opts.warmup)} warm-up requests (not instrumented) and ${fmt(opts.settle)} settling ones (instrumented, not counted); router ACCESS_LOG=${opts.accessLog}`,
  )
  const byTarget = new Map<TargetName, number[]>(opts.targets.map((t) => [t, []]))
  await withUpstream('bench-instr-', undefined, opts.verbose, async (workDir, upstream) => {
    for (let run = 1; run <= opts.runs; run++) {
      for (const name of opts.targets) {
        const windows = await measureOne(name, opts, workDir, upstream, run)
        const median = Math.round(spread(windows).median)
        const mean = Math.round(windows.reduce((a, b) => a + b, 0) / windows.length)
        byTarget.get(name)?.push(median)
        log(`run ${run}: ${name} ${fmt(median)} instructions per request (median window; mean ${fmt(mean)}; windows ${windows.map(fmt).join(', ')})`)
      }
    }
  })

  log('\n| target | instructions per request (median of runs) | runs | spread |\n|---|---:|---|---:|')
  for (const [name, values] of byTarget) {
    const s = spread(values)
    log(`| ${name} | ${fmt(Math.round(s.median))} | ${values.map(fmt).join(', ')} | ${(s.spread * 100).toFixed(1)} % |`)
  }
  const router = byTarget.get('router')
  const undici = byTarget.get('undici')
  if (router !== undefined && undici !== undefined) {
    const ratios = router.map((r, i) => r / (undici[i] ?? Number.NaN))
    const median = spread(ratios).median
    log(`\nrouter / undici: ${median.toFixed(3)} (per run: ${ratios.map((r) => r.toFixed(3)).join(', ')}); goal ≤ ${GOAL_RATIO}: ${median <= GOAL_RATIO ? 'met' : 'not met'}`)
  }
  const before = byTarget.get('router-before')
  if (router !== undefined && before !== undefined) {
    const ratios = router.map((r, i) => r / (before[i] ?? Number.NaN))
    log(`router / router-before: ${spread(ratios).median.toFixed(3)} (per run: ${ratios.map((r) => r.toFixed(3)).join(', ')})`)
  }
  return 0
}

runAsEntry(import.meta.url, 'bench:instr', main)
