// Spike scenario: when connections jump from CONNECTIONS to SPIKE_VUS at once,
// does the router keep serving (bounded errors and tail) and recover after?
// Three back-to-back phases of DURATION/3: baseline, spike, recovery.

import { runHttpLoad } from '../lib/http-load.js'
import { describeHttp, httpFigures, servicePaths } from './http-load.js'
import type { Scenario, ScenarioOutcome } from './scenario.js'

export const spike: Scenario = {
  name: 'spike',
  question: 'Does a sudden jump in connections stay within bounded errors, and does latency recover?',
  async run({ target, options, setStatus }): Promise<ScenarioOutcome> {
    if (target.deployments.length === 0) return { measurements: {}, slos: [], notes: [], skipped: 'no deployments to load' }
    const { origin, paths } = servicePaths(target, options.servicePath)
    const phaseMs = Math.max(1000, Math.round(options.durationMs / 3))
    const phases = [
      ['baseline', options.connections],
      ['spike', options.spikeConnections],
      ['recovery', options.connections],
    ] as const
    const measurements: Record<string, number> = {}
    const notes: string[] = []
    for (const [name, connections] of phases) {
      const r = await runHttpLoad({
        url: origin + (paths[0] ?? '/'),
        paths,
        connections,
        durationMs: phaseMs,
        onTick: (l) => setStatus(`${name} (${connections} conns) ${(l.elapsedMs / 1000).toFixed(0)}s ${l.responses} responses, ${l.errors} errors`),
      })
      Object.assign(measurements, httpFigures(name, r))
      notes.push(`${name}: ${describeHttp(r)}`)
    }
    const slo = options.slo
    return {
      measurements,
      slos: [
        { metric: 'baseline.requests', op: '>', limit: 0, unit: '', description: 'baseline measured' },
        { metric: 'baseline.errorRate', op: '<', limit: slo.httpErrorRate * 100, unit: '%' },
        { metric: 'baseline.p95', op: '<', limit: slo.httpP95Ms, unit: 'ms' },
        { metric: 'spike.requests', op: '>', limit: 0, unit: '', description: 'spike measured' },
        { metric: 'spike.errorRate', op: '<', limit: slo.spikeErrorRate * 100, unit: '%' },
        { metric: 'spike.p99', op: '<', limit: 2 * slo.httpP99Ms, unit: 'ms', description: 'tail at most twice the steady p99 SLO' },
        { metric: 'recovery.requests', op: '>', limit: 0, unit: '', description: 'recovery measured' },
        { metric: 'recovery.errorRate', op: '<', limit: slo.httpErrorRate * 100, unit: '%' },
        { metric: 'recovery.p95', op: '<', limit: slo.httpP95Ms, unit: 'ms' },
      ],
      notes,
    }
  },
}
