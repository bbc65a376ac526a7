// The faults, each under the steady load: what is done to the tier and when
// (ECS- and ALB-like actions through stack.ts, link cuts through `ip`), then
// the window's figures judged by verdicts.ts. One function per scenario.

import { spawnSync } from 'node:child_process'
import { DEPLOYMENTS, hostsOf, lbServerName, linkCommand } from './plan.js'
import { errorCode, httpCall } from './probe.js'
import type { TierLoad } from './load.js'
import { RECORD_TTL_S, UPSTREAM_CONNECT_TIMEOUT_MS, type DiscoveryMode, type MediaTask, type TierStack } from './stack.js'
import { blastRadius, mediaDrain, mediaKilled, outage, partition, rollingRestart, routerKilled, type Probe, type ScenarioResult } from './verdicts.js'

export interface ScenarioContext {
  readonly stack: TierStack
  readonly load: TierLoad
  readonly log: (msg: string) => void
}

export type ScenarioFn = (ctx: ScenarioContext) => Promise<ScenarioResult>

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The media task holding the most sessions right now (the fault hurts most there). */
function busiestMedia(ctx: ScenarioContext): { task: MediaTask; open: number } {
  const open = ctx.load.openByNode()
  let best: { task: MediaTask; open: number } | undefined
  for (const task of ctx.stack.media.values()) {
    const n = open.get(task.nodeId) ?? 0
    if (best === undefined || n > best.open) best = { task, open: n }
  }
  if (best === undefined) throw new Error('no media node running')
  return best
}

function ip(args: readonly string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`)
}

export const blastRadiusScenario: ScenarioFn = async (ctx) => {
  const { stack } = ctx
  const s = stack.o.sizes
  const [slow, other] = [DEPLOYMENTS[0], DEPLOYMENTS[1]]
  const t0 = Date.now()
  await sleep(s.settleMs)
  const t1 = Date.now()
  for (const app of hostsOf(stack.o.hosts, 'app')) await stack.appFault(app, `deployment=${slow}&delayMs=${s.slowMs}`)
  ctx.log(`${slow} answers in ${s.slowMs} ms on every instance`)
  const t2 = Date.now()
  await sleep(s.outageMs)
  const t3 = Date.now()
  for (const app of hostsOf(stack.o.hosts, 'app')) await stack.appFault(app, `deployment=${slow}&delayMs=0`)
  await sleep(s.slowMs + 1000)
  return blastRadius({ http: ctx.load.http, slow, other, before: [t0, t1], during: [t2, t3], slowMs: s.slowMs })
}

/**
 * The routers' /media/allocate reuses a node's /status answer for 1000 ms and
 * refreshes it with a 1000 ms timeout (router/src/allocation/handler.ts
 * defaults): a drain reaches every router's allocations within this window.
 */
const ROUTER_STATUS_WINDOW_MS = 2000

export const mediaDrainScenario: ScenarioFn = async (ctx) => {
  const { stack } = ctx
  const s = stack.o.sizes
  const { task, open } = busiestMedia(ctx)
  ctx.log(`draining ${task.nodeId} (${open} sessions)`)
  const from = Date.now()
  const r = await stack.mediaAdmin(task, '/admin/drain')
  if (r.status !== 202) throw new Error(`POST /admin/drain answered ${r.status}: ${r.body}`)
  const accepted = Date.now()
  const exit = await task.proc.waitExit(s.mediaDrainTimeoutMs + 30_000)
  const to = Date.now()
  const deregistered = !(await stack.mediaInstances()).includes(task.nodeId)
  ctx.log(`${task.nodeId} ended after ${to - from} ms; starting its replacement`)
  await stack.startMedia(task.host)
  return mediaDrain({ http: ctx.load.http, ws: ctx.load.ws, node: task.nodeId, from, accepted, statusWindowMs: ROUTER_STATUS_WINDOW_MS, deadline: from + s.mediaDrainTimeoutMs, to, exit, deregistered, openAtStart: open })
}

export const mediaKillScenario: ScenarioFn = async (ctx) => {
  const { stack, load } = ctx
  const s = stack.o.sizes
  const { task, open } = busiestMedia(ctx)
  ctx.log(`SIGKILL ${task.nodeId} (${open} sessions)`)
  const kill = Date.now()
  task.proc.signal('SIGKILL')
  await task.proc.whenExit()
  // Ask the LB for allocations for a TTL and a bit; remember the last that named the dead node.
  const ttlMs = RECORD_TTL_S * 1000
  let last = -1
  while (Date.now() - kill < ttlMs + Math.max(3000, s.settleMs)) {
    const a = await httpCall(`${stack.lbUrl}/media/allocate`, { timeoutMs: 5000 })
    if (a.status === 200 && a.body.includes(`"nodeId":"${task.nodeId}"`)) last = Date.now() - kill
    await sleep(100)
  }
  for (const e of load.ws) if (e.kind === 'alloc' && e.node === task.nodeId && e.t >= kill) last = Math.max(last, e.t - kill)
  const to = Date.now()
  ctx.log(`starting the replacement of ${task.nodeId}`)
  const replacement = await stack.startMedia(task.host)
  // The dead node's Cloud Map entry outlives it until the replacement, once registered,
  // deregisters the other instances at its own address (on ECS the stopped-task reaper does it
  // sooner); until then the entry points at the replacement's address, and nothing may be
  // allocated or opened under the dead id.
  const replacedAt = Date.now()
  await sleep(s.settleMs)
  const ghost = load.ws.filter((e) => e.t >= replacedAt && (e.kind === 'alloc' || e.kind === 'open') && e.node === task.nodeId).length
  return mediaKilled({ http: load.http, ws: load.ws, node: task.nodeId, kill, to, openAtKill: open, lastAllocatedMs: last, ttlMs, ghost: { replacement: replacement.nodeId, count: ghost } })
}

export const partitionScenario: ScenarioFn = async (ctx) => {
  const { stack, load } = ctx
  const s = stack.o.sizes
  const { task, open } = busiestMedia(ctx)
  ctx.log(`cutting ${task.host.name}'s link (${task.nodeId}, ${open} sessions)`)
  const from = Date.now()
  ip(linkCommand(task.host, 'down'))
  const probes: Probe[] = []
  const url = `${stack.lbUrl}/media/${task.nodeId}/status`
  let linkUp = 0
  try {
    // Three probe loops, so a hang anywhere shows within the outage.
    await Promise.all(
      [0, 1, 2].map(async () => {
        while (Date.now() - from < s.outageMs) {
          const r = await httpCall(url, { timeoutMs: 30_000 })
          probes.push({ t: Date.now(), status: r.status, ms: r.ms, code: errorCode(r.body) })
          await sleep(200)
        }
      }),
    )
  } finally {
    ip(linkCommand(task.host, 'up'))
    linkUp = Date.now()
  }
  let recoveryMs: number | undefined
  while (Date.now() - linkUp < 15_000) {
    const r = await httpCall(url, { timeoutMs: 5000 })
    if (r.status === 200) {
      recoveryMs = Date.now() - linkUp
      break
    }
    await sleep(100)
  }
  await sleep(s.settleMs)
  const to = Date.now()
  return partition({ http: load.http, ws: load.ws, node: task.nodeId, from, to, probes, connectTimeoutMs: UPSTREAM_CONNECT_TIMEOUT_MS, recoveryMs, openAtCut: open })
}

export const routerKillScenario: ScenarioFn = async (ctx) => {
  const { stack, load } = ctx
  const s = stack.o.sizes
  const task = [...stack.routers.values()][0]
  if (task === undefined) throw new Error('no router running')
  ctx.log(`SIGKILL the router on ${task.slot.name}`)
  const kill = Date.now()
  task.proc.signal('SIGKILL')
  const exit = await task.proc.whenExit()
  let lbOutMs: number | undefined
  try {
    await stack.lb.waitFor(lbServerName(task.slot), /^DOWN/, 10_000)
    lbOutMs = Date.now() - kill
  } catch {
    lbOutMs = undefined
  }
  await sleep(s.settleMs)
  const to = Date.now()
  await stack.retireRouter(task, exit)
  ctx.log('ECS replaces it')
  await stack.addRouter(stack.mode)
  return routerKilled({ http: load.http, ws: load.ws, router: task.slot.name, kill, to, lbOutMs })
}

/** Rolling deploy of the router tier (optionally into another discovery mode). */
export function rollingRestartScenario(mode: DiscoveryMode, id: string, title: string): ScenarioFn {
  return async (ctx) => {
    const { stack, load } = ctx
    const s = stack.o.sizes
    const old = [...stack.routers.values()]
    const from = Date.now()
    const exits: { router: string; code: number | null; signal: string | null }[] = []
    for (const task of old) {
      const fresh = await stack.addRouter(mode)
      ctx.log(`new router on ${fresh.slot.name} (${mode}) is UP; SIGTERM ${task.slot.name}`)
      task.proc.signal('SIGTERM')
      const exit = (await task.proc.waitExit(s.routerDrainDelayMs + s.routerWsDrainMs + 30_000)) ?? (await task.proc.stop(1000))
      exits.push({ router: task.slot.name, code: exit.code, signal: exit.signal })
      await stack.retireRouter(task, exit)
    }
    stack.mode = mode
    await sleep(s.settleMs)
    const to = Date.now()
    return rollingRestart({ id, title, http: load.http, ws: load.ws, from, to, exits })
  }
}

/** DNS server down (DNS mode) or Cloud Map API hung (API mode) for the outage time. */
export function outageScenario(kind: 'dns' | 'api'): ScenarioFn {
  return async (ctx) => {
    const { stack, load } = ctx
    const s = stack.o.sizes
    const before = Date.now()
    await sleep(s.settleMs)
    const from = Date.now()
    // The emulator's own fault switches: DNS never replies, or the API accepts and never answers.
    await stack.cloudmapFault(kind === 'dns' ? { dns: 'drop' } : { api: { mode: 'hang' } })
    ctx.log(kind === 'dns' ? `DNS server silent for ${s.outageMs} ms` : `Cloud Map API hung (accepts, never answers) for ${s.outageMs} ms`)
    try {
      await sleep(s.outageMs)
    } finally {
      await stack.cloudmapFault(undefined)
    }
    const to = Date.now()
    await sleep(s.settleMs)
    const title = kind === 'dns' ? `DNS server down ${Math.round(s.outageMs / 1000)} s (DNS mode)` : `Cloud Map API hung ${Math.round(s.outageMs / 1000)} s (API mode)`
    return outage({ id: kind === 'dns' ? 'dns-down' : 'api-hung', title, http: load.http, ws: load.ws, from, to, before })
  }
}

export interface NamedScenario {
  readonly id: string
  readonly run: ScenarioFn
  /** The discovery mode the tier must be in. */
  readonly mode: DiscoveryMode
}

/** Every scenario, in run order (the API ones last, after the tier was rolled into API mode). */
export const SCENARIOS: readonly NamedScenario[] = [
  { id: 'blast-radius', run: blastRadiusScenario, mode: 'dns' },
  { id: 'media-drain', run: mediaDrainScenario, mode: 'dns' },
  { id: 'media-kill', run: mediaKillScenario, mode: 'dns' },
  { id: 'partition', run: partitionScenario, mode: 'dns' },
  { id: 'router-kill', run: routerKillScenario, mode: 'dns' },
  { id: 'rolling-restart', run: rollingRestartScenario('dns', 'rolling-restart', 'Rolling restart of the router tier'), mode: 'dns' },
  { id: 'dns-down', run: outageScenario('dns'), mode: 'dns' },
  { id: 'rolling-restart-api', run: rollingRestartScenario('cloudmap', 'rolling-restart-api', 'Rolling restart into API discovery'), mode: 'dns' },
  { id: 'api-hung', run: outageScenario('api'), mode: 'cloudmap' },
]
