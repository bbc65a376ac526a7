// The app registry convention (docs/blue-green.md): an app's deployments and
// its current-deployment pointer are the InstanceIds of the markers in one SRV
// service, `_deployments.<app>`, so DNS discovery (SRV targets) and API
// discovery (InstanceId) both read them as ordinary endpoint ids. Pure: ids in,
// typed state out, and the marker ids the deployments command writes.

import { isDnsLabel } from '../routing/dns-label.js'

/** Cloud Map service name of an app's registry. */
export function registryService(app: string): string {
  return `_deployments.${app.toLowerCase()}`
}

/** What a marker says about one deployment. */
export interface KnownDeployment {
  /** Lower-case deployment id (the Cloud Map service name of the deployment). */
  readonly id: string
  /** Drain deadline (epoch ms) when the deployment is being drained. */
  readonly drainDeadlineMs?: number
}

/** The app's state as the registry describes it. */
export interface AppState {
  /** Lower-case id of the current deployment; undefined when no current marker exists. */
  readonly current: string | undefined
  /** Sequence number of the current marker (0 when none). */
  readonly currentSeq: number
  /** Known deployments by lower-case id (the current one included). */
  readonly deployments: ReadonlyMap<string, KnownDeployment>
}

export type Marker =
  | { readonly kind: 'known'; readonly deployment: string }
  | { readonly kind: 'draining'; readonly deployment: string; readonly deadlineSeconds: number }
  | { readonly kind: 'current'; readonly deployment: string; readonly seq: number }

/** Longest deployment id a marker can carry (InstanceId ≤ 64: `current-<10 digits>.` takes 19). */
export const MAX_DEPLOYMENT_ID = 45

const CURRENT = /^current-(\d{1,15})$/
const DRAIN = /^drain-(\d{1,12})$/

/** Parse one marker InstanceId (any case); undefined for anything that is not a marker. */
export function parseMarker(instanceId: string): Marker | undefined {
  const id = instanceId.toLowerCase()
  const dot = id.indexOf('.')
  if (dot === -1) return isDnsLabel(id) ? { kind: 'known', deployment: id } : undefined
  if (id.indexOf('.', dot + 1) !== -1) return undefined
  const first = id.slice(0, dot)
  const second = id.slice(dot + 1)
  const cur = CURRENT.exec(first)
  if (cur !== null && isDnsLabel(second)) return { kind: 'current', deployment: second, seq: Number(cur[1]) }
  const drain = DRAIN.exec(second)
  if (drain !== null && isDnsLabel(first)) return { kind: 'draining', deployment: first, deadlineSeconds: Number(drain[1]) }
  return undefined
}

/** The marker InstanceId for a state (deployment id kept as given; lookups lower-case it). */
export function markerId(marker: Marker): string {
  switch (marker.kind) {
    case 'known':
      return marker.deployment
    case 'draining':
      return `${marker.deployment}.drain-${marker.deadlineSeconds}`
    case 'current':
      return `current-${marker.seq}.${marker.deployment}`
  }
}

/**
 * The app state from the registry's marker ids. Ids that are not markers are
 * ignored. A deployment with both a plain and a drain marker (the instant of a
 * drain or an undrain) counts as draining; the highest current seq wins.
 */
export function appStateFrom(ids: Iterable<string>): AppState {
  let current: string | undefined
  let currentSeq = 0
  const deployments = new Map<string, KnownDeployment>()
  for (const raw of ids) {
    const m = parseMarker(raw)
    if (m === undefined) continue
    if (m.kind === 'current') {
      if (current === undefined || m.seq > currentSeq) {
        current = m.deployment
        currentSeq = m.seq
      }
      continue
    }
    const prev = deployments.get(m.deployment)
    if (m.kind === 'draining') {
      const deadline = m.deadlineSeconds * 1000
      // Two drain markers: the later deadline (holders are never cut earlier than promised).
      if (prev?.drainDeadlineMs === undefined || prev.drainDeadlineMs < deadline) deployments.set(m.deployment, { id: m.deployment, drainDeadlineMs: deadline })
    } else if (prev === undefined) {
      deployments.set(m.deployment, { id: m.deployment })
    }
  }
  if (current !== undefined && !deployments.has(current)) deployments.set(current, { id: current })
  return { current, currentSeq, deployments }
}
