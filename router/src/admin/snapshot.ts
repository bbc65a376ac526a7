// What one router process knows right now, for /admin/routes and the admin
// dashboard: its route templates (as the route table describes them), what
// discovery has cached, ejected endpoints and requests in flight per
// endpoint. A single router builds it in-process; in cluster mode each worker
// sends it to the primary over IPC, where parseSnapshot() reads it back.

import type { Endpoint } from '../discovery/discovery.js'
import type { DiscoveryCache } from '../discovery/cache.js'
import type { OutlierDetector } from '../balancing/outlier.js'
import type { LoadTracker } from '../balancing/load-tracker.js'

export interface SnapshotEndpoint extends Endpoint {
  /** Requests this process has in flight to it now. */
  readonly inFlight: number
  /** Ejected from balancing now (consecutive connect failures). */
  readonly ejected: boolean
}

export interface SnapshotTarget {
  /** Cache key: `service:<name>` or `instance:<service>/<id>`. */
  readonly key: string
  readonly endpoints: readonly SnapshotEndpoint[]
  readonly notFound: boolean
  readonly stale: boolean
  readonly ageMs: number
}

export interface RouterSnapshot {
  readonly pid: number
  readonly namespace: string
  readonly discovery: string
  readonly balancer: string
  readonly mediaService: string
  readonly serving: boolean
  /** Routes as the route table describes them; each has at least a `name`. */
  readonly routes: ReadonlyArray<Readonly<Record<string, unknown>> & { readonly name: string }>
  /** Where the route table came from (ROUTES_FILE, when it was loaded, its last error), as the table says. */
  readonly routeFile?: Readonly<Record<string, unknown>>
  readonly ejected: ReadonlyArray<{ readonly endpoint: string; readonly untilMs: number; readonly ejections: number }>
  readonly targets: readonly SnapshotTarget[]
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined)

function parseEndpoint(v: unknown): SnapshotEndpoint | undefined {
  if (!isObj(v)) return undefined
  const id = str(v.id)
  const host = str(v.host)
  const port = num(v.port)
  if (id === undefined || host === undefined || port === undefined || !isObj(v.attributes)) return undefined
  const attributes: Record<string, string> = {}
  for (const [k, a] of Object.entries(v.attributes)) if (typeof a === 'string') attributes[k] = a
  return { id, host, port, attributes, inFlight: num(v.inFlight) ?? 0, ejected: bool(v.ejected) ?? false }
}

function parseTarget(v: unknown): SnapshotTarget | undefined {
  if (!isObj(v) || !Array.isArray(v.endpoints)) return undefined
  const key = str(v.key)
  if (key === undefined) return undefined
  const endpoints = v.endpoints.map(parseEndpoint).filter((e): e is SnapshotEndpoint => e !== undefined)
  return { key, endpoints, notFound: bool(v.notFound) ?? false, stale: bool(v.stale) ?? false, ageMs: num(v.ageMs) ?? 0 }
}

/** Reads a snapshot received from another process; undefined when it is not one. */
export function parseSnapshot(v: unknown): RouterSnapshot | undefined {
  if (!isObj(v) || !Array.isArray(v.routes) || !Array.isArray(v.targets) || !Array.isArray(v.ejected)) return undefined
  const pid = num(v.pid)
  const namespace = str(v.namespace)
  const discovery = str(v.discovery)
  const balancer = str(v.balancer)
  const mediaService = str(v.mediaService)
  const serving = bool(v.serving)
  if (pid === undefined || namespace === undefined || discovery === undefined || balancer === undefined || mediaService === undefined || serving === undefined) return undefined
  const routes = readRoutes(v.routes)
  const ejected: Array<{ endpoint: string; untilMs: number; ejections: number }> = []
  for (const e of v.ejected) {
    if (!isObj(e)) continue
    const endpoint = str(e.endpoint)
    const untilMs = num(e.untilMs)
    const ejections = num(e.ejections)
    if (endpoint !== undefined && untilMs !== undefined && ejections !== undefined) ejected.push({ endpoint, untilMs, ejections })
  }
  const targets = v.targets.map(parseTarget).filter((t): t is SnapshotTarget => t !== undefined)
  return { pid, namespace, discovery, balancer, mediaService, serving, routes, ...(isObj(v.routeFile) ? { routeFile: v.routeFile } : {}), ejected, targets }
}

/** The routes of a route-table view: objects with a string `name`; anything else is left out. */
function readRoutes(v: unknown): Array<Readonly<Record<string, unknown>> & { readonly name: string }> {
  const routes: Array<Readonly<Record<string, unknown>> & { readonly name: string }> = []
  if (!Array.isArray(v)) return routes
  for (const r of v) {
    if (!isObj(r)) continue
    const name = str(r.name)
    if (name !== undefined) routes.push({ ...r, name })
  }
  return routes
}

/** The parts of a router a snapshot is read from. */
export interface SnapshotSource {
  readonly namespace: string
  readonly mediaService: string
  readonly cache: DiscoveryCache
  readonly balancerName: string
  readonly outliers: OutlierDetector
  readonly load: LoadTracker
  /** The route table's own view: its routes (each with a `name`) and where it came from. */
  readonly routes: () => { readonly routes: unknown; readonly routeFile?: unknown }
  readonly serving: () => boolean
}

/**
 * This process's snapshot. With `lookUpMedia` (the dashboard) the media
 * service is looked up first (through the
 * cache, so a warm answer costs nothing), so the nodes show before any
 * traffic reached them; deployments show once a request asked for them (the
 * router discovers on demand and has no list of deployments).
 */
export async function buildSnapshot(s: SnapshotSource, opts: { readonly lookUpMedia: boolean }): Promise<RouterSnapshot> {
  if (opts.lookUpMedia) await s.cache.resolve({ kind: 'service', service: s.mediaService }).catch(() => undefined)
  const targets: SnapshotTarget[] = s.cache.view().map((t) => ({
    key: t.key,
    notFound: t.notFound,
    stale: t.stale,
    ageMs: t.ageMs,
    endpoints: t.endpoints.map((e) => ({ ...e, inFlight: s.load.get(e), ejected: s.outliers.isEjected(e) })),
  }))
  const table = s.routes()
  return {
    pid: process.pid,
    namespace: s.namespace,
    discovery: s.cache.backendName,
    balancer: s.balancerName,
    mediaService: s.mediaService,
    serving: s.serving(),
    routes: readRoutes(table.routes),
    ...(isObj(table.routeFile) ? { routeFile: table.routeFile } : {}),
    ejected: s.outliers.ejected(),
    targets,
  }
}
