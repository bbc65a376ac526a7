// A dependency-free SVG chart of the bench results: one horizontal bar panel
// per figure (req/s, p99, CPU per request, echo p99, RSS per connection), a
// bar per target and connection count, min–max whiskers, values printed.

import type { MedianRange } from '../lib/percentiles.js'
import type { TargetSummary } from './report.js'

export interface Series {
  /** Legend label, e.g. "50 conns". */
  name: string
  values: (MedianRange | null)[]
}

export interface Panel {
  title: string
  /** Which way is better, shown under the title. */
  better: 'higher' | 'lower'
  unit: string
  categories: string[]
  series: Series[]
}

const COLORS = ['#3b6fb6', '#e08a2c', '#4a9a5a', '#b0455a']
const TARGET_LABEL_W = 110
const BAR_H = 14
const GAP = 4
const WIDTH = 860

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function fmt(v: number): string {
  const a = Math.abs(v)
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3)
}

/** Height of a panel in px. */
export function panelHeight(p: Panel): number {
  return 48 + p.categories.length * (p.series.length * (BAR_H + GAP) + 8)
}

function renderPanel(p: Panel, y0: number): string {
  const plotX = TARGET_LABEL_W
  const plotW = WIDTH - plotX - 90
  const max = Math.max(0, ...p.series.flatMap((s) => s.values.map((v) => (v === null ? 0 : Math.max(v.max, v.median)))))
  const scale = max > 0 ? plotW / max : 0
  const out: string[] = []
  out.push(`<text x="8" y="${y0 + 18}" class="title">${esc(p.title)}</text>`)
  out.push(`<text x="${WIDTH - 8}" y="${y0 + 18}" class="note" text-anchor="end">${p.better} is better · ${esc(p.unit)}</text>`)
  p.series.forEach((s, si) => {
    const lx = plotX + si * 110
    out.push(`<rect x="${lx}" y="${y0 + 26}" width="10" height="10" fill="${COLORS[si % COLORS.length]}"/><text x="${lx + 14}" y="${y0 + 35}" class="note">${esc(s.name)}</text>`)
  })
  let y = y0 + 44
  p.categories.forEach((cat, ci) => {
    const groupH = p.series.length * (BAR_H + GAP)
    // Our router's rows stand out so the eye finds them first.
    const weight = cat === 'router' ? ' font-weight="700"' : ''
    out.push(`<text x="${plotX - 8}" y="${y + groupH / 2 + 4}" text-anchor="end" class="label"${weight}>${esc(cat)}</text>`)
    p.series.forEach((s, si) => {
      const v = s.values[ci] ?? null
      const by = y + si * (BAR_H + GAP)
      if (v === null) {
        out.push(`<text x="${plotX + 4}" y="${by + BAR_H - 3}" class="note">not measured</text>`)
        return
      }
      const w = Math.max(1, v.median * scale)
      out.push(`<rect x="${plotX}" y="${by}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${cat} ${s.name}: ${fmt(v.median)} ${p.unit} (min ${fmt(v.min)}, max ${fmt(v.max)}, ${v.n} rounds)`)}</title></rect>`)
      if (v.n > 1 && v.max > v.min) {
        const x1 = plotX + v.min * scale
        const x2 = plotX + v.max * scale
        const cy = by + BAR_H / 2
        out.push(`<path d="M${x1.toFixed(1)} ${cy}H${x2.toFixed(1)}M${x1.toFixed(1)} ${cy - 4}V${cy + 4}M${x2.toFixed(1)} ${cy - 4}V${cy + 4}" class="whisker"/>`)
      }
      const tx = plotX + Math.max(w, v.max * scale) + 6
      out.push(`<text x="${tx.toFixed(1)}" y="${by + BAR_H - 3}" class="value">${fmt(v.median)}</text>`)
    })
    y += groupH + 8
    if (ci < p.categories.length - 1) out.push(`<line x1="${plotX}" x2="${WIDTH - 8}" y1="${y - 4}" y2="${y - 4}" class="sep"/>`)
  })
  out.push(`<line x1="${plotX}" x2="${plotX}" y1="${y0 + 40}" y2="${y - 6}" class="axis"/>`)
  return out.join('\n')
}

/** Renders the panels stacked into one SVG document. */
export function renderSvg(title: string, subtitle: string, panels: readonly Panel[]): string {
  let y = 56
  const parts: string[] = []
  for (const p of panels) {
    parts.push(renderPanel(p, y))
    y += panelHeight(p) + 16
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">
<style>
.title{font-size:15px;font-weight:600;fill:#222}.label{font-size:12px;fill:#222}.note{font-size:11px;fill:#666}
.value{font-size:11px;fill:#222}.whisker{stroke:#222;stroke-width:1.2;fill:none}.axis{stroke:#999}.sep{stroke:#eee}
.h1{font-size:18px;font-weight:700;fill:#111}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="24" class="h1">${esc(title)}</text>
<text x="8" y="44" class="note">${esc(subtitle)}</text>
${parts.join('\n')}
</svg>
`
}

/** The standard bench chart from the per-target summaries. */
export function benchPanels(summaries: readonly TargetSummary[], connections: readonly number[]): Panel[] {
  const categories = summaries.map((s) => s.target)
  const perConn = (pick: (h: TargetSummary['http'][number]) => MedianRange | null): Series[] =>
    connections.map((c, i) => ({
      name: `${c} conns`,
      values: summaries.map((s) => {
        const h = s.http[i]
        return h === undefined ? null : pick(h)
      }),
    }))
  const panels: Panel[] = [
    { title: 'HTTP throughput', better: 'higher', unit: 'requests/s', categories, series: perConn((h) => h.rps) },
    { title: 'HTTP p99 latency', better: 'lower', unit: 'ms', categories, series: perConn((h) => h.p99) },
    { title: 'Proxy CPU per request', better: 'lower', unit: 'µs of CPU (user+system) per request', categories: categories.filter((c) => c !== 'direct'), series: [] },
  ]
  const cpuTargets = summaries.filter((s) => s.target !== 'direct')
  const cpuPanel = panels[2]
  if (cpuPanel !== undefined) {
    cpuPanel.series = connections.map((c, i) => ({ name: `${c} conns`, values: cpuTargets.map((s) => s.http[i]?.cpuUsPerReq ?? null) }))
  }
  const wsCount = summaries.find((s) => s.ws !== null)?.ws?.count ?? 0
  if (wsCount > 0) {
    panels.push(
      { title: `WebSocket echo p99 (${wsCount} concurrent)`, better: 'lower', unit: 'ms', categories, series: [{ name: 'echo p99', values: summaries.map((s) => s.ws?.p99 ?? null) }] },
      {
        title: `Proxy memory per WebSocket (${wsCount} concurrent)`,
        better: 'lower',
        unit: 'KB of RSS per connection (marginal)',
        categories: cpuTargets.map((s) => s.target),
        series: [{ name: 'RSS/conn', values: cpuTargets.map((s) => s.ws?.rssPerConnKb ?? null) }],
      },
    )
  }
  return panels
}
