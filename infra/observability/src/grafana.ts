// The Grafana dashboard (../grafana/edge-router-dashboard.json) read into typed
// values, and Grafana's variable substitution as Grafana does it before it
// sends a panel's query to Prometheus: $__interval, $__rate_interval,
// $__range, and the dashboard's own variables ($name, ${name}, ${name:fmt},
// [[name]]), multi-value and "All" as a regex alternation or the allValue.

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const DASHBOARD_FILE = fileURLToPath(new URL('../grafana/edge-router-dashboard.json', import.meta.url))

export interface PanelQuery {
  /** Title of the panel, and of its row when it has one. */
  readonly panel: string
  readonly row: string | undefined
  readonly refId: string
  readonly expr: string
}

export interface DashboardVariable {
  readonly name: string
  readonly type: string
  /** The variable's current value(s) as the dashboard is saved; `$__all` for "All". */
  readonly current: readonly string[]
  readonly multi: boolean
  readonly includeAll: boolean
  readonly allValue: string | undefined
  /** For query variables: the Prometheus variable query, e.g. label_values(metric{...}, label). */
  readonly query: string | undefined
}

export interface Dashboard {
  readonly title: string
  readonly uid: string
  readonly panelCount: number
  readonly queries: readonly PanelQuery[]
  readonly variables: readonly DashboardVariable[]
  /** Panels (not rows) without any query. */
  readonly panelsWithoutQueries: readonly string[]
}

type Json = Record<string, unknown>

function obj(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what}: expected an object`)
  return v as Json
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what}: expected an array`)
  return v
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what}: expected a string`)
  return v
}

function values(v: unknown): string[] {
  if (typeof v === 'string') return [v]
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string')
  return []
}

/** Parses a dashboard model (the JSON Grafana exports and imports). */
export function parseDashboard(source: string): Dashboard {
  const root = obj(JSON.parse(source), 'dashboard')
  const queries: PanelQuery[] = []
  const withoutQueries: string[] = []
  let panelCount = 0
  const visit = (p: unknown, row: string | undefined, where: string): void => {
    const panel = obj(p, where)
    const title = str(panel.title, `${where}.title`)
    if (panel.type === 'row') {
      // A collapsed row keeps its panels inside it; an open row has none.
      for (const [i, inner] of arr(panel.panels ?? [], `${where}.panels`).entries()) visit(inner, title, `${where}.panels[${i}]`)
      return
    }
    panelCount++
    const targets = arr(panel.targets ?? [], `${where}.targets`)
    if (targets.length === 0) withoutQueries.push(title)
    for (const [i, tg] of targets.entries()) {
      const target = obj(tg, `${where}.targets[${i}]`)
      queries.push({ panel: title, row, refId: str(target.refId, `${where}.targets[${i}].refId`), expr: str(target.expr, `${where}.targets[${i}].expr`) })
    }
  }
  // Panels after an open row belong to it until the next row.
  let currentRow: string | undefined
  for (const [i, p] of arr(root.panels, 'panels').entries()) {
    const panel = obj(p, `panels[${i}]`)
    if (panel.type === 'row') currentRow = str(panel.title, `panels[${i}].title`)
    visit(p, currentRow, `panels[${i}]`)
  }
  const variables: DashboardVariable[] = []
  for (const [i, v] of arr(obj(root.templating, 'templating').list, 'templating.list').entries()) {
    const variable = obj(v, `templating.list[${i}]`)
    const current = variable.current === undefined ? {} : obj(variable.current, `templating.list[${i}].current`)
    const query = variable.query
    variables.push({
      name: str(variable.name, `templating.list[${i}].name`),
      type: str(variable.type, `templating.list[${i}].type`),
      current: values(current.value),
      multi: variable.multi === true,
      includeAll: variable.includeAll === true,
      allValue: typeof variable.allValue === 'string' ? variable.allValue : undefined,
      query: typeof query === 'string' ? query : typeof query === 'object' && query !== null ? values((query as Json).query)[0] : undefined,
    })
  }
  return { title: str(root.title, 'title'), uid: str(root.uid, 'uid'), panelCount, queries, variables, panelsWithoutQueries: withoutQueries }
}

export function readDashboard(): Dashboard {
  return parseDashboard(readFileSync(DASHBOARD_FILE, 'utf8'))
}

/** What Grafana knows when it builds a query: the interval it picked and the data source's scrape interval. */
export interface QueryContext {
  /** $__interval in seconds (time range / max data points, at least the scrape interval). */
  readonly intervalSeconds: number
  /** The Prometheus data source's "Scrape interval" setting, in seconds. */
  readonly scrapeIntervalSeconds: number
  /** $__range in seconds. */
  readonly rangeSeconds: number
}

/** Grafana's $__rate_interval: max($__interval + scrape interval, 4 × scrape interval). */
export function rateIntervalSeconds(ctx: QueryContext): number {
  return Math.max(ctx.intervalSeconds + ctx.scrapeIntervalSeconds, 4 * ctx.scrapeIntervalSeconds)
}

/** Grafana's prometheusRegularEscape: for a single-value variable. */
const regularEscape = (s: string): string => s.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'")
/** Grafana's prometheusSpecialRegexEscape: for multi-value and "All"-capable variables, which go into `=~`. */
const regexEscape = (s: string): string => s.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&')

/**
 * The text a variable stands for, as Grafana's Prometheus data source
 * formats it (interpolateQueryExpr): a single-value variable as is; a
 * multi-value or "All"-capable one regex-escaped, several values as
 * `(a|b)`, and "All" as its allValue. `${name:raw}` is never escaped.
 */
function formatVariable(v: DashboardVariable, format: string | undefined): string {
  const all = v.current.length === 1 && v.current[0] === '$__all'
  if (all) {
    if (v.allValue === undefined) throw new Error(`variable ${v.name}: "All" without an allValue expands to every option, which this check does not know; give it an allValue`)
    return v.allValue
  }
  if (format === 'raw') return v.current.join(',')
  if (!v.multi && !v.includeAll) return regularEscape(v.current[0] ?? '')
  if (v.current.length === 1) return regexEscape(v.current[0] ?? '')
  return `(${v.current.map(regexEscape).join('|')})`
}

/** A panel query with every variable replaced, as Grafana would send it. Throws on an unknown variable. */
export function interpolate(expr: string, variables: readonly DashboardVariable[], ctx: QueryContext): string {
  const builtins: Record<string, string> = {
    __rate_interval: `${rateIntervalSeconds(ctx)}s`,
    __interval: `${ctx.intervalSeconds}s`,
    __interval_ms: String(ctx.intervalSeconds * 1000),
    __range: `${ctx.rangeSeconds}s`,
    __range_s: String(ctx.rangeSeconds),
    __range_ms: String(ctx.rangeSeconds * 1000),
  }
  const byName = new Map(variables.map((v) => [v.name, v]))
  return expr.replace(/\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]|\$(\w+)/g, (match, a: string | undefined, af: string | undefined, b: string | undefined, bf: string | undefined, c: string | undefined) => {
    const name = a ?? b ?? c ?? ''
    const builtin = builtins[name]
    if (builtin !== undefined) return builtin
    const v = byName.get(name)
    if (v === undefined) throw new Error(`unknown variable ${match} in: ${expr}`)
    return formatVariable(v, af ?? bf)
  })
}
