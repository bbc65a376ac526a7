// Turns scenario outcomes into the end-of-run summary: one table row per
// objective with the measured value and PASS/FAIL, plus skipped scenarios.

import { evaluateSlos, formatSlo, formatValue, type Slo, type SloResult } from './slo.js'
import { formatTable } from './table.js'

export interface ScenarioReport {
  name: string
  question: string
  skipped?: string
  error?: string
  measurements: Readonly<Record<string, number>>
  slos: readonly Slo[]
  notes: readonly string[]
}

export interface EvaluatedReport extends ScenarioReport {
  results: SloResult[]
  /** false when an objective was missed or the scenario crashed; skipped scenarios pass. */
  ok: boolean
}

export function evaluateReport(r: ScenarioReport): EvaluatedReport {
  const results = r.skipped !== undefined ? [] : evaluateSlos(r.slos, r.measurements)
  const ok = r.error === undefined && results.every((x) => x.ok)
  return { ...r, results, ok }
}

/** The summary table: scenario, objective, measured, result. */
export function summaryTable(reports: readonly EvaluatedReport[]): string {
  const rows: string[][] = []
  for (const r of reports) {
    if (r.skipped !== undefined) {
      rows.push([r.name, `skipped: ${r.skipped}`, '—', 'SKIP'])
      continue
    }
    if (r.error !== undefined) rows.push([r.name, `error: ${r.error}`, '—', 'FAIL'])
    for (const res of r.results) {
      const label = res.slo.description !== undefined ? `${formatSlo(res.slo)} (${res.slo.description})` : formatSlo(res.slo)
      rows.push([r.name, label, formatValue(res.value, res.slo.unit), res.ok ? 'pass' : 'FAIL'])
    }
  }
  return formatTable(
    [{ header: 'scenario' }, { header: 'objective' }, { header: 'measured', align: 'right' }, { header: 'result' }],
    rows,
  )
}

/** Exit code: 0 when every scenario passed or was skipped, 1 otherwise. */
export function exitCode(reports: readonly EvaluatedReport[]): number {
  return reports.every((r) => r.ok) ? 0 : 1
}
