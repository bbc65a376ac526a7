// Scale test: can one machine hold N (default 50,000) concurrent WebSockets
// proxied through the router tier without a single failure, and what does
// each one cost the router in memory?
//
// Starts M media-node processes, one router process with ROUTER_WORKERS=W
// (cluster mode: workers share the port, the primary aggregates /metrics), and
// K load-generator processes that open their share of
// /media/<node>/ws/<session>?echo=1 through the router. Once all are open:
// one echo per connection, router_websockets_active{route="media"} must equal
// the number opened, RSS of the router primary + workers is sampled (before /
// after), then the connections are held, closed cleanly, and the gauge must
// return to 0. Prints a summary and writes loadtest/results/ws-scale-<ts>.json;
// exits non-zero when anything failed.
//
//   npm run build && node dist/loadtest/src/scale/ws-scale.js --connections 50000

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import type { Child } from '../bench/child.js'
import { OptionError } from '../lib/options.js'
import { summarize } from '../lib/percentiles.js'
import { ChildRegistry } from './children.js'
import { asGenClosed, asGenEchoed, asGenOpened, asGenReady, asMediaReady, type GenClosed, type GenEchoed, type GenOpened } from './messages.js'
import { traceWsActive, waitWsActive } from './metrics.js'
import { parseScaleOptions, shares, type ScaleOptions } from './options.js'
import { fdCount, fdLimit, rssKbOf } from './procfs.js'
import { growthKb, problemsOf, renderSummary, sumKb, type RssSample, type ScaleResult } from './report.js'
import { startRouter, type MediaEndpoint, type RunningRouter } from './router-process.js'

const here = dirname(fileURLToPath(import.meta.url))
const fromDist = here.includes(`${sep}dist${sep}`)
const repoRoot = resolve(here, fromDist ? '../../../..' : '../../..')
const ext = fromDist ? '.js' : '.ts'
const script = (name: string): string => join(here, `${name}${ext}`)

function log(msg: string): void {
  process.stderr.write(`[ws-scale ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
}

/** Waits for one answer from every child, failing on the first that errors. */
function fromAll<T>(children: readonly Child[], accept: (m: unknown) => T | undefined, timeoutMs: number): Promise<T[]> {
  return Promise.all(children.map((c) => c.message(accept, timeoutMs)))
}

interface Tracked {
  pid: number
  before: number | undefined
  after: number | undefined
  fds: number | undefined
  limit: number
}
const track = (pid: number, limit: number): Tracked => ({ pid, before: rssKbOf(pid), after: undefined, fds: undefined, limit })
const sample = (t: Tracked): RssSample => ({ pid: t.pid, beforeKb: t.before, afterKb: t.after, fdsAtPeak: t.fds, fdLimit: t.limit })

async function run(o: ScaleOptions, registry: ChildRegistry, result: ScaleResult): Promise<void> {
  const mainJs = join(repoRoot, 'dist', 'router', 'src', 'main.js')
  if (!existsSync(mainJs)) throw new Error(`router build not found (${mainJs}); run npm run build`)
  const workDir = mkdtempSync(join(tmpdir(), 'ws-scale-'))
  try {
    // 1. Media nodes.
    log(`starting ${o.nodes} media node(s)`)
    const mediaChildren = Array.from({ length: o.nodes }, (_, i) => registry.node(script('media-child'), `node-${i + 1}`, { SCALE_NODE_ID: `node-${i + 1}` }, o.verbose))
    const mediaReady = await fromAll(mediaChildren, asMediaReady, 30_000)
    const nodes: MediaEndpoint[] = mediaReady.map((r, i) => ({ id: `node-${i + 1}`, port: r.port }))
    const media = mediaChildren.map((c, i) => track(c.pid, mediaReady[i]?.fdLimit ?? -1))

    // 2. The router, W workers.
    log(`starting the router with ROUTER_WORKERS=${o.workers}`)
    const router: RunningRouter = await startRouter({ registry, mainJs, workDir, workers: o.workers, nodes, verbose: o.verbose, timeoutMs: 60_000 })
    log(`router on :${router.port} (admin :${router.adminPort}), primary ${router.primaryPid}, workers ${router.workerPids.join(' ')}`)

    // 3. Load generators.
    const genChildren = Array.from({ length: o.generators }, (_, i) => registry.node(script('client-child'), `gen-${i + 1}`, {}, o.verbose))
    const genReady = await fromAll(genChildren, asGenReady, 30_000)
    const gens = genChildren.map((c, i) => track(c.pid, genReady[i]?.fdLimit ?? -1))
    const primary = track(router.primaryPid, fdLimit(router.primaryPid))
    const workers = router.workerPids.map((p) => track(p, fdLimit(p)))
    for (const t of [...media, ...gens, primary, ...workers]) t.before = rssKbOf(t.pid)
    const fill = (): void => {
      result.router.primary = sample(primary)
      result.router.workers = workers.map(sample)
      result.router.rssBeforeKb = sumKb([result.router.primary, ...result.router.workers], 'beforeKb')
      result.router.rssAfterKb = sumKb([result.router.primary, ...result.router.workers], 'afterKb')
      const growth = result.router.workers.reduce((a, w) => a + growthKb(w), 0)
      result.router.rssPerConnectionBytes = result.connections.opened > 0 ? (growth * 1024) / result.connections.opened : 0
      result.mediaNodes = media.map(sample)
      result.generators = gens.map(sample)
    }
    fill()

    // 4. Open.
    log(`opening ${o.connections} WebSockets from ${o.generators} generator(s), ${o.concurrency} handshakes in flight each`)
    const split = shares(o.connections, o.generators)
    const t0 = performance.now()
    let offset = 0
    genChildren.forEach((c, i) => {
      const count = split[i] ?? 0
      c.send({
        cmd: 'open',
        baseUrl: `ws://127.0.0.1:${router.port}`,
        nodeIds: nodes.map((n) => n.id),
        offset,
        count,
        concurrency: o.concurrency,
        localAddresses: o.sourceAddresses,
        handshakeTimeoutMs: o.handshakeTimeoutMs,
        deadlineMs: o.openDeadlineMs,
      })
      offset += count
    })
    const opened: GenOpened[] = await fromAll(genChildren, asGenOpened, o.openDeadlineMs + o.handshakeTimeoutMs + 60_000)
    result.openSeconds = (performance.now() - t0) / 1000
    const c = result.connections
    c.opened = opened.reduce((a, r) => a + r.opened, 0)
    c.failed = opened.reduce((a, r) => a + r.failed, 0)
    for (const r of opened) for (const [k, n] of Object.entries(r.reasons)) c.failureReasons[k] = (c.failureReasons[k] ?? 0) + n
    log(`opened ${c.opened}, failed ${c.failed} in ${result.openSeconds.toFixed(1)} s${c.failed > 0 ? ` ${JSON.stringify(c.failureReasons)}` : ''}`)

    // 5. One echo per connection, the gauge, memory at peak.
    const echoRate = Math.ceil(o.echoRate / o.generators)
    const echoSendS = echoRate > 0 ? o.connections / o.generators / echoRate : 0
    const echoed: GenEchoed[] = await fromAll(genChildren.map((g) => (g.send({ cmd: 'echo', ratePerS: echoRate, timeoutMs: 30_000 }), g)), asGenEchoed, echoSendS * 2000 + 90_000)
    const rtts = echoed.flatMap((e) => e.rtts)
    result.echo = { sent: rtts.length + echoed.reduce((a, e) => a + e.lost, 0), lost: echoed.reduce((a, e) => a + e.lost, 0), rttMs: summarize(rtts) }
    log(`echo: ${rtts.length} back, ${result.echo.lost} lost, p50 ${result.echo.rttMs.p50.toFixed(1)} ms, p99 ${result.echo.rttMs.p99.toFixed(1)} ms`)
    result.gauge.expectedOpen = c.opened
    result.gauge.whenOpen = await waitWsActive(router.adminPort, c.opened, 15_000)
    log(`router_websockets_active{route="media"} = ${result.gauge.whenOpen}`)
    for (const t of [...media, ...gens, primary, ...workers]) {
      t.after = rssKbOf(t.pid)
      t.fds = fdCount(t.pid)
    }
    fill()
    log(`router RSS ${(result.router.rssBeforeKb / 1024).toFixed(1)} → ${(result.router.rssAfterKb / 1024).toFixed(1)} MB, ${(result.router.rssPerConnectionBytes / 1024).toFixed(1)} KB per connection`)

    // 6. Hold, close, the gauge back to 0.
    log(`holding for ${o.holdMs} ms`)
    await new Promise((r) => setTimeout(r, o.holdMs))
    log(`closing (${o.closeRate > 0 ? `${o.closeRate}/s` : 'all at once'})`)
    const closeRate = Math.ceil(o.closeRate / o.generators)
    const closeSendS = closeRate > 0 ? o.connections / o.generators / closeRate : 0
    const tClose = performance.now()
    const closed: GenClosed[] = await fromAll(genChildren.map((g) => (g.send({ cmd: 'close', ratePerS: closeRate, timeoutMs: o.closeTimeoutMs }), g)), asGenClosed, closeSendS * 2000 + o.closeTimeoutMs + 60_000)
    result.closeSeconds = (performance.now() - tClose) / 1000
    c.openAtClose = closed.reduce((a, r) => a + r.openAtClose, 0)
    c.closedClean = closed.reduce((a, r) => a + r.closedClean, 0)
    c.closeForced = closed.reduce((a, r) => a + r.forced, 0)
    c.droppedEarly = closed.reduce((a, r) => a + r.droppedEarly, 0)
    const sinceClose = performance.now() - tClose
    result.gauge.afterCloseTrace = await traceWsActive(router.adminPort, 0, o.settleTimeoutMs)
    const last = result.gauge.afterCloseTrace.at(-1)
    result.gauge.afterClose = last?.value ?? Number.NaN
    result.gauge.settleSeconds = last?.value === 0 ? (sinceClose + last.ms) / 1000 : Number.NaN
    result.gauge.matched = result.gauge.whenOpen === result.gauge.expectedOpen && result.gauge.afterClose === 0
    log(`closed in ${result.closeSeconds.toFixed(1)} s: ${c.closedClean} clean, ${c.closeForced} forced; gauge ${result.gauge.afterClose} after ${((result.gauge.afterCloseTrace.at(-1)?.ms ?? 0) / 1000).toFixed(1)} s more`)

    // 7. Stop: generators, the router (SIGTERM drains its workers), media nodes.
    await registry.stopAll(genChildren, 5_000)
    await registry.stopAll([router.child], 15_000)
    await registry.stopAll(mediaChildren, 10_000)
  } finally {
    rmSync(workDir, { recursive: true, force: true })
  }
}

function emptyResult(o: ScaleOptions): ScaleResult {
  const none: RssSample = { pid: 0, beforeKb: undefined, afterKb: undefined, fdLimit: -1 }
  let portRange = ''
  try {
    portRange = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().replace(/\s+/, '-')
  } catch {
    portRange = 'unknown'
  }
  return {
    startedAt: new Date().toISOString(),
    command: `node ${process.argv.slice(1).map((a) => (a.includes(repoRoot) ? a.slice(repoRoot.length + 1) : a)).join(' ')}`,
    machine: { cpus: cpus().length, memTotalMb: Math.round(totalmem() / 1048576), loadAvg1mAtStart: loadavg()[0] ?? 0, node: process.version, ipLocalPortRange: portRange },
    options: { connections: o.connections, workers: o.workers, nodes: o.nodes, generators: o.generators, concurrency: o.concurrency, holdMs: o.holdMs, echoRate: o.echoRate, closeRate: o.closeRate, sourceAddresses: o.sourceAddresses },
    connections: { requested: o.connections, opened: 0, failed: 0, failureReasons: {}, droppedEarly: 0, openAtClose: 0, closedClean: 0, closeForced: 0 },
    openSeconds: 0,
    echo: { sent: 0, lost: 0, rttMs: summarize([]) },
    closeSeconds: 0,
    gauge: { expectedOpen: o.connections, whenOpen: Number.NaN, afterClose: Number.NaN, afterCloseTrace: [], settleSeconds: Number.NaN, matched: false },
    router: { primary: none, workers: [], rssBeforeKb: 0, rssAfterKb: 0, rssPerConnectionBytes: 0 },
    mediaNodes: [],
    generators: [],
    ok: false,
    problems: [],
  }
}

async function main(): Promise<number> {
  let o: ScaleOptions
  try {
    o = parseScaleOptions(process.argv.slice(2), join(repoRoot, 'loadtest', 'results'))
  } catch (err) {
    process.stderr.write(`${err instanceof OptionError ? err.message : String(err)}\n`)
    return 2
  }
  const registry = new ChildRegistry()
  registry.install()
  const result = emptyResult(o)
  try {
    await run(o, registry, result)
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err)
    log(`error: ${result.error}`)
  }
  registry.killAllNow()
  result.problems = problemsOf(result)
  result.ok = result.problems.length === 0
  mkdirSync(o.outDir, { recursive: true })
  const file = join(o.outDir, `ws-scale-${result.startedAt.replace(/[:.]/g, '-')}.json`)
  // NaN is not JSON; write null for a value never measured.
  writeFileSync(file, `${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`)
  process.stdout.write(`\n${renderSummary(result)}\n\nresult: ${file}\n`)
  return result.ok ? 0 : 1
}

process.exitCode = await main()
