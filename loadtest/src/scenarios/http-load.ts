// HTTP load scenario: at steady load (CONNECTIONS keep-alive connections for
// DURATION), do requests through /services/<id> meet the error and latency SLOs?

import { runHttpLoad, type HttpLoadResult } from '../lib/http-load.js'
import type { SloLimits } from '../config.js'
import type { Slo } from '../lib/slo.js'
import { ms, pct, type Scenario, type ScenarioOutcome, type Target } from './scenario.js'

/** Origin and per-deployment paths of the service requests. */
export function servicePaths(target: Target, servicePath: string): { origin: string; paths: string[] } {
  const base = new URL(target.baseUrl)
  const prefix = base.pathname.replace(/\/+$/, '')
  return {
    origin: base.origin,
    paths: target.deployments.map((id) => `${prefix}/services/${encodeURIComponent(id)}${servicePath}`),
  }
}

export function httpFigures(prefix: string, r: HttpLoadResult): Record<string, number> {
  return {
    [`${prefix}.requests`]: r.responses,
    [`${prefix}.rps`]: r.rps,
    [`${prefix}.errorRate`]: r.errorRate,
    [`${prefix}.p50`]: r.latency.p50,
    [`${prefix}.p95`]: r.latency.p95,
    [`${prefix}.p99`]: r.latency.p99,
  }
}

export function httpSlos(prefix: string, slo: SloLimits): Slo[] {
  return [
    { metric: `${prefix}.errorRate`, op: '<', limit: slo.httpErrorRate * 100, unit: '%' },
    { metric: `${prefix}.p95`, op: '<', limit: slo.httpP95Ms, unit: 'ms' },
    { metric: `${prefix}.p99`, op: '<', limit: slo.httpP99Ms, unit: 'ms' },
    { metric: `${prefix}.requests`, op: '>', limit: 0, unit: '', description: 'some requests were answered' },
  ]
}

export function describeHttp(r: HttpLoadResult): string {
  return `${r.responses} responses at ${r.rps.toFixed(0)} rps over ${r.connections} conns; errors ${pct(r.errorRate)} (${r.badStatus} bad status, ${r.transportErrors} transport); p50 ${ms(r.latency.p50)} p95 ${ms(r.latency.p95)} p99 ${ms(r.latency.p99)}`
}

export const httpLoad: Scenario = {
  name: 'http-load',
  question: 'At steady load, do /services/<id> requests meet the error and latency SLOs?',
  async run({ target, options, setStatus }): Promise<ScenarioOutcome> {
    if (target.deployments.length === 0) return { measurements: {}, slos: [], notes: [], skipped: 'no deployments to load' }
    const { origin, paths } = servicePaths(target, options.servicePath)
    const r = await runHttpLoad({
      url: origin + (paths[0] ?? '/'),
      paths,
      connections: options.connections,
      durationMs: options.durationMs,
      onTick: (l) => setStatus(`${(l.elapsedMs / 1000).toFixed(0)}/${(options.durationMs / 1000).toFixed(0)}s ${l.responses} responses, ${l.errors} errors`),
    })
    return { measurements: httpFigures('http', r), slos: httpSlos('http', options.slo), notes: [describeHttp(r)] }
  },
}
