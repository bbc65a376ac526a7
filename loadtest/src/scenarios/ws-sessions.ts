// WebSocket sessions scenario: can WS_SESSIONS clients hold media sessions
// (WS_PEERS per session, WS_MSG_RATE msg/s each, WS_HOLD long) with fast
// handshakes and echo round trips, and none cut short?

import { mediaSessionUrl, newWsStats, runWsSessions, type WsSessionsResult } from '../lib/ws-sessions.js'
import type { SloLimits } from '../config.js'
import type { Slo } from '../lib/slo.js'
import { ms, pct, type Scenario, type ScenarioOutcome } from './scenario.js'

export function wsFigures(prefix: string, r: WsSessionsResult, clients: number): Record<string, number> {
  return {
    [`${prefix}.clients`]: clients,
    [`${prefix}.opened`]: r.opened,
    // No session at all is not a 0 % error rate: NaN misses every objective.
    [`${prefix}.sessionErrorRate`]: clients === 0 ? Number.NaN : (r.failedToOpen + r.closedEarly) / clients,
    [`${prefix}.connect.p95`]: r.connect.p95,
    [`${prefix}.rtt.p50`]: r.rtt.p50,
    [`${prefix}.rtt.p95`]: r.rtt.p95,
    [`${prefix}.rtt.p99`]: r.rtt.p99,
    [`${prefix}.sent`]: r.sent,
    [`${prefix}.echoed`]: r.echoed,
    [`${prefix}.lostRate`]: r.sent === 0 ? Number.NaN : r.lost / r.sent,
    [`${prefix}.unansweredAtClose`]: r.unansweredAtClose,
  }
}

export function wsSlos(prefix: string, slo: SloLimits, expectMessages: boolean): Slo[] {
  const out: Slo[] = [
    { metric: `${prefix}.opened`, op: '>', limit: 0, unit: '', description: 'sessions opened' },
    { metric: `${prefix}.sessionErrorRate`, op: '<', limit: slo.wsSessionErrorRate * 100, unit: '%' },
    { metric: `${prefix}.connect.p95`, op: '<', limit: slo.wsConnectP95Ms, unit: 'ms' },
  ]
  if (expectMessages) {
    out.push(
      { metric: `${prefix}.echoed`, op: '>', limit: 0, unit: '', description: 'echoes came back' },
      { metric: `${prefix}.rtt.p95`, op: '<', limit: slo.wsRttP95Ms, unit: 'ms' },
      { metric: `${prefix}.rtt.p99`, op: '<', limit: slo.wsRttP99Ms, unit: 'ms' },
      { metric: `${prefix}.lostRate`, op: '<', limit: slo.wsLostRate * 100, unit: '%', description: 'echoes missing at least the grace time before close' },
    )
  }
  return out
}

export function describeWs(r: WsSessionsResult, clients: number): string {
  const codes = Object.entries(r.earlyCloseCodes).map(([c, n]) => `${c}×${n}`).join(' ')
  return (
    `${r.opened}/${clients} sessions opened, ${r.failedToOpen} refused, ${r.closedEarly} cut early${codes ? ` (${codes})` : ''}; ` +
    `connect p95 ${ms(r.connect.p95)}; ${r.echoed}/${r.sent} echoes (lost ${r.lost}, ${pct(r.sent === 0 ? 0 : r.lost / r.sent)}; unanswered at an early close ${r.unansweredAtClose}), ${r.relayed} relayed; rtt p50 ${ms(r.rtt.p50)} p95 ${ms(r.rtt.p95)} p99 ${ms(r.rtt.p99)}`
  )
}

export const wsSessions: Scenario = {
  name: 'ws-sessions',
  question: 'Do WebSocket media sessions open fast, hold, and round-trip within the SLOs?',
  async run({ target, options, setStatus }): Promise<ScenarioOutcome> {
    if (target.mediaNodes.length === 0) return { measurements: {}, slos: [], notes: [], skipped: 'no media nodes' }
    const clients = options.wsSessions
    const stats = newWsStats()
    const started = Date.now()
    const ticker = setInterval(() => {
      setStatus(`${((Date.now() - started) / 1000).toFixed(0)}s open ${stats.open}/${clients}, failed ${stats.failedToOpen}, cut ${stats.closedEarly}, echoes ${stats.echoed}/${stats.sent}`)
    }, 500)
    ticker.unref()
    try {
      const r = await runWsSessions(
        {
          url: (i) => {
            const group = Math.floor(i / options.wsPeers)
            return mediaSessionUrl(target.baseUrl, target.mediaNodes[group % target.mediaNodes.length] ?? '', `lt-${group}`)
          },
          clients,
          msgRate: options.wsMsgRate,
          holdMs: options.wsHoldMs,
          payloadBytes: options.wsPayloadBytes,
          echoGraceMs: options.wsEchoGraceMs,
        },
        stats,
      )
      const notes = [describeWs(r, clients), ...r.errorSamples.map((e) => `error: ${e}`)]
      return { measurements: wsFigures('ws', r, clients), slos: wsSlos('ws', options.slo, options.wsMsgRate > 0), notes }
    } finally {
      clearInterval(ticker)
    }
  },
}
