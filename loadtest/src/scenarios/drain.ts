// Drain-under-load scenario: when a media node drains, do the sessions already
// on it stay up until they end on their own, and do new sessions still open on
// the other nodes? Sessions are opened on every node, the drain starts
// DRAIN_AT into the run, and sessions hold past it by WS_HOLD.

import { mediaSessionUrl, newWsStats, runWsSessions } from '../lib/ws-sessions.js'
import { describeWs, wsFigures } from './ws-sessions.js'
import { pct, type Scenario, type ScenarioOutcome } from './scenario.js'

export const drain: Scenario = {
  name: 'drain',
  question: 'While a media node drains, do its open sessions stay up and new sessions open elsewhere?',
  async run({ target, options, setStatus }): Promise<ScenarioOutcome> {
    if (target.drainNode === undefined) {
      return { measurements: {}, slos: [], notes: [], skipped: 'no way to drain a node here (set DRAIN_URL, or use a dev stack that can drain)' }
    }
    if (target.mediaNodes.length === 0) return { measurements: {}, slos: [], notes: [], skipped: 'no media nodes' }
    const drainNodeId = options.drainNodeId ?? target.mediaNodes[0] ?? ''
    const others = target.mediaNodes.filter((n) => n !== drainNodeId)
    const clients = Math.max(1, options.wsSessions)
    const holdMs = options.drainAtMs + options.wsHoldMs
    const stats = newWsStats()
    const started = Date.now()
    let phase = 'before drain'
    const ticker = setInterval(() => {
      setStatus(`${phase}: ${((Date.now() - started) / 1000).toFixed(0)}s open ${stats.open}/${clients}, cut ${stats.closedEarly}, echoes ${stats.echoed}/${stats.sent}`)
    }, 500)
    ticker.unref()
    const nodeOf = (i: number): string => target.mediaNodes[Math.floor(i / options.wsPeers) % target.mediaNodes.length] ?? ''
    try {
      const before = runWsSessions(
        {
          url: (i) => mediaSessionUrl(target.baseUrl, nodeOf(i), `drain-${Math.floor(i / options.wsPeers)}`),
          clients,
          msgRate: options.wsMsgRate,
          holdMs,
          payloadBytes: options.wsPayloadBytes,
        },
        stats,
      )
      await new Promise((r) => setTimeout(r, options.drainAtMs))
      const drainAtMs = Date.now() - started
      phase = `draining ${drainNodeId}`
      let drainError: string | undefined
      await target.drainNode(drainNodeId).catch((err: unknown) => {
        drainError = err instanceof Error ? err.message : String(err)
      })
      const afterClients = others.length > 0 ? Math.max(1, Math.floor(clients / 4)) : 0
      const after = runWsSessions({
        url: (i) => mediaSessionUrl(target.baseUrl, others[i % others.length] ?? '', `after-drain-${i}`),
        clients: afterClients,
        msgRate: options.wsMsgRate,
        holdMs: Math.min(options.wsHoldMs, 5000),
      })
      const [b, a] = await Promise.all([before, after])
      // Sessions open on the draining node when the drain started.
      let onDrained = 0
      let cut = 0
      b.clientsLog.forEach((c, i) => {
        if (c.openedAtMs !== null && c.openedAtMs <= drainAtMs && nodeOf(i) === drainNodeId) {
          onDrained++
          if (c.closedEarly) cut++
        }
      })
      const notes = [
        `drain of ${drainNodeId} at ${(drainAtMs / 1000).toFixed(1)}s${drainError !== undefined ? ` FAILED: ${drainError}` : ''}`,
        `sessions open on ${drainNodeId} at drain: ${onDrained}, cut before their hold time: ${cut} (${pct(onDrained === 0 ? 0 : cut / onDrained)})`,
        `all sessions: ${describeWs(b, clients)}`,
      ]
      if (afterClients > 0) notes.push(`new sessions after drain: ${describeWs(a, afterClients)}`)
      const measurements: Record<string, number> = {
        'drain.triggered': drainError === undefined ? 1 : 0,
        'drain.sessionsOnNode': onDrained,
        'drain.cutRate': onDrained === 0 ? Number.NaN : cut / onDrained,
        ...wsFigures('all', b, clients),
      }
      const slos = [
        { metric: 'drain.triggered', op: '>=' as const, limit: 1, unit: '', description: 'the drain request succeeded' },
        { metric: 'drain.cutRate', op: '<' as const, limit: options.slo.wsSessionErrorRate * 100, unit: '%', description: 'sessions on the drained node are not cut' },
        { metric: 'all.rtt.p95', op: '<' as const, limit: options.slo.wsRttP95Ms, unit: 'ms' },
      ]
      if (afterClients > 0) {
        Object.assign(measurements, wsFigures('after', a, afterClients))
        slos.push({ metric: 'after.sessionErrorRate', op: '<', limit: options.slo.wsSessionErrorRate * 100, unit: '%', description: 'new sessions open on the other nodes' })
      }
      return { measurements, slos, notes }
    } finally {
      clearInterval(ticker)
    }
  },
}
