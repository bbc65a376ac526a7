// One measurement of one target: HTTP keep-alive load per connection count
// (rps, latency, errors, proxy CPU µs per request) and WebSockets (held count,
// echo latency, proxy RSS per connection: marginal and since start). Load runs
// in child processes.

import { Child, siblingScript, spawnNodeScript } from './child.js'
import { asHttpResult, asWsEcho, asWsOpened } from './protocol.js'
import { cpuMicros, rssKb } from './procfs.js'
import { summarize } from '../lib/percentiles.js'
import type { RunningTarget } from './targets.js'

export interface HttpRun {
  connections: number
  responses: number
  /** Transport errors + responses with status >= 400. */
  errors: number
  /** Of which: responses with status >= 400. */
  badStatus: number
  rps: number
  p50: number
  p99: number
  /** Proxy CPU (user+system) per request, µs; null without a proxy process. */
  cpuUsPerReq: number | null
}

export interface WsRun {
  count: number
  opened: number
  failed: number
  held: number
  echoes: number
  lost: number
  p50: number
  p99: number
  /** Proxy RSS on the fresh process, before any connection. */
  rssBeforeKb: number | null
  /** After the first third of the connections and a warm-up echo round. */
  rssMidKb: number | null
  rssAfterKb: number | null
  /** Marginal: (RSS after − mid) / connections opened after mid, KB; null without a proxy process. */
  rssPerConnKb: number | null
  /** Everything the process grew: (RSS after − before) / all opened connections, KB. */
  rssTotalPerConnKb: number | null
  errors: string[]
}

export interface MeasureContext {
  loadCpu: string | undefined
  ticksPerSecond: number
  verbose: boolean
  setStatus(text: string): void
}

/** Runs one autocannon child against `url`; returns its raw result. */
async function httpChild(url: string, connections: number, durationMs: number, ctx: MeasureContext): Promise<{ responses: number; errors: number; badStatus: number; durationS: number; latencies: number[] }> {
  const child = spawnNodeScript(siblingScript('./loadgen-http.js'), {
    cpu: ctx.loadCpu,
    label: 'loadgen-http',
    verbose: ctx.verbose,
    env: { TARGET_URL: url, CONNECTIONS: String(connections), DURATION_MS: String(durationMs) },
  })
  try {
    return await child.message(asHttpResult, durationMs + 30_000)
  } finally {
    await child.stop()
  }
}

/** Warm-up: load without recording, so JITs, pools and caches are hot. */
export async function warmUp(target: RunningTarget, connections: number, durationMs: number, ctx: MeasureContext): Promise<void> {
  if (durationMs <= 0) return
  ctx.setStatus(`warm-up ${connections} conns ${(durationMs / 1000).toFixed(0)}s`)
  await httpChild(target.httpUrl, connections, durationMs, ctx)
}

export async function measureHttp(target: RunningTarget, connections: number, durationMs: number, ctx: MeasureContext): Promise<HttpRun> {
  ctx.setStatus(`HTTP ${connections} conns for ${(durationMs / 1000).toFixed(0)}s`)
  const cpu0 = target.pid !== undefined ? cpuMicros(target.pid, ctx.ticksPerSecond) : undefined
  const r = await httpChild(target.httpUrl, connections, durationMs, ctx)
  const cpu1 = target.pid !== undefined ? cpuMicros(target.pid, ctx.ticksPerSecond) : undefined
  const s = summarize(r.latencies)
  return {
    connections,
    responses: r.responses,
    errors: r.errors + r.badStatus,
    badStatus: r.badStatus,
    rps: r.durationS > 0 ? r.responses / r.durationS : 0,
    p50: s.p50,
    p99: s.p99,
    cpuUsPerReq: cpu0 !== undefined && cpu1 !== undefined && r.responses > 0 ? (cpu1 - cpu0) / r.responses : null,
  }
}

const WS_WARMUP_ROUNDS = 1

export interface WsPlan {
  count: number
  procs: number
  concurrency: number
  echoRounds: number
  /** Echo messages per second over all client processes. */
  echoRate: number
  holdMs: number
}

export async function measureWs(target: RunningTarget, plan: WsPlan, ctx: MeasureContext): Promise<WsRun> {
  const rssBeforeKb = target.pid !== undefined ? rssKb(target.pid) : null
  const procs = Math.max(1, Math.min(plan.procs, plan.count))
  const share = (total: number, i: number): number => Math.floor(total / procs) + (i < total % procs ? 1 : 0)
  // Two steps: a third of the connections, then the rest. Growth over the second
  // step is the marginal cost per connection, free of what the process spends
  // once (heap and buffer pools growing to their working size, compiled code).
  const firstCount = Math.floor(plan.count / 3)
  const children: Child[] = []
  const echoTimeout = (rounds: number, holdMs: number): number => 60_000 + rounds * (15_000 + (1000 * plan.count) / plan.echoRate) + holdMs
  try {
    for (let i = 0; i < procs; i++) {
      children.push(
        spawnNodeScript(siblingScript('./loadgen-ws.js'), {
          cpu: ctx.loadCpu,
          label: `loadgen-ws-${i}`,
          verbose: ctx.verbose,
          env: { TARGET_URL: target.wsUrl, COUNT: String(share(firstCount, i)), CONCURRENCY: String(plan.concurrency), ECHO_RATE: String(plan.echoRate / procs) },
        }),
      )
    }
    ctx.setStatus(`WS opening ${firstCount} of ${plan.count} connections over ${procs} client processes`)
    const opened = await Promise.all(children.map((c) => c.message(asWsOpened, 120_000)))
    // One unreported warm-up round: the first message on each fresh connection
    // pays for first use (buffers, lazily compiled paths) in every process on the way.
    for (const c of children) c.send({ cmd: 'echo', warmupRounds: WS_WARMUP_ROUNDS, rounds: 0, holdMs: 0 })
    await Promise.all(children.map((c) => c.message(asWsEcho, echoTimeout(WS_WARMUP_ROUNDS, 0))))
    const rssMidKb = target.pid !== undefined ? rssKb(target.pid) : null
    const openedFirst = opened.reduce((a, o) => a + o.opened, 0)
    ctx.setStatus(`WS opening the other ${plan.count - firstCount} connections`)
    children.forEach((c, i) => c.send({ cmd: 'open', count: share(plan.count - firstCount, i) }))
    const openedMore = await Promise.all(children.map((c) => c.message(asWsOpened, 120_000)))
    opened.push(...openedMore)
    const openedTotal = opened.reduce((a, o) => a + o.opened, 0)
    ctx.setStatus(`WS ${openedTotal}/${plan.count} open; ${plan.echoRounds} echo round(s), hold ${(plan.holdMs / 1000).toFixed(1)}s`)
    for (const c of children) c.send({ cmd: 'echo', warmupRounds: WS_WARMUP_ROUNDS, rounds: plan.echoRounds, holdMs: plan.holdMs })
    const echoes = await Promise.all(children.map((c) => c.message(asWsEcho, echoTimeout(WS_WARMUP_ROUNDS + plan.echoRounds, plan.holdMs))))
    const rssAfterKb = target.pid !== undefined ? rssKb(target.pid) : null
    const rtts = echoes.flatMap((e) => e.rtts)
    const s = summarize(rtts)
    const openedSecond = openedTotal - openedFirst
    return {
      count: plan.count,
      opened: openedTotal,
      failed: opened.reduce((a, o) => a + o.failed, 0),
      held: echoes.reduce((a, e) => a + e.held, 0),
      echoes: rtts.length,
      lost: echoes.reduce((a, e) => a + e.lost, 0),
      p50: s.p50,
      p99: s.p99,
      rssBeforeKb,
      rssMidKb,
      rssAfterKb,
      rssPerConnKb: rssMidKb !== null && rssAfterKb !== null && openedSecond > 0 ? (rssAfterKb - rssMidKb) / openedSecond : null,
      rssTotalPerConnKb: rssBeforeKb !== null && rssAfterKb !== null && openedTotal > 0 ? (rssAfterKb - rssBeforeKb) / openedTotal : null,
      errors: [...new Set(opened.flatMap((o) => o.errors))].slice(0, 5),
    }
  } finally {
    for (const c of children) c.send({ cmd: 'close' })
    await Promise.all(children.map((c) => c.stop(5000)))
  }
}
