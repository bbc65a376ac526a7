// npm run bench:alloc — bytes allocated per proxied HTTP request by each Node
// target (router, minimal undici and http-proxy proxies, the node:net floor),
// and the router's largest allocation sites. Unlike CPU time on a shared VM,
// this figure is steady from run to run, so it shows small hot-path changes.
// Method: the target starts with alloc-sampler.ts preloaded; after a warm-up,
// sampling runs (collected objects included) during one keep-alive load run,
// and the sampled bytes are divided by the responses of that run.

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { OptionError, checkChoices, mergeOptions, parseFlags, readBool, readDurationMs, readInt, readList } from '../lib/options.js'
import { detectPinning, siblingScript } from './child.js'
import { runAsEntry, withUpstream } from './bench-tool.js'
import { clockTicksPerSecond } from './procfs.js'
import { measureHttp, warmUp, type MeasureContext } from './measure.js'
import { summarizeAllocProfile, type AllocSummary } from './alloc-profile.js'
import { findRepoRoot } from './main.js'
import { TARGETS, withoutUnsetBefore, type RunningTarget, type TargetName } from './targets.js'

const NODE_TARGETS = ['router', 'router-before', 'undici', 'http-proxy', 'node-floor'] as const satisfies readonly TargetName[]
const KNOWN = ['TARGETS', 'CONNECTIONS', 'DURATION', 'WARMUP', 'TOP', 'PIN', 'VERBOSE']

function log(line: string): void {
  process.stdout.write(line + '\n')
}

async function waitForFile(path: string, target: RunningTarget, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`the sampler wrote no ${path} within ${timeoutMs} ms; stderr: ${target.logTail()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function signal(pid: number | undefined): void {
  if (pid === undefined) throw new Error('target has no process to sample')
  process.kill(pid, 'SIGUSR2')
}

async function main(argv: readonly string[]): Promise<number> {
  const src = mergeOptions({}, parseFlags(argv), KNOWN)
  const targets = checkChoices('TARGETS', readList(src, 'TARGETS', withoutUnsetBefore(NODE_TARGETS)), NODE_TARGETS)
  const connections = readInt(src, 'CONNECTIONS', 50, 1, 2000)
  const durationMs = readDurationMs(src, 'DURATION', 5000, 1000, 120_000)
  const warmupMs = readDurationMs(src, 'WARMUP', 3000, 0, 60_000)
  const top = readInt(src, 'TOP', 15, 0, 200)
  const verbose = readBool(src, 'VERBOSE', false)
  const pinning = detectPinning(readBool(src, 'PIN', true))
  const root = findRepoRoot()
  const sampler = siblingScript('./alloc-sampler.js')
  if (!sampler.endsWith('.js')) throw new OptionError('run the built bench (npm run bench:alloc): the sampler is preloaded into plain node')
  const ctx: MeasureContext = { loadCpu: pinning.loadCpu, ticksPerSecond: clockTicksPerSecond(), verbose, setStatus: () => {} }
  const results: { target: TargetName; responses: number; summary: AllocSummary }[] = []
  await withUpstream('bench-alloc-', pinning.loadCpu, verbose, async (workDir, upstream) => {
    for (const name of targets) {
      const out = join(workDir, `${name}.heapprofile.json`)
      const running = await TARGETS[name].start({
        upstream,
        cpu: pinning.proxyCpu,
        workDir,
        repoRoot: root,
        maxConnections: connections,
        verbose,
        nodeEnv: { NODE_OPTIONS: `--import=${sampler}`, ALLOC_PROFILE_OUT: out },
      })
      try {
        await warmUp(running, connections, warmupMs, ctx)
        signal(running.pid)
        await waitForFile(`${out}.on`, running, 10_000)
        const run = await measureHttp(running, connections, durationMs, ctx)
        signal(running.pid)
        await waitForFile(out, running, 30_000)
        if (run.responses === 0) throw new Error(`${name}: no responses during sampling`)
        const summary = summarizeAllocProfile(readFileSync(out, 'utf8'))
        results.push({ target: name, responses: run.responses, summary })
        log(`${name}: ${(summary.totalBytes / run.responses / 1024).toFixed(1)} KiB allocated per request (${run.responses} responses, ${run.errors} errors)`)
      } finally {
        await running.stop()
      }
    }
  })

  log('\n| target | KiB allocated per proxied request |\n|---|---:|')
  for (const r of results) log(`| ${r.target} | ${(r.summary.totalBytes / r.responses / 1024).toFixed(1)} |`)
  const router = results.find((r) => r.target === 'router')
  if (router !== undefined && top > 0) {
    log(`\nrouter: largest allocation sites, bytes per request (functions in the built files, line numbers of dist/)\n`)
    for (const s of router.summary.sites.slice(0, top)) log(`${(s.bytes / router.responses).toFixed(0).padStart(7)}  ${s.site}`)
  }
  return 0
}

runAsEntry(import.meta.url, 'bench:alloc', main)
