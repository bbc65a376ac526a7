// Smoke scenario: is the router up and routing at all? GET /health, one GET per
// deployment, one short echo session per media node; everything must succeed.

import { request } from 'undici'
import { runWsSessions, mediaSessionUrl } from '../lib/ws-sessions.js'
import { ms, serviceUrl, type Scenario, type ScenarioOutcome } from './scenario.js'

export const smoke: Scenario = {
  name: 'smoke',
  question: 'Is the router up and routing every deployment and media node?',
  async run({ target, options, setStatus }): Promise<ScenarioOutcome> {
    let failures = 0
    let requests = 0
    const notes: string[] = []
    setStatus('GET /health')
    let healthStatus = 0
    try {
      const health = await request(`${target.baseUrl}/health`, { headersTimeout: 5000, bodyTimeout: 5000 })
      healthStatus = health.statusCode
      await health.body.dump()
    } catch (err) {
      notes.push(`/health: ${err instanceof Error ? err.message : String(err)}`)
    }
    if (target.deployments.length === 0) notes.push('no deployments given: nothing routed under /services/')
    for (const id of target.deployments) {
      setStatus(`GET /services/${id}${options.servicePath}`)
      requests++
      try {
        const res = await request(serviceUrl(target.baseUrl, id, options.servicePath), { headersTimeout: 5000, bodyTimeout: 5000 })
        await res.body.dump()
        if (res.statusCode >= 400) {
          failures++
          notes.push(`/services/${id}: HTTP ${res.statusCode}`)
        }
      } catch (err) {
        failures++
        notes.push(`/services/${id}: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
    setStatus(`one echo session on each of ${target.mediaNodes.length} media node(s)`)
    const ws = await runWsSessions({
      url: (i) => mediaSessionUrl(target.baseUrl, target.mediaNodes[i] ?? '', `smoke-${i}`),
      clients: target.mediaNodes.length,
      msgRate: 10,
      holdMs: 1000,
    })
    for (const e of ws.errorSamples) notes.push(`ws: ${e}`)
    notes.push(`${requests} service request(s), ${failures} failed; ${ws.opened}/${target.mediaNodes.length} sessions, ${ws.echoed}/${ws.sent} echoes, rtt p95 ${ms(ws.rtt.p95)}`)
    const wsFailed = ws.failedToOpen + ws.closedEarly + (ws.sent > 0 && ws.echoed === 0 ? 1 : 0)
    return {
      measurements: {
        'health.status': healthStatus,
        'http.failed': failures,
        'http.requests': requests,
        'ws.failed': wsFailed,
        'ws.opened': ws.opened,
        'ws.echoed': ws.echoed,
        'ws.rtt.p95': ws.rtt.p95,
      },
      slos: [
        { metric: 'health.status', op: '>=', limit: 200, unit: '', description: 'GET /health answers 200' },
        { metric: 'health.status', op: '<', limit: 300, unit: '' },
        { metric: 'http.failed', op: '<=', limit: 0, unit: '', description: 'every deployment answers' },
        { metric: 'http.requests', op: '>', limit: 0, unit: '', description: 'some deployment was requested' },
        { metric: 'ws.failed', op: '<=', limit: 0, unit: '', description: 'every node echoes' },
        { metric: 'ws.opened', op: '>=', limit: target.mediaNodes.length, unit: '', description: 'a session on every node' },
        { metric: 'ws.echoed', op: '>', limit: 0, unit: '', description: 'echoes came back' },
        { metric: 'ws.rtt.p95', op: '<', limit: options.slo.wsRttP95Ms, unit: 'ms' },
      ],
      notes,
    }
  },
}
