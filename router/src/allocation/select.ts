// Pure media-node selection for GET /media/allocate: least loaded among ACTIVE
// candidates, or rendezvous (highest random weight) hashing on a session id so
// every client of one session lands on the same node while it stays ACTIVE.

import { createHash } from 'node:crypto'

export interface NodeCandidate {
  readonly nodeId: string
  /** Open connections; undefined = unknown (sorted last). */
  readonly load: number | undefined
}

/** The candidate with the fewest connections; ties broken by node id for determinism. */
export function leastLoaded(candidates: readonly NodeCandidate[]): NodeCandidate | undefined {
  let best: NodeCandidate | undefined
  for (const c of candidates) {
    if (best === undefined) {
      best = c
      continue
    }
    const a = c.load ?? Number.POSITIVE_INFINITY
    const b = best.load ?? Number.POSITIVE_INFINITY
    if (a < b || (a === b && c.nodeId < best.nodeId)) best = c
  }
  return best
}

function score(session: string, nodeId: string): bigint {
  return createHash('sha256').update(session).update('\u0000').update(nodeId).digest().readBigUInt64BE(0)
}

/** Rendezvous hashing: stable per session; removing a node moves only its sessions. */
export function rendezvous(session: string, nodeIds: readonly string[]): string | undefined {
  let best: string | undefined
  let bestScore = -1n
  for (const id of nodeIds) {
    const s = score(session, id)
    if (s > bestScore || (s === bestScore && best !== undefined && id < best)) {
      bestScore = s
      best = id
    }
  }
  return best
}
