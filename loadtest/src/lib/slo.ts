// Service-level objectives: a pure evaluator that compares measured values to
// thresholds ("p95 < 300 ms") and reports which objectives were met.

/** Comparison an objective asks for: the measured value must satisfy `value <op> limit`. */
export type SloOperator = '<' | '<=' | '>' | '>='

/** One objective, e.g. `{ metric: 'http.p95', op: '<', limit: 300, unit: 'ms' }`. */
export interface Slo {
  /** Key into the measurements record. */
  metric: string
  op: SloOperator
  limit: number
  /** Display unit: 'ms', '%', 'rps' ... A '%' objective compares a ratio 0..1 to limit/100. */
  unit: string
  /** Human description shown in the summary. */
  description?: string
}

export interface SloResult {
  slo: Slo
  /** The measured value, or null when the metric was not measured. */
  value: number | null
  /** true when met; a missing or NaN measurement is a miss. */
  ok: boolean
}

/** Whether `value` satisfies `op limit`. NaN never satisfies. */
export function compare(value: number, op: SloOperator, limit: number): boolean {
  if (Number.isNaN(value)) return false
  switch (op) {
    case '<':
      return value < limit
    case '<=':
      return value <= limit
    case '>':
      return value > limit
    case '>=':
      return value >= limit
  }
}

/** Evaluates every objective against the measurements. Missing measurements fail. */
export function evaluateSlos(slos: readonly Slo[], measurements: Readonly<Record<string, number>>): SloResult[] {
  return slos.map((slo) => {
    const raw = Object.hasOwn(measurements, slo.metric) ? measurements[slo.metric] : undefined
    if (raw === undefined) return { slo, value: null, ok: false }
    const limit = slo.unit === '%' ? slo.limit / 100 : slo.limit
    return { slo, value: raw, ok: compare(raw, slo.op, limit) }
  })
}

/** True when every result is met (an empty list is met). */
export function allMet(results: readonly SloResult[]): boolean {
  return results.every((r) => r.ok)
}

/** Formats the objective as written, e.g. "p95 < 300 ms" or "errors < 1 %". */
export function formatSlo(slo: Slo): string {
  return `${slo.metric} ${slo.op} ${slo.limit}${slo.unit ? ' ' + slo.unit : ''}`
}

/** Formats a measured value in the objective's unit (ratios shown as percent). */
export function formatValue(value: number | null, unit: string): string {
  if (value === null) return 'not measured'
  if (Number.isNaN(value)) return 'n/a'
  if (unit === '%') return `${(value * 100).toFixed(2)} %`
  if (unit === '' && Number.isInteger(value)) return String(value)
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2
  return `${value.toFixed(digits)}${unit ? ' ' + unit : ''}`
}
