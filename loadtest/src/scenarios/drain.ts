// Drain-under-load scenario: when a media node drains, do the sessions already
// on it stay up until they end on their own, and do new sessions go elsewhere
// and open there? The drain goes through what the project serves: the node's
// own admin listener (POST /admin/drain with its token; nodeAdmin.ts), the
// same contract as k6's 05. Sessions are opened on every node, the drain
// starts DRAIN_AT into the run and sessions hold past it by WS_HOLD; the node
// must report DRAINING; DRAIN_SETTLE later, new sessions are placed by GET
// /media/allocate and every one must avoid the drained node. Nothing measured
// (no session on the node, no allocation) is a miss, not a pass.

import { mediaSessionUrl, newWsStats, runWsSessions, type WsSessionsResult } from '../lib/ws-sessions.js'
import { allocate, nodeState, requestDrain, waitForDraining } from '../lib/node-admin.js'
import { describeWs, wsFigures } from './ws-sessions.js'
import { pct, type Scenario, type ScenarioOutcome } from './scenario.js'
import type { Slo } from '../lib/slo.js'

const none = (reason: string): ScenarioOutcome => ({ measurements: {}, slos: [], notes: [], skipped: reason })

export const drain: Scenario = {
  name: 'drain',
  question: 'While a media node drains, do its open sessions stay up and new sessions go elsewhere?',
  async run({ target, options, setStatus }): Promise<ScenarioOutcome> {
    if (target.mediaNodes.length === 0) return none('no media nodes')
    const drainNodeId = options.drainNodeId ?? target.mediaNodes[0] ?? ''
    const admin = target.nodeAdmin(drainNodeId)
    if (admin === undefined) return none(`no admin listener known for ${drainNodeId} (set DRAIN_ADMIN_URL and DRAIN_TOKEN)`)
    if (target.mediaNodes.length < 2) throw new Error(`drain needs at least two media nodes (have ${target.mediaNodes.join(', ')}): new sessions must have somewhere to go`)
    // Before any load: the admin URL must be this node, and ACTIVE.
    const before = await nodeState(admin)
    if (before === undefined) throw new Error(`GET ${admin.url}/status does not answer as a media node (DRAIN_ADMIN_URL)`)
    if (before.nodeId !== drainNodeId) throw new Error(`${admin.url} is node "${before.nodeId}", not "${drainNodeId}" (DRAIN_NODE_ID / DRAIN_ADMIN_URL)`)
    if (before.status !== 'ACTIVE') throw new Error(`node ${drainNodeId} is ${before.status}, not ACTIVE: nothing to drain`)

    const clients = Math.max(2, options.wsSessions)
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
      const beforeRun = runWsSessions(
        {
          url: (i) => mediaSessionUrl(target.baseUrl, nodeOf(i), `drain-${Math.floor(i / options.wsPeers)}`),
          clients,
          msgRate: options.wsMsgRate,
          holdMs,
          payloadBytes: options.wsPayloadBytes,
          echoGraceMs: options.wsEchoGraceMs,
        },
        stats,
      )
      await new Promise((r) => setTimeout(r, options.drainAtMs))
      const drainAtMs = Date.now() - started
      phase = `draining ${drainNodeId}`
      const drainProblem = await requestDrain(admin, drainNodeId)
      const observed = await waitForDraining(admin, drainNodeId, options.drainObserveMs)
      phase = `drained ${drainNodeId}, settling`
      await new Promise((r) => setTimeout(r, options.drainSettleMs))

      // New sessions, placed as real clients place them.
      phase = 'new sessions through /media/allocate'
      const afterClients = Math.max(2, Math.floor(clients / 4))
      const placed: string[] = []
      const urls: string[] = []
      const allocErrors: string[] = []
      for (let i = 0; i < afterClients; i++) {
        const a = await allocate(target.baseUrl)
        if ('error' in a) {
          allocErrors.push(a.error)
          continue
        }
        placed.push(a.nodeId)
        urls.push(mediaSessionUrl(target.baseUrl, a.nodeId, a.sessionId))
      }
      const afterRun: Promise<WsSessionsResult> = runWsSessions({
        url: (i) => urls[i] ?? '',
        clients: urls.length,
        msgRate: options.wsMsgRate,
        holdMs: Math.min(options.wsHoldMs, 5000),
        echoGraceMs: options.wsEchoGraceMs,
      })
      const [b, a] = await Promise.all([beforeRun, afterRun])

      // Sessions open on the draining node when the drain started.
      let onDrained = 0
      let cut = 0
      b.clientsLog.forEach((c, i) => {
        if (c.openedAtMs !== null && c.openedAtMs <= drainAtMs && nodeOf(i) === drainNodeId) {
          onDrained++
          if (c.closedEarly) cut++
        }
      })
      const elsewhere = placed.filter((n) => n !== drainNodeId).length
      const notes = [
        `drain of ${drainNodeId} at ${(drainAtMs / 1000).toFixed(1)}s: ${drainProblem === undefined ? 'accepted (202, DRAINING)' : `NOT accepted: ${drainProblem}`}; ` +
          `node ${observed ? 'reported DRAINING' : `never reported DRAINING within ${options.drainObserveMs} ms`}`,
        `sessions open on ${drainNodeId} at drain: ${onDrained}, cut before their hold time: ${cut} (${pct(onDrained === 0 ? Number.NaN : cut / onDrained)})`,
        `all sessions: ${describeWs(b, clients)}`,
        `after the drain: ${afterClients} allocation(s), ${elsewhere} elsewhere, ${placed.length - elsewhere} on ${drainNodeId}, ${allocErrors.length} failed${allocErrors[0] !== undefined ? ` (${allocErrors[0]})` : ''}`,
        `new sessions after drain: ${describeWs(a, afterClients)}`,
      ]
      const measurements: Record<string, number> = {
        'drain.requested': drainProblem === undefined ? 1 : 0,
        'drain.observed': observed ? 1 : 0,
        'drain.sessionsOnNode': onDrained,
        'drain.cutRate': onDrained === 0 ? Number.NaN : cut / onDrained,
        'after.allocations': afterClients,
        'after.allocatedElsewhere': afterClients === 0 ? Number.NaN : elsewhere / afterClients,
        ...wsFigures('all', b, clients),
        ...wsFigures('after', a, afterClients),
      }
      // Sessions that were never placed (allocation failed) are failed sessions too.
      measurements['after.sessionErrorRate'] = (afterClients - urls.length + a.failedToOpen + a.closedEarly) / afterClients
      const slos: Slo[] = [
        { metric: 'drain.requested', op: '>=', limit: 1, unit: '', description: 'POST /admin/drain answered 202 with the node DRAINING' },
        { metric: 'drain.observed', op: '>=', limit: 1, unit: '', description: 'the node reported DRAINING' },
        { metric: 'drain.sessionsOnNode', op: '>', limit: 0, unit: '', description: 'sessions were open on the node when it drained' },
        { metric: 'drain.cutRate', op: '<', limit: options.slo.wsSessionErrorRate * 100, unit: '%', description: 'sessions on the drained node are not cut' },
        { metric: 'after.allocatedElsewhere', op: '>=', limit: 100, unit: '%', description: 'every new session allocated to another node' },
        { metric: 'after.sessionErrorRate', op: '<', limit: options.slo.wsSessionErrorRate * 100, unit: '%', description: 'new sessions open on the other nodes' },
      ]
      if (options.wsMsgRate > 0) {
        slos.push(
          { metric: 'all.echoed', op: '>', limit: 0, unit: '', description: 'echoes came back' },
          { metric: 'all.rtt.p95', op: '<', limit: options.slo.wsRttP95Ms, unit: 'ms' },
          { metric: 'all.lostRate', op: '<', limit: options.slo.wsLostRate * 100, unit: '%' },
        )
      }
      return { measurements, slos, notes }
    } finally {
      clearInterval(ticker)
    }
  },
}
