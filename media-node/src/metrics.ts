// Prometheus metrics of a media node, served as GET /metrics on the admin
// port: prom-client's process metrics on a Registry of our own, plus the
// node's state read from its status at scrape time (nothing per message).

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { StatusBody } from './server.js'
import type { ConnectionCounts } from './sessions.js'

/**
 * prom-client's gauges that carry a counter's `_total` suffix (`promtool
 * check metrics` rejects them). Each is the sum of the same-named gauge
 * without the suffix, which is labelled by type.
 */
const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const

const STATES = ['STARTING', 'ACTIVE', 'DRAINING'] as const

export interface NodeMetrics {
  readonly contentType: string
  /** The exposition text for one scrape. */
  render(): Promise<string>
}

/** Builds the registry; `status` and `connections` are read on every scrape. */
export function createNodeMetrics(status: () => StatusBody, connections: () => ConnectionCounts): NodeMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name)
  const registers = [registry]
  new Gauge({
    name: 'media_node_connections',
    help: 'WebSocket connections open now.',
    registers,
    collect() {
      this.set(status().activeConnections)
    },
  })
  new Gauge({
    name: 'media_node_sessions',
    help: 'Sessions (rooms) with at least one connection.',
    registers,
    collect() {
      this.set(status().sessions)
    },
  })
  new Gauge({
    name: 'media_node_state',
    help: 'Life-cycle state: 1 for the current one of STARTING, ACTIVE, DRAINING.',
    labelNames: ['state'],
    registers,
    collect() {
      const now = status().status
      for (const state of STATES) this.set({ state }, state === now ? 1 : 0)
    },
  })
  new Gauge({
    name: 'media_node_registration_attempts',
    help: 'Cloud Map registration attempts so far (0 when registration is off).',
    registers,
    collect() {
      this.set(status().registration?.attempts ?? 0)
    },
  })
  new Gauge({
    name: 'media_node_registered',
    help: '1 while the node is registered in Cloud Map, else 0 (also when registration is off).',
    registers,
    collect() {
      this.set(status().registration?.registered === true ? 1 : 0)
    },
  })
  new Gauge({
    name: 'media_node_drain_deadline_timestamp_seconds',
    help: 'Unix time at which a running drain stops waiting and closes the remaining sockets with 1001; 0 before any drain.',
    registers,
    collect() {
      const deadline = status().drain?.deadline
      const ms = deadline === undefined ? Number.NaN : Date.parse(deadline)
      this.set(Number.isFinite(ms) ? ms / 1000 : 0)
    },
  })
  new Counter({
    name: 'media_node_websockets_opened_total',
    help: 'WebSocket connections accepted since the node started.',
    registers,
    collect() {
      this.reset()
      this.inc(connections().opened)
    },
  })
  new Counter({
    name: 'media_node_websockets_closed_total',
    help: 'WebSocket connections ended, by close code (1000-1015, else "other") and by who ended them (client, server, error).',
    labelNames: ['code', 'closed_by'],
    registers,
    collect() {
      this.reset()
      for (const c of connections().closed) this.inc({ code: c.code, closed_by: c.closedBy }, c.count)
    },
  })
  return { contentType: registry.contentType, render: () => registry.metrics() }
}
