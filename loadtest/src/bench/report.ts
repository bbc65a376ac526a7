// Bench results: per-round raw runs → per-target medians with min–max, ratio
// columns (to direct and to nginx), and the text/Markdown tables. Pure.

import { medianRange, type MedianRange } from '../lib/percentiles.js'
import { formatMarkdownTable, formatTable, type Column } from '../lib/table.js'
import type { HttpRun, WsRun } from './measure.js'

export interface TargetRound {
  target: string
  round: number
  http: HttpRun[]
  ws: WsRun | null
  error?: string
  /** Tail of the proxy's stderr when it wrote anything (warnings, errors). */
  proxyLog?: string
}

export interface HttpAggregate {
  connections: number
  rps: MedianRange | null
  p50: MedianRange | null
  p99: MedianRange | null
  errors: MedianRange | null
  cpuUsPerReq: MedianRange | null
}

export interface WsAggregate {
  count: number
  held: MedianRange | null
  p50: MedianRange | null
  p99: MedianRange | null
  /** Marginal RSS per connection (see WsRun). */
  rssPerConnKb: MedianRange | null
  /** All RSS growth of the fresh process ÷ connections. */
  rssTotalPerConnKb: MedianRange | null
  lost: MedianRange | null
}

export interface TargetSummary {
  target: string
  rounds: number
  failedRounds: number
  http: HttpAggregate[]
  ws: WsAggregate | null
}

function nums(values: (number | null | undefined)[]): number[] {
  return values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
}

/** Medians with min–max per target, connection count and figure. */
export function aggregate(rounds: readonly TargetRound[], targets: readonly string[], connections: readonly number[]): TargetSummary[] {
  return targets.map((target) => {
    const mine = rounds.filter((r) => r.target === target)
    const ok = mine.filter((r) => r.error === undefined)
    const http = connections.map((c) => {
      const runs = ok.flatMap((r) => r.http.filter((h) => h.connections === c))
      return {
        connections: c,
        rps: medianRange(nums(runs.map((h) => h.rps))),
        p50: medianRange(nums(runs.map((h) => h.p50))),
        p99: medianRange(nums(runs.map((h) => h.p99))),
        errors: medianRange(nums(runs.map((h) => h.errors))),
        cpuUsPerReq: medianRange(nums(runs.map((h) => h.cpuUsPerReq))),
      }
    })
    const wsRuns = ok.map((r) => r.ws).filter((w): w is WsRun => w !== null)
    const ws =
      wsRuns.length === 0
        ? null
        : {
            count: wsRuns[0]?.count ?? 0,
            held: medianRange(wsRuns.map((w) => w.held)),
            p50: medianRange(nums(wsRuns.map((w) => w.p50))),
            p99: medianRange(nums(wsRuns.map((w) => w.p99))),
            rssPerConnKb: medianRange(nums(wsRuns.map((w) => w.rssPerConnKb))),
            rssTotalPerConnKb: medianRange(nums(wsRuns.map((w) => w.rssTotalPerConnKb))),
            lost: medianRange(wsRuns.map((w) => w.lost)),
          }
    return { target, rounds: mine.length, failedRounds: mine.length - ok.length, http, ws }
  })
}

/** Formats a number compactly: 12345 → "12345", 12.345 → "12.3", 1.2345 → "1.23". */
export function num(v: number): string {
  if (!Number.isFinite(v)) return 'n/a'
  const a = Math.abs(v)
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3)
}

/** "median (min–max)", or just the median when all rounds agree or there was one. */
export function cell(m: MedianRange | null, format: (v: number) => string = num): string {
  if (m === null) return '—'
  if (m.n === 1 || m.min === m.max) return format(m.median)
  return `${format(m.median)} (${format(m.min)}–${format(m.max)})`
}

/** Counts: whole numbers (a median of two may end in .5). */
export function count(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1)
}

/** Ratio of medians "×1.23", or "—" when either side is missing. */
export function ratio(a: MedianRange | null, b: MedianRange | null): string {
  if (a === null || b === null || b.median === 0) return '—'
  return `×${(a.median / b.median).toFixed(2)}`
}

export interface Tables {
  columns: Column[]
  rows: string[][]
  title: string
}

/** One HTTP table per connection count, then the WebSocket table. */
export function buildTables(summaries: readonly TargetSummary[], connections: readonly number[]): Tables[] {
  const direct = summaries.find((s) => s.target === 'direct')
  const nginx = summaries.find((s) => s.target === 'nginx')
  const out: Tables[] = []
  connections.forEach((c, i) => {
    const d = direct?.http[i]
    const n = nginx?.http[i]
    out.push({
      title: `HTTP keep-alive, ${c} connections (median of rounds, min–max in brackets)`,
      columns: [
        { header: 'target' },
        { header: 'req/s', align: 'right' },
        { header: 'vs direct', align: 'right' },
        { header: 'vs nginx', align: 'right' },
        { header: 'p50 ms', align: 'right' },
        { header: 'p99 ms', align: 'right' },
        { header: 'errors', align: 'right' },
        { header: 'proxy CPU µs/req', align: 'right' },
        { header: 'CPU vs nginx', align: 'right' },
      ],
      rows: summaries.map((s) => {
        const h = s.http[i]
        if (h === undefined) return [s.target]
        return [
          s.target + (s.failedRounds > 0 ? ` (${s.failedRounds} failed)` : ''),
          cell(h.rps),
          ratio(h.rps, d?.rps ?? null),
          ratio(h.rps, n?.rps ?? null),
          cell(h.p50),
          cell(h.p99),
          cell(h.errors, count),
          cell(h.cpuUsPerReq),
          ratio(h.cpuUsPerReq, n?.cpuUsPerReq ?? null),
        ]
      }),
    })
  })
  const wsCount = summaries.find((s) => s.ws !== null)?.ws?.count ?? 0
  if (wsCount === 0) return out
  out.push({
    title: `WebSockets, ${wsCount} concurrent connections through each target`,
    columns: [
      { header: 'target' },
      { header: 'held', align: 'right' },
      { header: 'echo p50 ms', align: 'right' },
      { header: 'echo p99 ms', align: 'right' },
      { header: 'p99 vs direct', align: 'right' },
      { header: 'lost', align: 'right' },
      { header: 'proxy RSS KB/conn', align: 'right' },
      { header: 'RSS vs nginx', align: 'right' },
      { header: 'incl. process growth KB/conn', align: 'right' },
    ],
    rows: summaries.map((s) => {
      const w = s.ws
      if (w === null) return [s.target, '—']
      return [
        s.target,
        `${cell(w.held, count)}/${w.count}`,
        cell(w.p50),
        cell(w.p99),
        ratio(w.p99, direct?.ws?.p99 ?? null),
        cell(w.lost, count),
        cell(w.rssPerConnKb),
        ratio(w.rssPerConnKb, nginx?.ws?.rssPerConnKb ?? null),
        cell(w.rssTotalPerConnKb),
      ]
    }),
  })
  return out
}

export function renderText(tables: readonly Tables[]): string {
  return tables.map((t) => `${t.title}\n${formatTable(t.columns, t.rows)}`).join('\n\n')
}

export function renderMarkdown(tables: readonly Tables[]): string {
  return tables.map((t) => `**${t.title}**\n\n${formatMarkdownTable(t.columns, t.rows)}`).join('\n\n')
}
