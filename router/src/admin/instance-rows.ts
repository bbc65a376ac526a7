// One discovered instance as the dashboard shows it, merged across router
// processes (cluster workers each send their own snapshot): the Deployments
// table and the blue/green card both build their instance rows here.

import type { SnapshotEndpoint } from './snapshot.js'

export interface EndpointRow {
  readonly id: string
  readonly address: string
  /** The `status` attribute (ACTIVE when absent: DNS answers carry none). */
  readonly status: string
  /** Cloud Map health when discovery gives it (API mode), else null. */
  readonly health: string | null
  readonly inFlight: number
  readonly ejected: boolean
}

/** Adds one process's view of an instance: one entry per id and address, in-flight summed, ejected if any says so. */
export function mergeEndpoint(byKey: Map<string, SnapshotEndpoint>, e: SnapshotEndpoint): void {
  const k = `${e.id}|${e.host}:${e.port}`
  const had = byKey.get(k)
  byKey.set(k, had === undefined ? e : { ...had, inFlight: had.inFlight + e.inFlight, ejected: had.ejected || e.ejected })
}

export function endpointRow(e: SnapshotEndpoint): EndpointRow {
  return {
    id: e.id,
    address: `${e.host}:${e.port}`,
    status: (e.attributes['status'] ?? 'ACTIVE').toUpperCase(),
    health: e.attributes['healthStatus'] ?? null,
    inFlight: e.inFlight,
    ejected: e.ejected,
  }
}
