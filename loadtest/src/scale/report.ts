// The scale test's result: its JSON shape, the pass/fail verdict, and the
// summary table printed at the end. Pure functions of the collected numbers.

import type { LatencySummary } from '../lib/percentiles.js'

/** RSS of one process before the connections opened and once they were all open, kB. */
export interface RssSample {
  pid: number
  beforeKb: number | undefined
  afterKb: number | undefined
  /** Open fds once all connections were open. */
  fdsAtPeak?: number | undefined
  /** Soft open-files limit. */
  fdLimit: number
}

export interface ScaleResult {
  startedAt: string
  command: string
  machine: { cpus: number; memTotalMb: number; loadAvg1mAtStart: number; node: string; ipLocalPortRange: string }
  options: { connections: number; workers: number; nodes: number; generators: number; concurrency: number; holdMs: number; echoRate: number; closeRate: number; sourceAddresses: string[] }
  connections: {
    requested: number
    opened: number
    failed: number
    /** Failure reason → count, over all generators. */
    failureReasons: Record<string, number>
    /** Opened, but closed before the test closed them. */
    droppedEarly: number
    /** Still open when the hold ended. */
    openAtClose: number
    closedClean: number
    closeForced: number
  }
  openSeconds: number
  /** Seconds from the start of the close until every generator had closed (or given up on) its sockets. */
  closeSeconds: number
  echo: { sent: number; lost: number; rttMs: LatencySummary }
  gauge: {
    expectedOpen: number
    whenOpen: number
    /** The last reading after the close (0 when all tunnels were released). */
    afterClose: number
    /** Readings after the close, about one a second, until 0 or the settle timeout. */
    afterCloseTrace: { ms: number; value: number }[]
    /** Seconds from the start of the close until the gauge read 0 (NaN if it did not). */
    settleSeconds: number
    matched: boolean
  }
  router: {
    primary: RssSample
    workers: RssSample[]
    /** Sum over primary + workers, kB. */
    rssBeforeKb: number
    rssAfterKb: number
    /** Sum of the workers' growth / connections opened, bytes. */
    rssPerConnectionBytes: number
  }
  mediaNodes: RssSample[]
  generators: RssSample[]
  ok: boolean
  /** Why ok is false (empty when ok). */
  problems: string[]
  error?: string
}

/** Growth of a sample in kB (0 when either side is missing). */
export function growthKb(s: RssSample): number {
  return s.beforeKb !== undefined && s.afterKb !== undefined ? s.afterKb - s.beforeKb : 0
}

/** Sum of `afterKb` (or `beforeKb`) over samples. */
export function sumKb(samples: readonly RssSample[], which: 'beforeKb' | 'afterKb'): number {
  return samples.reduce((a, s) => a + (s[which] ?? 0), 0)
}

/** The verdict: every connection opened, echoed, held and closed; the gauge agreed both times. */
export function problemsOf(r: Omit<ScaleResult, 'ok' | 'problems'>): string[] {
  const p: string[] = []
  const c = r.connections
  if (c.failed > 0) p.push(`${c.failed} connection(s) failed: ${JSON.stringify(c.failureReasons)}`)
  if (c.opened !== c.requested) p.push(`opened ${c.opened} of ${c.requested}`)
  if (r.echo.lost > 0) p.push(`${r.echo.lost} echo(es) lost`)
  if (c.droppedEarly > 0) p.push(`${c.droppedEarly} connection(s) closed before the test closed them`)
  if (c.closeForced > 0) p.push(`${c.closeForced} close handshake(s) did not finish`)
  if (r.gauge.whenOpen !== r.gauge.expectedOpen) p.push(`router_websockets_active{route="media"} was ${r.gauge.whenOpen}, expected ${r.gauge.expectedOpen}`)
  if (r.gauge.afterClose !== 0) p.push(`router_websockets_active{route="media"} was ${r.gauge.afterClose} after closing, expected 0`)
  if (r.error !== undefined) p.push(`error: ${r.error}`)
  return p
}

const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`
const ms = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a')

/** The summary table (plain text, two columns). */
export function renderSummary(r: ScaleResult): string {
  const rows: [string, string][] = [
    ['connections requested', String(r.connections.requested)],
    ['opened', String(r.connections.opened)],
    ['failed', `${r.connections.failed}${r.connections.failed > 0 ? ` ${JSON.stringify(r.connections.failureReasons)}` : ''}`],
    ['dropped early / forced close', `${r.connections.droppedEarly} / ${r.connections.closeForced}`],
    ['open time (all)', `${r.openSeconds.toFixed(1)} s (${r.openSeconds > 0 ? Math.round(r.connections.opened / r.openSeconds) : 0}/s)`],
    ['echo p50 / p99 / max', `${ms(r.echo.rttMs.p50)} / ${ms(r.echo.rttMs.p99)} / ${ms(r.echo.rttMs.max)} (${r.echo.lost} lost)`],
    ['active gauge open / closed', `${r.gauge.whenOpen} / ${r.gauge.afterClose} (expected ${r.gauge.expectedOpen} / 0)`],
    ['close time / gauge at 0 after', `${r.closeSeconds.toFixed(1)} s / ${Number.isFinite(r.gauge.settleSeconds) ? `${r.gauge.settleSeconds.toFixed(1)} s` : 'never'}`],
    ['router RSS before → after', `${mb(r.router.rssBeforeKb)} → ${mb(r.router.rssAfterKb)} (primary + ${r.router.workers.length} workers)`],
    ['router RSS per connection', `${(r.router.rssPerConnectionBytes / 1024).toFixed(1)} KB (worker growth / connections)`],
    ['router worker fds at peak', r.router.workers.map((w) => String(w.fdsAtPeak ?? '?')).join(', ')],
    ['media nodes RSS after', `${mb(sumKb(r.mediaNodes, 'afterKb'))} over ${r.mediaNodes.length}`],
    ['generators RSS after', `${mb(sumKb(r.generators, 'afterKb'))} over ${r.generators.length}`],
    ['result', r.ok ? 'OK' : `FAILED: ${r.problems.join('; ')}`],
  ]
  const w = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')
}
