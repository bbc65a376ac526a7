// The tier's report (pure): the table printed at the end (one line per check,
// measured figure beside its pass line) and the JSON document written with it.

import { formatMarkdownTable, formatTable, type Column } from '../lib/table.js'
import type { Judged } from './known.js'
import type { ScenarioResult } from './verdicts.js'

const COLUMNS: readonly Column[] = [{ header: 'Scenario' }, { header: 'Check' }, { header: 'Measured', align: 'right' }, { header: 'Pass line' }, { header: 'Result' }]

function rows(results: readonly Judged[]): string[][] {
  const out: string[][] = []
  for (const r of results) {
    if (r.checks.length === 0) out.push([r.title, String(r.info['error'] ?? 'no checks'), '', '', 'FAIL'])
    r.checks.forEach((c, i) => out.push([i === 0 ? r.title : '', c.what, c.measured, c.line, c.pass ? 'PASS' : c.known !== undefined ? `KNOWN (${c.known.split(':')[0] ?? ''})` : 'FAIL']))
  }
  return out
}

export function tierTable(results: readonly Judged[]): string {
  return formatTable(COLUMNS, rows(results))
}

export function tierMarkdown(results: readonly Judged[]): string {
  return formatMarkdownTable(COLUMNS, rows(results))
}

/** "7 passed, 1 failed" over scenarios (a scenario failing only on known defects passes), plus the known failures. */
export function tierSummaryLine(results: readonly Judged[]): string {
  const passed = results.filter((r) => r.pass).length
  const known = results.reduce((n, r) => n + r.knownFailures, 0)
  return `${passed} passed, ${results.length - passed} failed${known > 0 ? ` (${known} checks failed on known defects, see loadtest/src/tier/known.ts)` : ''}`
}

export interface TierDocument {
  version: 1
  full: boolean
  startedAt: string
  durationS: number
  sizes: Readonly<Record<string, unknown>>
  pass: boolean
  scenarios: readonly Judged[]
  /** The machine's 1-minute load average at the start and the end (other work on it shows here). */
  loadAverage: { start: number; end: number }
  /** HTTP transport error messages over the whole run. */
  httpErrors: Readonly<Record<string, number>>
}

export function tierDocument(o: Omit<TierDocument, 'version' | 'pass'>): TierDocument {
  return { version: 1, ...o, pass: o.scenarios.length > 0 && o.scenarios.every((s) => s.pass) }
}

/** A scenario that threw before it could be judged. */
export function crashed(id: string, err: unknown): ScenarioResult {
  const message = err instanceof Error ? err.message : String(err)
  return { id, title: id, fromMs: 0, toMs: 0, checks: [], info: { error: message.slice(0, 300) }, pass: false }
}

export type { ScenarioResult }
