// Judges thresholds against an end-of-test summary the way k6 does, for the
// tap tests (k6 is not installed here) and for a plain-language "nothing was
// measured" list. A metric with no samples counts as all zeros, as in k6:
// that is why every scenario carries `count>0` guards (thresholds.js).
// Pure: no k6 imports.

/**
 * Summary values of one metric, as in k6's handleSummary data
 * (counter: count, rate; rate: rate, passes, fails; trend: avg, min, med, max, p(N)).
 * @typedef {{ [stat: string]: number }} MetricValues
 * @typedef {{ [metric: string]: { values: MetricValues } }} SummaryMetrics
 * @typedef {{ metric: string, expression: string, value: number, ok: boolean }} ThresholdResult
 */

const EXPRESSION = /^\s*(count|rate|value|avg|min|max|med|p\(\d+(?:\.\d+)?\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/

/**
 * Splits "p(95)<150" into its parts; throws on anything k6 would reject.
 * @param {string} expression
 * @returns {{ stat: string, op: string, limit: number }}
 */
export function parseThreshold(expression) {
  const m = EXPRESSION.exec(expression)
  if (m === null) throw new Error('not a threshold expression: "' + expression + '"')
  return { stat: m[1], op: m[2], limit: Number(m[3]) }
}

/**
 * @param {number} value
 * @param {string} op
 * @param {number} limit
 * @returns {boolean}
 */
function holds(value, op, limit) {
  switch (op) {
    case '<': return value < limit
    case '<=': return value <= limit
    case '>': return value > limit
    case '>=': return value >= limit
    case '==':
    case '===': return value === limit
    case '!=': return value !== limit
  }
  return false
}

/**
 * Every threshold of `thresholds` judged on `metrics`. A metric missing from
 * the summary, or a statistic missing from its values, is 0 (k6's empty sink).
 * @param {{ [metric: string]: (string | { threshold: string })[] }} thresholds
 * @param {SummaryMetrics} metrics
 * @returns {ThresholdResult[]}
 */
export function evaluateThresholds(thresholds, metrics) {
  /** @type {ThresholdResult[]} */
  const out = []
  const names = Object.keys(thresholds)
  for (let i = 0; i < names.length; i++) {
    const metric = names[i]
    const entry = Object.prototype.hasOwnProperty.call(metrics, metric) ? metrics[metric] : undefined
    const list = thresholds[metric]
    for (let j = 0; j < list.length; j++) {
      const item = list[j]
      const expression = typeof item === 'string' ? item : item.threshold
      const p = parseThreshold(expression)
      const raw = entry === undefined ? undefined : entry.values[p.stat]
      const value = typeof raw === 'number' && isFinite(raw) ? raw : 0
      out.push({ metric: metric, expression: expression, value: value, ok: holds(value, p.op, p.limit) })
    }
  }
  return out
}

/**
 * True when the metric recorded at least one sample.
 * @param {MetricValues | undefined} values
 * @returns {boolean}
 */
export function hasSamples(values) {
  if (values === undefined) return false
  if (typeof values.passes === 'number' || typeof values.fails === 'number') return (values.passes || 0) + (values.fails || 0) > 0
  if (typeof values.count === 'number') return values.count > 0
  return Object.keys(values).length > 0
}

/**
 * Metrics a threshold relies on that recorded nothing, e.g. ws_rtt when no echo came back.
 * @param {{ [metric: string]: unknown }} thresholds
 * @param {SummaryMetrics} metrics
 * @returns {string[]}
 */
export function emptyMetrics(thresholds, metrics) {
  return Object.keys(thresholds).filter(function (name) {
    const entry = Object.prototype.hasOwnProperty.call(metrics, name) ? metrics[name] : undefined
    return !hasSamples(entry === undefined ? undefined : entry.values)
  })
}

/**
 * The run's verdict: passes only when every threshold holds.
 * @param {{ [metric: string]: (string | { threshold: string })[] }} thresholds
 * @param {SummaryMetrics} metrics
 * @returns {{ ok: boolean, failed: ThresholdResult[], empty: string[] }}
 */
export function verdict(thresholds, metrics) {
  const failed = evaluateThresholds(thresholds, metrics).filter(function (r) { return !r.ok })
  return { ok: failed.length === 0, failed: failed, empty: emptyMetrics(thresholds, metrics) }
}
