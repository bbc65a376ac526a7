// The admin dashboard's JSON view (GET /admin/api/state): routes with request,
// error and WebSocket figures read from the router's own /metrics text (so a
// cluster primary's aggregate works the same), rates over a sliding window,
// and the discovered targets from the router snapshots (one per process that
// serves traffic): deployments with their instances, media nodes with what
// they say on /status, blue/green apps with their registry's state
// (app-rows.ts). Media nodes stay listed for a while after they left
// discovery (a draining node reports UNHEALTHY and drops out of a healthy-only
// answer), as long as they still answer /status.

import type { Endpoint } from '../discovery/discovery.js'
import { NodeStatusCache } from '../allocation/status-cache.js'
import { readSamples } from './prom-text.js'
import { RateWindow } from './rates.js'
import { adminPortOf, type NodeAdmin } from './node-admin.js'
import type { RouterSnapshot, SnapshotEndpoint } from './snapshot.js'
import { appRows, type AppRow } from './app-rows.js'
import { endpointRow, mergeEndpoint, type EndpointRow } from './instance-rows.js'

export interface DashboardStateOptions {
  /** One snapshot per process serving traffic (with the media service looked up). */
  readonly snapshots: () => Promise<RouterSnapshot[]>
  readonly renderMetrics: () => Promise<string>
  readonly nodes: NodeAdmin
  /** Whether the deployment actions (switch, drain) are on, and why not. Default off. */
  readonly deploymentActions?: { readonly enabled: boolean; readonly disabledReason: string | null }
  /** Wall clock, epoch ms (drain deadlines). Default Date.now. */
  readonly wallClock?: () => number
  /** Rates are averaged over this window. Default 10 s. */
  readonly rateWindowMs?: number
  /** A node gone from discovery stays listed this long while it answers /status. Default 120 s. */
  readonly forgetNodeAfterMs?: number
  /** At most this many nodes are shown and probed. Default 64. */
  readonly maxNodes?: number
  readonly now?: () => number
}

export interface RouteRow {
  readonly name: string
  /** The route table's own description of the template (fields other than name); null for metric-only routes such as `none`. */
  readonly template: Readonly<Record<string, unknown>> | null
  readonly requests: number
  readonly requestRate: number | null
  /** 5xx answers per second. */
  readonly errorRate: number | null
  /** 4xx answers per second. */
  readonly clientErrorRate: number | null
  /** 5xx share of the requests in the window. */
  readonly errorRatio: number | null
  readonly websocketsActive: number
  readonly upstreamErrors: number
  readonly ejections: number
}

export interface InstanceRow extends EndpointRow {
  readonly attributes: Readonly<Record<string, string>>
}

export interface DeploymentRow {
  readonly id: string
  readonly instances: number
  readonly healthy: number
  readonly notFound: boolean
  readonly stale: boolean
  readonly ageMs: number
  readonly endpoints: readonly InstanceRow[]
}

export interface NodeRow {
  readonly id: string
  readonly address: string
  readonly adminPort: number | null
  /** What the node said on /status when it answered, else its `status` attribute, else UNKNOWN. */
  readonly status: string
  /** Where `status` came from. */
  readonly statusSource: 'node' | 'discovery' | 'none'
  readonly discoveryStatus: string | null
  readonly health: string | null
  readonly inDiscovery: boolean
  /** The node answered GET /status within the last 10 s. */
  readonly answering: boolean
  readonly connections: number | null
  readonly inFlight: number
  readonly ejected: boolean
  readonly drainable: boolean
}

export interface DashboardView {
  readonly time: string
  readonly processes: number
  readonly router: { readonly namespace: string; readonly discovery: string; readonly balancer: string; readonly mediaService: string; readonly serving: boolean } | null
  readonly totals: {
    readonly requestRate: number | null
    readonly errorRate: number | null
    readonly websocketsActive: number
    readonly upstream: { readonly idle: number; readonly busy: number; readonly queued: number }
  }
  readonly routes: readonly RouteRow[]
  readonly deployments: readonly DeploymentRow[]
  /** Blue/green apps (routes with `affinity`). */
  readonly apps: readonly AppRow[]
  readonly nodes: readonly NodeRow[]
  readonly ejected: ReadonlyArray<{ readonly endpoint: string; readonly untilMs: number; readonly ejections: number }>
  /** `drain`: media nodes; `deployments`: switch and drain of app deployments (`deploymentsDisabled` says why not). */
  readonly actions: { readonly drain: boolean; readonly deployments: boolean; readonly deploymentsDisabled: string | null }
  readonly rateWindowSeconds: number
}

const WANTED = new Set(['router_http_requests_total', 'router_websockets_active', 'router_upstream_errors_total', 'router_outlier_ejections_total', 'router_upstream_connections'])

const round = (n: number | undefined | null, digits = 2): number | null => (n === undefined || n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits)

export class DashboardState {
  readonly #o: DashboardStateOptions
  readonly #now: () => number
  readonly #rates: RateWindow
  readonly #statuses: NodeStatusCache
  /** Media nodes seen in discovery: id → last endpoint and when. */
  readonly #seen = new Map<string, { endpoint: SnapshotEndpoint; at: number }>()

  constructor(o: DashboardStateOptions) {
    this.#o = o
    this.#now = o.now ?? (() => performance.now())
    this.#rates = new RateWindow({ windowMs: o.rateWindowMs ?? 10_000, now: this.#now })
    this.#statuses = new NodeStatusCache({ freshMs: 1000, maxAgeMs: 10_000, probe: (e) => o.nodes.status(e), now: this.#now })
  }

  /** A media node by id, as discovery (or, after it left, the last answer) gave it; for actions. */
  async findNode(id: string): Promise<Endpoint | undefined> {
    const snaps = await this.#o.snapshots()
    for (const n of mediaEndpoints(snaps)) if (n.id === id) return n
    return this.#seen.get(id)?.endpoint
  }

  /** After an action on a node: ask it for its status now, so the next view shows what it did. */
  async refreshNode(e: Endpoint): Promise<void> {
    // The first joins a probe that may have started before the action; the second starts after it.
    await this.#statuses.refresh(e)
    await this.#statuses.refresh(e)
  }

  async view(): Promise<DashboardView> {
    const [snaps, text] = await Promise.all([this.#o.snapshots(), this.#o.renderMetrics()])
    const first = snaps[0]
    const mediaService = first?.mediaService ?? 'media'
    return {
      time: new Date().toISOString(),
      processes: snaps.length,
      router: first === undefined ? null : { namespace: first.namespace, discovery: first.discovery, balancer: first.balancer, mediaService, serving: snaps.every((s) => s.serving) },
      ...this.#metricsPart(snaps, text),
      deployments: deployments(snaps, mediaService),
      apps: appRows(snaps, (this.#o.wallClock ?? Date.now)()),
      nodes: await this.#nodes(snaps),
      ejected: snaps.flatMap((s) => s.ejected),
      actions: {
        drain: this.#o.nodes.drainEnabled,
        deployments: this.#o.deploymentActions?.enabled ?? false,
        deploymentsDisabled: this.#o.deploymentActions === undefined ? 'not configured' : this.#o.deploymentActions.disabledReason,
      },
      rateWindowSeconds: (this.#o.rateWindowMs ?? 10_000) / 1000,
    }
  }

  #metricsPart(snaps: readonly RouterSnapshot[], text: string): Pick<DashboardView, 'routes' | 'totals'> {
    const counters = new Map<string, number>()
    const add = (m: Map<string, number>, k: string, v: number): void => {
      m.set(k, (m.get(k) ?? 0) + v)
    }
    const ws = new Map<string, number>()
    const upstreamErrors = new Map<string, number>()
    const ejections = new Map<string, number>()
    const upstream = { idle: 0, busy: 0, queued: 0 }
    const names = new Set<string>()
    for (const s of readSamples(text, WANTED)) {
      const route = s.labels['route']
      if (s.name === 'router_upstream_connections') {
        const state = s.labels['state']
        if (state === 'idle' || state === 'busy' || state === 'queued') upstream[state] += s.value
        continue
      }
      if (route === undefined) continue
      names.add(route)
      if (s.name === 'router_http_requests_total') {
        add(counters, `all|${route}`, s.value)
        add(counters, 'all|*', s.value)
        const cls = s.labels['status_class']
        if (cls === '5xx' || cls === '4xx') {
          add(counters, `${cls}|${route}`, s.value)
          add(counters, `${cls}|*`, s.value)
        }
      } else if (s.name === 'router_websockets_active') add(ws, route, s.value)
      else if (s.name === 'router_upstream_errors_total') add(upstreamErrors, route, s.value)
      else if (s.name === 'router_outlier_ejections_total') add(ejections, route, s.value)
    }
    const rates = this.#rates.observe(counters)
    const templates = first(snaps)?.routes ?? []
    const order = [...templates.map((t) => t.name), ...[...names].filter((n) => !templates.some((t) => t.name === n)).sort()]
    const routes: RouteRow[] = order.map((name) => {
      const t = templates.find((x) => x.name === name)
      const reqRate = rates.get(`all|${name}`)
      const errRate = rates.get(`5xx|${name}`) ?? (reqRate === undefined ? undefined : 0)
      let template: Record<string, unknown> | null = null
      if (t !== undefined) {
        template = {}
        for (const [k, v] of Object.entries(t)) if (k !== 'name') template[k] = v
      }
      return {
        name,
        template,
        requests: counters.get(`all|${name}`) ?? 0,
        requestRate: round(reqRate),
        errorRate: round(errRate),
        clientErrorRate: round(rates.get(`4xx|${name}`) ?? (reqRate === undefined ? undefined : 0)),
        errorRatio: reqRate !== undefined && reqRate > 0 && errRate !== undefined ? round(errRate / reqRate, 4) : null,
        websocketsActive: ws.get(name) ?? 0,
        upstreamErrors: upstreamErrors.get(name) ?? 0,
        ejections: ejections.get(name) ?? 0,
      }
    })
    let wsTotal = 0
    for (const v of ws.values()) wsTotal += v
    const allRate = rates.get('all|*')
    return {
      routes,
      totals: { requestRate: round(allRate), errorRate: round(rates.get('5xx|*') ?? (allRate === undefined ? undefined : 0)), websocketsActive: wsTotal, upstream },
    }
  }

  async #nodes(snaps: readonly RouterSnapshot[]): Promise<NodeRow[]> {
    const now = this.#now()
    const forgetAfter = this.#o.forgetNodeAfterMs ?? 120_000
    const current = new Map<string, SnapshotEndpoint>()
    for (const e of mediaEndpoints(snaps)) {
      const had = current.get(e.id)
      current.set(e.id, had === undefined ? e : { ...had, inFlight: had.inFlight + e.inFlight, ejected: had.ejected || e.ejected })
    }
    for (const [id, e] of current) this.#seen.set(id, { endpoint: e, at: now })
    const rows: Array<{ e: SnapshotEndpoint; inDiscovery: boolean }> = []
    for (const [id, s] of this.#seen) {
      const inDiscovery = current.has(id)
      if (!inDiscovery && now - s.at > forgetAfter) {
        this.#seen.delete(id)
        continue
      }
      rows.push({ e: current.get(id) ?? { ...s.endpoint, inFlight: 0, ejected: false }, inDiscovery })
    }
    rows.sort((a, b) => (a.e.id < b.e.id ? -1 : a.e.id > b.e.id ? 1 : 0))
    const shown = rows.slice(0, this.#o.maxNodes ?? 64)
    // First sight of a node: wait for its /status (bounded by the probe timeout); after that, never wait.
    await Promise.all(shown.map(({ e }) => (this.#statuses.peek(e) === undefined ? this.#statuses.refresh(e) : (this.#statuses.get(e), undefined))))
    const out: NodeRow[] = []
    for (const { e, inDiscovery } of shown) {
      const said = this.#statuses.peek(e)
      if (!inDiscovery && said === undefined) {
        // Gone from discovery and not answering: it is gone.
        this.#seen.delete(e.id)
        continue
      }
      const attr = e.attributes['status'] ?? null
      const adminPort = adminPortOf(e) ?? null
      out.push({
        id: e.id,
        address: `${e.host}:${e.port}`,
        adminPort,
        status: (said?.status ?? attr ?? 'UNKNOWN').toUpperCase(),
        statusSource: said !== undefined ? 'node' : attr !== null ? 'discovery' : 'none',
        discoveryStatus: attr,
        health: e.attributes['healthStatus'] ?? null,
        inDiscovery,
        answering: said !== undefined,
        connections: said !== undefined ? Math.max(0, said.load) : null,
        inFlight: e.inFlight,
        ejected: e.ejected,
        drainable: adminPort !== null && this.#o.nodes.drainEnabled,
      })
    }
    return out
  }
}

function first<T>(list: readonly T[]): T | undefined {
  return list[0]
}

/**
 * Media node endpoints from every snapshot: the media service's answer and
 * single-node lookups. A node is in both within one process (with the same
 * in-flight count): one entry per node per process, so summing over the
 * result adds up processes only.
 */
function mediaEndpoints(snaps: readonly RouterSnapshot[]): SnapshotEndpoint[] {
  const out: SnapshotEndpoint[] = []
  for (const s of snaps) {
    const seen = new Set<string>()
    for (const t of s.targets) {
      if (t.key !== `service:${s.mediaService}` && !t.key.startsWith(`instance:${s.mediaService}/`)) continue
      for (const e of t.endpoints) {
        if (seen.has(e.id)) continue
        seen.add(e.id)
        out.push(e)
      }
    }
  }
  return out
}

function deployments(snaps: readonly RouterSnapshot[], mediaService: string): DeploymentRow[] {
  const byId = new Map<string, { notFound: boolean; stale: boolean; ageMs: number; endpoints: Map<string, SnapshotEndpoint> }>()
  for (const s of snaps) {
    for (const t of s.targets) {
      if (!t.key.startsWith('service:')) continue
      // One row per service: a route's own record type or port (`@SRV`, `@A:80`) is part of the key only.
      const id = t.key.slice('service:'.length).split('@')[0] ?? ''
      // Blue/green registries are not deployments (their markers show under the app).
      if (id === mediaService || id.startsWith('_')) continue
      let d = byId.get(id)
      if (d === undefined) {
        d = { notFound: t.notFound, stale: t.stale, ageMs: t.ageMs, endpoints: new Map() }
        byId.set(id, d)
      } else {
        d.notFound = d.notFound && t.notFound
        d.stale = d.stale || t.stale
        d.ageMs = Math.min(d.ageMs, t.ageMs)
      }
      for (const e of t.endpoints) mergeEndpoint(d.endpoints, e)
    }
  }
  return [...byId.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, d]) => {
      const endpoints: InstanceRow[] = [...d.endpoints.values()].map((e) => ({ ...endpointRow(e), attributes: e.attributes }))
      return {
        id,
        instances: endpoints.length,
        healthy: endpoints.filter((e) => !e.ejected && e.health !== 'UNHEALTHY' && e.status !== 'DRAINING').length,
        notFound: d.notFound,
        stale: d.stale,
        ageMs: d.ageMs,
        endpoints,
      }
    })
}
