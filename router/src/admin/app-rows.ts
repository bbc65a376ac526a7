// The dashboard's blue/green view, pure: the apps of the router snapshots
// (one per process; snapshot.ts) merged into one row per app with its
// registry's state — current deployment, known deployments, drains and their
// deadlines (affinity/app-registry.ts reads the markers) — and each
// deployment's instances as discovery sees them: counts, health, DRAINING,
// ejected, in flight. Processes may hold registry answers of different ages:
// the freshest one found wins.

import { appStateFrom, registryService } from '../affinity/app-registry.js'
import type { RouterSnapshot, SnapshotAnswer, SnapshotEndpoint } from './snapshot.js'
import { endpointRow, mergeEndpoint, type EndpointRow } from './instance-rows.js'

/** An instance of a deployment (the Deployments table's row without the attributes). */
export type AppInstanceRow = EndpointRow

export interface AppDeploymentRow {
  /** Lower-case deployment id (its Cloud Map service). */
  readonly id: string
  readonly current: boolean
  /** ISO drain deadline while its marker says it is draining, else null. */
  readonly drainDeadline: string | null
  /** The drain deadline has passed: affinity holders have moved to current. */
  readonly drained: boolean
  readonly instances: number
  /** Not UNHEALTHY. */
  readonly healthy: number
  readonly unhealthy: number
  /** With `status=DRAINING`. */
  readonly draining: number
  readonly ejected: number
  /** What a new visitor pinned here could use: healthy, not DRAINING, not ejected. */
  readonly usable: number
  readonly inFlight: number
  /** Discovery says its service does not exist. */
  readonly notFound: boolean
  readonly stale: boolean
  /** Discovery failed with nothing to serve. */
  readonly error: string | null
  readonly ageMs: number
  readonly endpoints: readonly AppInstanceRow[]
}

export interface AppRow {
  readonly app: string
  readonly routes: readonly string[]
  /** Cloud Map service of the registry, `_deployments.<app>`. */
  readonly registry: string
  /** `ok`; `missing` (no registry: nothing switched yet); `error` (discovery failed, see registryError). */
  readonly registryStatus: 'ok' | 'missing' | 'error'
  readonly registryError: string | null
  readonly registryStale: boolean
  readonly registryAgeMs: number
  readonly current: string | null
  /** Current first, then by id. */
  readonly deployments: readonly AppDeploymentRow[]
}

type Answer = SnapshotAnswer

/** The freshest answer that found something; else a not-found one; else the first error. */
function pickRegistry(answers: readonly Answer[]): Answer | undefined {
  let best: Answer | undefined
  for (const a of answers) if (!a.notFound && a.error === undefined && (best === undefined || a.ageMs < best.ageMs)) best = a
  return best ?? answers.find((a) => a.notFound) ?? answers[0]
}

/** Endpoints of one deployment across processes: one entry per instance, in-flight summed. */
function mergeEndpoints(answers: readonly Answer[]): SnapshotEndpoint[] {
  const byKey = new Map<string, SnapshotEndpoint>()
  for (const a of answers) for (const e of a.endpoints) mergeEndpoint(byKey, e)
  return [...byKey.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

function deploymentRow(id: string, current: boolean, drainDeadlineMs: number | undefined, answers: readonly Answer[], nowMs: number): AppDeploymentRow {
  const endpoints: AppInstanceRow[] = mergeEndpoints(answers).map(endpointRow)
  const found = answers.filter((a) => !a.notFound && a.error === undefined)
  const count = (f: (e: AppInstanceRow) => boolean): number => endpoints.filter(f).length
  return {
    id,
    current,
    drainDeadline: drainDeadlineMs === undefined ? null : new Date(drainDeadlineMs).toISOString(),
    drained: drainDeadlineMs !== undefined && nowMs >= drainDeadlineMs,
    instances: endpoints.length,
    healthy: count((e) => e.health !== 'UNHEALTHY'),
    unhealthy: count((e) => e.health === 'UNHEALTHY'),
    draining: count((e) => e.status === 'DRAINING'),
    ejected: count((e) => e.ejected),
    usable: count((e) => e.health !== 'UNHEALTHY' && e.status !== 'DRAINING' && !e.ejected),
    inFlight: endpoints.reduce((n, e) => n + e.inFlight, 0),
    notFound: found.length === 0 && answers.some((a) => a.notFound),
    stale: found.some((a) => a.stale),
    error: found.length === 0 && !answers.some((a) => a.notFound) ? (answers.find((a) => a.error !== undefined)?.error ?? null) : null,
    ageMs: found.length === 0 ? 0 : Math.min(...found.map((a) => a.ageMs)),
    endpoints,
  }
}

/** One row per blue/green app, in the route table's order. `nowMs`: wall clock (epoch ms), for drain deadlines. */
export function appRows(snaps: readonly RouterSnapshot[], nowMs: number): AppRow[] {
  const byApp = new Map<string, { routes: Set<string>; registries: Answer[]; deployments: Map<string, Answer[]> }>()
  for (const s of snaps) {
    for (const a of s.apps ?? []) {
      let acc = byApp.get(a.app)
      if (acc === undefined) {
        acc = { routes: new Set(), registries: [], deployments: new Map() }
        byApp.set(a.app, acc)
      }
      for (const r of a.routes) acc.routes.add(r)
      acc.registries.push(a.registry)
      for (const d of a.deployments) {
        const list = acc.deployments.get(d.id)
        if (list === undefined) acc.deployments.set(d.id, [d])
        else list.push(d)
      }
    }
  }
  return [...byApp.entries()].map(([app, acc]): AppRow => {
    const reg = pickRegistry(acc.registries)
    const state = appStateFrom((reg?.endpoints ?? []).map((e) => e.id))
    const deployments = [...state.deployments.values()]
      .map((d) => deploymentRow(d.id, d.id === state.current, d.drainDeadlineMs, acc.deployments.get(d.id) ?? [], nowMs))
      .sort((a, b) => (a.current !== b.current ? (a.current ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const status: AppRow['registryStatus'] = reg === undefined || reg.error !== undefined ? 'error' : reg.notFound ? 'missing' : 'ok'
    return {
      app,
      routes: [...acc.routes],
      registry: registryService(app),
      registryStatus: status,
      registryError: status === 'error' ? (reg?.error ?? 'no answer') : null,
      registryStale: reg?.stale ?? false,
      registryAgeMs: reg?.ageMs ?? 0,
      current: state.current ?? null,
      deployments,
    }
  })
}
