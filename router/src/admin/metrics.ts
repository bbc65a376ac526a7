// Prometheus metrics on a Registry of our own (no global state, so two routers
// in one test process do not collide). Labels carry route template names and
// small fixed enums only, never raw node/deployment ids.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { CacheOutcome } from '../discovery/cache.js'
import { CellCounter, CellHistogram, type CounterCell, type HistogramCell } from './metric-cells.js'

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx'
export type UpstreamErrorReason = 'connect' | 'timeout' | 'reset' | 'protocol' | 'other'
export type WsCloseReason = 'client' | 'upstream' | 'error' | 'idle' | 'drain'

export function statusClass(status: number): StatusClass {
  if (status >= 500) return '5xx'
  if (status >= 400) return '4xx'
  if (status >= 300) return '3xx'
  if (status >= 200) return '2xx'
  return '1xx'
}

export class RouterMetrics {
  readonly registry: Registry
  readonly requests: CellCounter<'route' | 'status_class'>
  readonly duration: CellHistogram<'route'>
  readonly upstreamErrors: Counter<'route' | 'reason'>
  readonly retries: Counter<'route'>
  readonly discovery: CellCounter<'backend' | 'outcome'>
  readonly wsActive: Gauge<'route'>
  readonly wsOpened: Counter<'route'>
  readonly wsClosed: Counter<'route' | 'reason'>
  readonly wsBytes: Counter<'route' | 'direction'>
  readonly wsRejected: Counter<'route' | 'status_class'>
  readonly cloudmapCalls: Counter<'operation' | 'outcome'>
  readonly ejections: Counter<'route'>
  readonly upstreamConnections: Gauge<'state'>
  readonly draining: Gauge
  readonly staleTargets: Gauge
  /** Read at scrape time: the upstream client's connection counts. */
  #upstreamPool: (() => { readonly idle: number; readonly busy: number; readonly queued: number }) | undefined
  /** Read at scrape time: true while the router drains (/health is 503). */
  #isDraining: (() => boolean) | undefined
  /** Read at scrape time: discovery targets served from an answer kept after a failed refresh. */
  #staleTargets: (() => number) | undefined
  /** Per-request cells by label key (see metric-cells.ts: prom-client's label handling is the cost). */
  readonly #requestCells = new Map<string, CounterCell<'route' | 'status_class'>>()
  readonly #durationCells = new Map<string, HistogramCell<'route'>>()
  readonly #lookupCells = new Map<string, CounterCell<'backend' | 'outcome'>>()

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registry = new Registry()
    this.registry = registry
    if (opts.defaultMetrics !== false) collectValidDefaultMetrics(registry)
    this.requests = new CellCounter({ name: 'router_http_requests_total', help: 'HTTP requests finished, by route template and status class.', labelNames: ['route', 'status_class'], registers: [registry] })
    this.duration = new CellHistogram({
      name: 'router_http_request_duration_seconds',
      help: 'Time from request start to response end, by route template.',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    })
    this.upstreamErrors = new Counter({ name: 'router_upstream_errors_total', help: 'Upstream failures, by route template and reason.', labelNames: ['route', 'reason'], registers: [registry] })
    this.retries = new Counter({ name: 'router_upstream_retries_total', help: 'Requests retried on another instance after a connect failure.', labelNames: ['route'], registers: [registry] })
    this.discovery = new CellCounter({ name: 'router_discovery_lookups_total', help: 'Discovery cache lookups by outcome: hit (fresh), refresh (past its TTL, served while a background refresh runs), miss (waited for discovery), stale (kept after a failed refresh), negative (cached not found), error.', labelNames: ['backend', 'outcome'], registers: [registry] })
    this.wsActive = new Gauge({ name: 'router_websockets_active', help: 'Proxied WebSockets open now.', labelNames: ['route'], registers: [registry] })
    this.wsOpened = new Counter({ name: 'router_websockets_opened_total', help: 'WebSockets established through the router.', labelNames: ['route'], registers: [registry] })
    this.wsClosed = new Counter({ name: 'router_websockets_closed_total', help: 'WebSockets closed, by which side or cause ended them.', labelNames: ['route', 'reason'], registers: [registry] })
    this.wsBytes = new Counter({ name: 'router_websocket_bytes_total', help: 'Bytes relayed on established WebSockets (upstream = client to node).', labelNames: ['route', 'direction'], registers: [registry] })
    this.cloudmapCalls = new Counter({ name: 'router_cloudmap_calls_total', help: 'Cloud Map API calls by operation and outcome (success, not_found, throttled, server, client, timeout, network).', labelNames: ['operation', 'outcome'], registers: [registry] })
    this.ejections = new Counter({ name: 'router_outlier_ejections_total', help: 'Endpoints ejected from balancing after consecutive connect failures.', labelNames: ['route'], registers: [registry] })
    const metrics = this
    this.upstreamConnections = new Gauge({
      name: 'router_upstream_connections',
      help: 'HTTP connections to upstreams now: idle (kept alive for reuse), busy (serving a request or connecting), and requests queued for a free one.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const s = metrics.#upstreamPool?.()
        if (s === undefined) return
        this.set({ state: 'idle' }, s.idle)
        this.set({ state: 'busy' }, s.busy)
        this.set({ state: 'queued' }, s.queued)
      },
    })
    // Cluster: the primary aggregates workers' registries; `max` keeps these 0/1 and per-router counts.
    this.draining = new Gauge({
      name: 'router_draining',
      help: '1 while the router drains (after SIGTERM: /health is 503, then it stops accepting), else 0.',
      registers: [registry],
      aggregator: 'max',
      collect() {
        this.set(metrics.#isDraining?.() === true ? 1 : 0)
      },
    })
    this.staleTargets = new Gauge({
      name: 'router_discovery_stale_targets',
      help: 'Discovery targets whose cached answer is kept after a failed refresh (served stale, up to max-stale).',
      registers: [registry],
      aggregator: 'max',
      collect() {
        this.set(metrics.#staleTargets?.() ?? 0)
      },
    })
    this.wsRejected = new Counter({ name: 'router_websocket_rejected_total', help: 'Upgrade requests that did not become WebSockets, by status class.', labelNames: ['route', 'status_class'], registers: [registry] })
  }

  /** Report the upstream HTTP client's connection counts on each scrape. */
  watchUpstreamPool(stats: () => { readonly idle: number; readonly busy: number; readonly queued: number }): void {
    this.#upstreamPool = stats
  }

  /** Report the drain state and the discovery cache's stale targets on each scrape. */
  watchState(state: { readonly draining: () => boolean; readonly staleTargets: () => number }): void {
    this.#isDraining = state.draining
    this.#staleTargets = state.staleTargets
  }

  observeRequest(route: string, status: number, seconds: number): void {
    const cls = statusClass(status)
    const key = `${route}|${cls}`
    const counter = this.#requestCells.get(key) ?? remember(this.#requestCells, key, this.requests.cell({ route, status_class: cls }))
    counter.inc()
    const histogram = this.#durationCells.get(route) ?? remember(this.#durationCells, route, this.duration.cell({ route }))
    histogram.observe(seconds)
  }

  observeLookup(backend: string, outcome: CacheOutcome): void {
    const key = `${backend}|${outcome}`
    const counter = this.#lookupCells.get(key) ?? remember(this.#lookupCells, key, this.discovery.cell({ backend, outcome }))
    counter.inc()
  }
}

/**
 * prom-client's gauges that carry a counter's `_total` suffix (promtool check
 * metrics rejects them). Each is the sum of the same-named gauge without the
 * suffix, which is labelled by type, e.g. `sum(nodejs_active_handles)`.
 */
export const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const

/** prom-client's default metrics on `registry`, less the three misnamed gauges. */
function collectValidDefaultMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry })
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name)
}

/**
 * Keep a label-bound cell for reuse and return it. Callers look up by a
 * string key first and bind only on a miss:
 * `map.get(key) ?? remember(map, key, metric.cell({...}))`.
 */
function remember<C>(children: Map<string, C>, key: string, child: C): C {
  children.set(key, child)
  return child
}
