// Pure: from what the load saw (HTTP answers and session events, each with a
// time) and what the conductor measured (exit codes, LB state times, probes),
// each scenario's figures and its checks against the issue's pass lines.
// Table-tested in test/loadtest/tier-verdicts.test.ts.

import { percentile } from '../lib/percentiles.js'
import type { HttpEvent } from './load.js'
import type { WsEvent } from './session-client.js'

export interface Check {
  /** What is measured, e.g. "HTTP requests failed". */
  readonly what: string
  /** The measured value as shown. */
  readonly measured: string
  /** The pass line as shown, e.g. "= 0". */
  readonly line: string
  readonly pass: boolean
}

export interface ScenarioResult {
  readonly id: string
  readonly title: string
  readonly fromMs: number
  readonly toMs: number
  readonly checks: readonly Check[]
  /** Figures that have no pass line but explain the run. */
  readonly info: Readonly<Record<string, number | string>>
  readonly pass: boolean
}

export function scenario(id: string, title: string, fromMs: number, toMs: number, checks: readonly Check[], info: Record<string, number | string> = {}): ScenarioResult {
  return { id, title, fromMs, toMs, checks, info, pass: checks.length > 0 && checks.every((c) => c.pass) }
}

/** "= 0"-style check of a count. */
export function countCheck(what: string, n: number, max = 0): Check {
  return { what, measured: String(n), line: max === 0 ? '= 0' : `≤ ${max}`, pass: n <= max }
}

export function msCheck(what: string, ms: number | undefined, max: number): Check {
  const known = ms !== undefined && Number.isFinite(ms)
  return { what, measured: known ? `${Math.round(ms)} ms` : 'n/a', line: `≤ ${max} ms`, pass: known && ms <= max }
}

export function boolCheck(what: string, ok: boolean, measured: string, line: string): Check {
  return { what, measured, line, pass: ok }
}

const inWindow = (t: number, from: number, to: number): boolean => t >= from && t <= to

/** An HTTP answer counts as failed when it is a transport error, a timeout or a status ≥ 400. */
export function isFailed(e: HttpEvent): boolean {
  return e.status === 0 || e.status >= 400
}

export interface HttpWindow {
  total: number
  failed: number
  p50: number
  p99: number
  /** status → count of the failed ones ("0" = transport error). */
  failures: Record<string, number>
}

/** HTTP answers in [from, to], optionally of one deployment. */
export function httpWindow(events: readonly HttpEvent[], from: number, to: number, dep?: string): HttpWindow {
  const ms: number[] = []
  const failures: Record<string, number> = {}
  let total = 0
  let failed = 0
  for (const e of events) {
    if (!inWindow(e.t, from, to) || (dep !== undefined && e.dep !== dep)) continue
    total++
    if (isFailed(e)) {
      failed++
      failures[String(e.status)] = (failures[String(e.status)] ?? 0) + 1
    } else ms.push(e.ms)
  }
  ms.sort((a, b) => a - b)
  return { total, failed, p50: percentile(ms, 50), p99: percentile(ms, 99), failures }
}

/** Requests that were in flight at `t` (sent before, answered after). */
export function inFlightAt(events: readonly HttpEvent[], t: number): number {
  let n = 0
  for (const e of events) if (Number.isFinite(e.ms) && e.t - e.ms <= t && e.t >= t) n++
  return n
}

/** Closes the far side made (not the client's own 1000) in [from, to], optionally only on / not on some nodes. */
export function lostCloses(events: readonly WsEvent[], from: number, to: number, on?: (node: string) => boolean): Extract<WsEvent, { kind: 'close' }>[] {
  const out: Extract<WsEvent, { kind: 'close' }>[] = []
  for (const e of events) if (e.kind === 'close' && !e.byClient && inWindow(e.t, from, to) && (on === undefined || on(e.node))) out.push(e)
  return out
}

/** Clients with a session open on `node` at time `t`. */
export function openOn(events: readonly WsEvent[], node: string, t: number): Set<number> {
  const on = new Map<number, string>()
  for (const e of events) {
    if (e.t > t) continue
    if (e.kind === 'open') on.set(e.client, e.node)
    else if (e.kind === 'close') on.delete(e.client)
  }
  return new Set([...on].filter(([, n]) => n === node).map(([c]) => c))
}

/** client → time of its first close in [from, to], for the given clients. */
export function firstCloseAfter(events: readonly WsEvent[], clients: ReadonlySet<number>, from: number, to: number): Map<number, number> {
  const out = new Map<number, number>()
  for (const e of events) if (e.kind === 'close' && clients.has(e.client) && e.t >= from && e.t <= to && !out.has(e.client)) out.set(e.client, e.t)
  return out
}

/** close code → count. */
export function byCode(closes: readonly { code: number }[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const c of closes) out[String(c.code)] = (out[String(c.code)] ?? 0) + 1
  return out
}

export interface Reconnects {
  /** Lost connections followed by an open of the same client before `until`. */
  reconnected: number
  /** Lost connections without one. */
  missing: number
  /** Close → open, ms, ascending. */
  gaps: number[]
  /** Reconnects that landed on the same node. */
  sameNode: number
}

/** Pairs each lost close with the same client's next open (before `until`). */
export function reconnectsAfter(events: readonly WsEvent[], closes: readonly Extract<WsEvent, { kind: 'close' }>[], until: number): Reconnects {
  const gaps: number[] = []
  let missing = 0
  let sameNode = 0
  for (const c of closes) {
    // The client's next open: a reconnect, or its next session when the lost one was due to end anyway.
    const open = events.find((e) => e.kind === 'open' && e.client === c.client && e.t >= c.t && e.t <= until)
    if (open === undefined || open.kind !== 'open') {
      missing++
      continue
    }
    gaps.push(open.t - c.t)
    if (open.node === c.node) sameNode++
  }
  gaps.sort((a, b) => a - b)
  return { reconnected: gaps.length, missing, gaps, sameNode }
}

export function p99(sorted: readonly number[]): number | undefined {
  return sorted.length === 0 ? undefined : percentile(sorted, 99)
}

/** Upgrades refused and allocations failed in [from, to], optionally only on / not on some nodes. */
export function wsFailures(events: readonly WsEvent[], from: number, to: number, on?: (node: string) => boolean): { refused: number; allocFailed: number; stalls: number } {
  let refused = 0
  let allocFailed = 0
  let stalls = 0
  for (const e of events) {
    if (!inWindow(e.t, from, to)) continue
    if (e.kind === 'alloc-fail') allocFailed++
    else if (e.kind === 'refused' && (on === undefined || on(e.node))) refused++
    else if (e.kind === 'stall' && (on === undefined || on(e.node))) stalls++
  }
  return { refused, allocFailed, stalls }
}

const fmtMs = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : `${Math.round(v)} ms`)
const codes = (r: Record<string, number>): string =>
  Object.entries(r)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ') || 'none'

// ---- one function per scenario ------------------------------------------------

export interface RollingInput {
  readonly id: string
  readonly title: string
  readonly http: readonly HttpEvent[]
  readonly ws: readonly WsEvent[]
  readonly from: number
  readonly to: number
  /** Exit of every router that was stopped. */
  readonly exits: readonly { router: string; code: number | null; signal: string | null }[]
}

/** Rolling restart: 0 HTTP failures; every lost WebSocket got 1001 and reconnected within 2 s p99; every old router exited 0. */
export function rollingRestart(i: RollingInput): ScenarioResult {
  const h = httpWindow(i.http, i.from, i.to)
  const closes = lostCloses(i.ws, i.from, i.to)
  const not1001 = closes.filter((c) => c.code !== 1001).length
  const rc = reconnectsAfter(i.ws, closes, i.to + 10_000)
  const bad = i.exits.filter((e) => e.code !== 0)
  return scenario(
    i.id,
    i.title,
    i.from,
    i.to,
    [
      countCheck('HTTP requests failed', h.failed),
      countCheck('WebSocket closes other than 1001', not1001),
      countCheck('lost WebSockets not reconnected', rc.missing),
      msCheck('reconnect time p99', p99(rc.gaps), 2000),
      boolCheck('routers exited 0', bad.length === 0, bad.length === 0 ? `${i.exits.length}/${i.exits.length}` : bad.map((b) => `${b.router}: ${b.signal ?? `exit ${b.code ?? '?'}`}`).join(', '), `${i.exits.length}/${i.exits.length}`),
    ],
    { httpRequests: h.total, httpFailures: codes(h.failures), wsCloses: codes(byCode(closes)), reconnected: rc.reconnected, reconnectMax: fmtMs(rc.gaps.at(-1)), httpP99: fmtMs(h.p99) },
  )
}

export interface DrainInput {
  readonly http: readonly HttpEvent[]
  readonly ws: readonly WsEvent[]
  readonly node: string
  readonly from: number
  /** When the node answered the drain request 202. */
  readonly accepted: number
  /**
   * How long a router may still hand the node out after it began draining: each
   * router learns it from the node's /status, reused for up to its fresh time and
   * then refreshed in the background (fresh time + status timeout). An allocation
   * inside this window is refused by the node (503) and the client allocates again.
   */
  readonly statusWindowMs: number
  /** from + the drain timeout: sessions still open then may get 1001. */
  readonly deadline: number
  readonly to: number
  readonly exit: { code: number | null; signal: string | null } | undefined
  readonly deregistered: boolean
  readonly openAtStart: number
}

/**
 * Media node drain: nothing cut before the timeout, no session opened on it once
 * the drain was accepted, no router handing it out past the status window,
 * deregistered, exit 0.
 */
export function mediaDrain(i: DrainInput): ScenarioResult {
  const onNode = (n: string): boolean => n === i.node
  const cut = lostCloses(i.ws, i.from, i.deadline - 1, onNode)
  const atTimeout = lostCloses(i.ws, i.deadline, i.to, onNode)
  const windowEnd = i.accepted + i.statusWindowMs
  let opened = 0
  let allocatedLate = 0
  let allocatedInWindow = 0
  let ownerClosed = 0
  for (const e of i.ws) {
    if (e.t < i.from || e.t > i.to) continue
    if (e.kind === 'open' && e.node === i.node && e.t > i.accepted) opened++
    if (e.kind === 'alloc' && e.node === i.node) {
      if (e.t > windowEnd) allocatedLate++
      else allocatedInWindow++
    }
    if (e.kind === 'close' && e.node === i.node && e.byClient) ownerClosed++
  }
  const exitText = i.exit === undefined ? 'still running' : i.exit.signal ?? `exit ${i.exit.code ?? '?'}`
  return scenario(
    'media-drain',
    'Media node drain',
    i.from,
    i.to,
    [
      countCheck('sessions cut before owner close or drain timeout', cut.length),
      countCheck('new sessions opened on it after the drain was accepted', opened),
      countCheck(`allocations naming it later than ${i.statusWindowMs} ms after the drain`, allocatedLate),
      boolCheck('deregistered from Cloud Map', i.deregistered, i.deregistered ? 'yes' : 'no', 'yes'),
      boolCheck('node exit', i.exit !== undefined && i.exit.code === 0, exitText, 'exit 0'),
    ],
    {
      sessionsAtDrainStart: i.openAtStart,
      allocationsInStatusWindow: allocatedInWindow,
      closedByOwnersDuringDrain: ownerClosed,
      closed1001AtTimeout: atTimeout.filter((c) => c.code === 1001).length,
      refusedUpgrades503: i.ws.filter((e) => e.kind === 'refused' && e.node === i.node && e.status === 503 && e.t >= i.from && e.t <= i.to).length,
      httpFailed: httpWindow(i.http, i.from, i.to).failed,
    },
  )
}

export interface MediaKillInput {
  readonly http: readonly HttpEvent[]
  readonly ws: readonly WsEvent[]
  readonly node: string
  readonly kill: number
  readonly to: number
  readonly openAtKill: number
  /** Last time (ms after the kill) an allocation answered the dead node; -1 = never. */
  readonly lastAllocatedMs: number
  readonly ttlMs: number
  /** After a new node took the dead one's address: allocations and opens under the dead id. */
  readonly ghost?: { replacement: string; count: number }
}

/** Media node SIGKILL: its clients closed within 2 s; allocate stops naming it within the TTL; others see no error. */
export function mediaKilled(i: MediaKillInput): ScenarioResult {
  const onNode = (n: string): boolean => n === i.node
  const others = (n: string): boolean => n !== i.node
  const closed = lostCloses(i.ws, i.kill, i.to, onNode)
  // Every session open on it at the kill, and when it ended (any close: a client may have been closing it itself).
  const ends = firstCloseAfter(i.ws, openOn(i.ws, i.node, i.kill), i.kill, i.to)
  const delays = [...ends.values()].map((t) => t - i.kill).sort((a, b) => a - b)
  const notClosed = openOn(i.ws, i.node, i.kill).size - ends.size
  const otherLost = lostCloses(i.ws, i.kill, i.to, others)
  const otherFail = wsFailures(i.ws, i.kill, i.to, others)
  const h = httpWindow(i.http, i.kill, i.to)
  return scenario(
    'media-kill',
    'Media node killed (SIGKILL)',
    i.kill,
    i.to,
    [
      msCheck('its clients closed, max after kill', delays.at(-1), 2000),
      countCheck('its sessions not closed', notClosed),
      i.lastAllocatedMs < 0 ? { what: '/media/allocate last named it after', measured: 'never', line: `≤ ${i.ttlMs} ms (TTL)`, pass: true } : msCheck('/media/allocate last named it after', i.lastAllocatedMs, i.ttlMs),
      countCheck('errors on sessions of other nodes', otherLost.length + otherFail.refused + otherFail.stalls),
      countCheck('HTTP requests failed', h.failed),
      ...(i.ghost !== undefined ? [countCheck(`sessions allocated/opened under its id once ${i.ghost.replacement} took its address`, i.ghost.count)] : []),
    ],
    { sessionsOnNode: i.openAtKill, closeCodes: codes(byCode(closed)), reconnectedElsewhere: reconnectsAfter(i.ws, closed, i.to).reconnected },
  )
}

export interface RouterKillInput {
  readonly http: readonly HttpEvent[]
  readonly ws: readonly WsEvent[]
  readonly router: string
  readonly kill: number
  readonly to: number
  readonly lbOutMs: number | undefined
}

/** Router SIGKILL: the LB takes it out; HTTP errors only for requests in flight; its WebSocket clients reconnect. */
export function routerKilled(i: RouterKillInput): ScenarioResult {
  const h = httpWindow(i.http, i.kill, i.to)
  const inflight = inFlightAt(i.http, i.kill)
  const lateFailures = i.http.filter((e) => isFailed(e) && Number.isFinite(e.ms) && e.t - e.ms > i.kill + 50 && e.t <= i.to).length
  const closes = lostCloses(i.ws, i.kill, i.to)
  const rc = reconnectsAfter(i.ws, closes, i.to + 10_000)
  return scenario(
    'router-kill',
    'Router killed (SIGKILL)',
    i.kill,
    i.to,
    [
      msCheck('LB marked it DOWN after', i.lbOutMs, 3000),
      countCheck('HTTP failures (≤ requests in flight at the kill)', h.failed, inflight),
      countCheck('HTTP failures of requests sent after the kill', lateFailures),
      countCheck('its WebSocket clients not reconnected', rc.missing),
    ],
    { router: i.router, httpRequests: h.total, inFlightAtKill: inflight, httpFailures: codes(h.failures), wsLost: closes.length, wsCloses: codes(byCode(closes)), reconnectP99: fmtMs(p99(rc.gaps)), reconnectMax: fmtMs(rc.gaps.at(-1)) },
  )
}

export interface Probe {
  t: number
  status: number
  ms: number
  /** The JSON body's `code`, when there was one. */
  code: string | undefined
}

export interface PartitionInput {
  readonly http: readonly HttpEvent[]
  readonly ws: readonly WsEvent[]
  readonly node: string
  readonly from: number
  readonly to: number
  readonly probes: readonly Probe[]
  readonly connectTimeoutMs: number
  /** Link back up → first 200 through the LB; undefined = never. */
  readonly recoveryMs: number | undefined
  readonly openAtCut: number
}

/** Partition of a media host: requests to it fail fast with a JSON 502/504, others unaffected, recovery when the link returns. */
export function partition(i: PartitionInput): ScenarioResult {
  const others = (n: string): boolean => n !== i.node
  const bad = i.probes.filter((p) => !((p.status === 502 || p.status === 504) && p.code !== undefined))
  const slowest = i.probes.reduce((m, p) => Math.max(m, p.ms), 0)
  const h = httpWindow(i.http, i.from, i.to)
  const otherLost = lostCloses(i.ws, i.from, i.to, others)
  const otherFail = wsFailures(i.ws, i.from, i.to, others)
  const statuses = byCode(i.probes.map((p) => ({ code: p.status })))
  return scenario(
    'partition',
    'Network partition of a media host',
    i.from,
    i.to,
    [
      boolCheck('requests to it answered 502/504 JSON', i.probes.length > 0 && bad.length === 0, `${i.probes.length - bad.length}/${i.probes.length} (${codes(statuses)})`, 'all'),
      msCheck('slowest answer to it', i.probes.length === 0 ? undefined : slowest, i.connectTimeoutMs + 1000),
      countCheck('HTTP failures on the deployments', h.failed),
      countCheck('errors on sessions of other nodes', otherLost.length + otherFail.refused + otherFail.stalls),
      msCheck('recovered (200 through the LB) after link up', i.recoveryMs, 10_000),
    ],
    { sessionsOnNode: i.openAtCut, stalledOnNode: wsFailures(i.ws, i.from, i.to, (n) => n === i.node).stalls, allocFailed: otherFail.allocFailed },
  )
}

export interface OutageInput {
  readonly id: string
  readonly title: string
  readonly http: readonly HttpEvent[]
  readonly ws: readonly WsEvent[]
  readonly from: number
  readonly to: number
  /** The same length of steady load before the outage, for comparison. */
  readonly before: number
}

/** DNS down / API hung: 0 failed requests for targets already in use (HTTP, allocations, upgrades). */
export function outage(i: OutageInput): ScenarioResult {
  const h = httpWindow(i.http, i.from, i.to)
  const b = httpWindow(i.http, i.before, i.from)
  const f = wsFailures(i.ws, i.from, i.to)
  const lost = lostCloses(i.ws, i.from, i.to)
  return scenario(
    i.id,
    i.title,
    i.from,
    i.to,
    [countCheck('HTTP requests failed', h.failed), countCheck('allocations failed', f.allocFailed), countCheck('WebSocket upgrades refused', f.refused), countCheck('WebSockets lost', lost.length + f.stalls)],
    { httpRequests: h.total, httpFailures: codes(h.failures), httpP99Before: fmtMs(b.p99), httpP99During: fmtMs(h.p99), httpP50During: fmtMs(h.p50) },
  )
}

export interface BlastInput {
  readonly http: readonly HttpEvent[]
  readonly slow: string
  readonly other: string
  readonly before: readonly [number, number]
  readonly during: readonly [number, number]
  readonly slowMs: number
}

/**
 * The other deployment's p99 may at most double plus 50 ms: the noise of a
 * shared 2-core machine (short windows, ~10 processes on it) is of that size,
 * while a deployment that waits behind the slow one shows the 5 s itself.
 */
export function blastLimitMs(p99Before: number): number {
  return Math.round(p99Before * 2 + 50)
}

/** Blast radius: one deployment answering in 5 s does not raise the other's latency or errors. */
export function blastRadius(i: BlastInput): ScenarioResult {
  const before = httpWindow(i.http, i.before[0], i.before[1], i.other)
  const during = httpWindow(i.http, i.during[0], i.during[1], i.other)
  const slow = httpWindow(i.http, i.during[0], i.during[1], i.slow)
  const limit = Number.isFinite(before.p99) ? blastLimitMs(before.p99) : 0
  return scenario(
    'blast-radius',
    'Blast radius (one deployment slow)',
    i.during[0],
    i.during[1],
    [
      { what: `${i.other} p99 while ${i.slow} is slow`, measured: fmtMs(during.p99), line: `≤ ${limit} ms (2 × ${fmtMs(before.p99)} before + 50)`, pass: Number.isFinite(during.p99) && during.p99 <= limit },
      countCheck(`${i.other} requests failed`, during.failed),
      { what: `${i.slow} p50 (the fault is on)`, measured: fmtMs(slow.p50), line: `≥ ${i.slowMs} ms`, pass: Number.isFinite(slow.p50) && slow.p50 >= i.slowMs },
    ],
    { [`${i.other}P50Before`]: fmtMs(before.p50), [`${i.other}P50During`]: fmtMs(during.p50), [`${i.other}Requests`]: during.total, [`${i.slow}Answered`]: slow.total, [`${i.slow}Failed`]: slow.failed },
  )
}
