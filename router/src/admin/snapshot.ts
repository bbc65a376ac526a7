// What one router process knows right now, for /admin/routes and the admin
// dashboard: its route templates (as the route table describes them), what
// discovery has cached, ejected endpoints and requests in flight per
// endpoint, and for the dashboard its blue/green apps (each affinity app's
// registry and known deployments, read through the same discovery cache).
// A single router builds it in-process; in cluster mode each worker sends it
// to the primary over IPC, where parseSnapshot() reads it back.

import type { Endpoint, Target, TargetLookup } from '../discovery/discovery.js'
import type { DiscoveryCache } from '../discovery/cache.js'
import type { OutlierDetector } from '../balancing/outlier.js'
import type { LoadTracker } from '../balancing/load-tracker.js'
import { appStateFrom, registryService } from '../affinity/app-registry.js'
import { REGISTRY_LOOKUP } from '../affinity/resolve.js'
import { TargetNotFoundError } from '../errors.js'

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

/** A discovery answer as the dashboard shows it: its endpoints, or why there are none. */
export interface SnapshotAnswer {
  readonly endpoints: readonly SnapshotEndpoint[]
  /** Discovery says the service does not exist. */
  readonly notFound: boolean
  /** An answer kept after failed refreshes. */
  readonly stale: boolean
  readonly ageMs: number
  /** Discovery failed with nothing to serve (the message). */
  readonly error?: string
}

/** One blue/green app (a route with `affinity`): its registry and its known deployments. */
export interface SnapshotApp {
  readonly app: string
  /** Names of the routes serving it. */
  readonly routes: readonly string[]
  /** The registry `_deployments.<app>`: its endpoint ids are the markers. */
  readonly registry: SnapshotAnswer
  /** Each known deployment's instances (lower-case id), looked up as the app's route does. */
  readonly deployments: ReadonlyArray<SnapshotAnswer & { readonly id: string }>
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
  /** Blue/green apps, when built for the dashboard. */
  readonly apps?: readonly SnapshotApp[]
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

function parseAnswer(v: unknown): SnapshotAnswer | undefined {
  if (!isObj(v) || !Array.isArray(v.endpoints)) return undefined
  const endpoints = v.endpoints.map(parseEndpoint).filter((e): e is SnapshotEndpoint => e !== undefined)
  const error = str(v.error)
  return { endpoints, notFound: bool(v.notFound) ?? false, stale: bool(v.stale) ?? false, ageMs: num(v.ageMs) ?? 0, ...(error !== undefined ? { error } : {}) }
}

function parseApp(v: unknown): SnapshotApp | undefined {
  if (!isObj(v) || !Array.isArray(v.routes) || !Array.isArray(v.deployments)) return undefined
  const app = str(v.app)
  const registry = parseAnswer(v.registry)
  if (app === undefined || registry === undefined) return undefined
  const deployments: Array<SnapshotAnswer & { id: string }> = []
  for (const d of v.deployments) {
    const answer = parseAnswer(d)
    const id = isObj(d) ? str(d.id) : undefined
    if (answer !== undefined && id !== undefined) deployments.push({ id, ...answer })
  }
  return { app, routes: v.routes.filter((r): r is string => typeof r === 'string'), registry, deployments }
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
  const apps = Array.isArray(v.apps) ? v.apps.map(parseApp).filter((a): a is SnapshotApp => a !== undefined) : undefined
  return { pid, namespace, discovery, balancer, mediaService, serving, routes, ...(isObj(v.routeFile) ? { routeFile: v.routeFile } : {}), ejected, targets, ...(apps !== undefined ? { apps } : {}) }
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
  /** The blue/green apps of the route table now: each affinity app with its routes and their record type and port. */
  readonly apps: () => ReadonlyArray<{ readonly app: string; readonly routes: readonly string[]; readonly lookup: TargetLookup | undefined }>
  readonly serving: () => boolean
}

/** At most this many apps are looked up for the dashboard. */
const MAX_APPS = 32

/** One target through the cache, as the dashboard shows it; never rejects. */
async function answerOf(s: SnapshotSource, target: Target): Promise<SnapshotAnswer> {
  try {
    const r = await s.cache.resolve(target)
    return {
      endpoints: r.endpoints.map((e) => ({ ...e, inFlight: s.load.get(e), ejected: s.outliers.isEjected(e) })),
      notFound: false,
      stale: r.outcome === 'stale',
      ageMs: Math.round(r.ageMs),
    }
  } catch (err) {
    if (err instanceof TargetNotFoundError) return { endpoints: [], notFound: true, stale: false, ageMs: 0 }
    return { endpoints: [], notFound: false, stale: false, ageMs: 0, error: err instanceof Error ? err.message : String(err) }
  }
}

/**
 * Each affinity app's registry and known deployments, through the cache as
 * a request of the app's route would read them (so a warm answer costs
 * nothing and the dashboard keeps them fresh); a forged id can never get
 * here: deployments come from the registry's markers only.
 */
async function appsOf(s: SnapshotSource): Promise<SnapshotApp[]> {
  return Promise.all(
    s.apps().slice(0, MAX_APPS).map(async (a): Promise<SnapshotApp> => {
      const registry = await answerOf(s, { kind: 'service', service: registryService(a.app), lookup: REGISTRY_LOOKUP })
      const state = appStateFrom(registry.endpoints.map((e) => e.id))
      const deployments = await Promise.all(
        [...state.deployments.keys()].map(async (id) => ({ id, ...(await answerOf(s, a.lookup !== undefined ? { kind: 'service', service: id, lookup: a.lookup } : { kind: 'service', service: id })) })),
      )
      return { app: a.app, routes: a.routes, registry, deployments }
    }),
  )
}

/**
 * This process's snapshot. With `lookUpMedia` (the dashboard) the media
 * service and the blue/green apps' registries and deployments are looked up
 * first (through the cache, so a warm answer costs nothing), so the nodes and
 * apps show before any traffic reached them; other deployments show once a
 * request asked for them (the router discovers on demand and has no list of
 * deployments).
 */
export async function buildSnapshot(s: SnapshotSource, opts: { readonly lookUpMedia: boolean }): Promise<RouterSnapshot> {
  if (opts.lookUpMedia) await s.cache.resolve({ kind: 'service', service: s.mediaService }).catch(() => undefined)
  const apps = opts.lookUpMedia ? await appsOf(s) : undefined
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
    ...(apps !== undefined ? { apps } : {}),
  }
}
