// The last known /status of each media node, for GET /media/allocate, kept
// stale-while-revalidate: a node's answer is used without asking again while it
// is fresh, used as it is while a background probe refreshes it once it is
// older, and dropped only past its max age. So once warmed, an allocation never
// waits for a node's /status (a loaded or hung node cannot turn allocation into
// 503s), and sessions handed out since the last answer are counted locally, so
// a burst of allocations spreads instead of all landing on the node that was
// least loaded a moment ago.

import type { Endpoint } from '../discovery/discovery.js'

/** What a media node says about itself on GET /status. */
export interface NodeStatus {
  /** The id the node answers with (undefined for nodes that do not say). */
  readonly nodeId: string | undefined
  readonly status: string
  readonly activeConnections: number
}

/** A /status body (already JSON-parsed) as a NodeStatus, or undefined when it is not one. */
export function parseNodeStatus(v: unknown): NodeStatus | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const nodeId = 'nodeId' in v && typeof v.nodeId === 'string' ? v.nodeId : undefined
  const status = 'status' in v && typeof v.status === 'string' ? v.status : undefined
  const conns = 'activeConnections' in v && typeof v.activeConnections === 'number' ? v.activeConnections : undefined
  return status !== undefined && conns !== undefined ? { nodeId, status, activeConnections: conns } : undefined
}

/**
 * Reads one node's status. Resolves `'refused'` when the node answered but not
 * with a status, or could not be connected to (it is gone: its last answer is
 * dropped at once), `'timeout'` when it did not answer in time (it may only be
 * busy: its last answer stays until max age). Never rejects.
 */
export type StatusProbe = (endpoint: Endpoint) => Promise<NodeStatus | 'refused' | 'timeout'>

export interface NodeStatusCacheOptions {
  /** An answer this young is used without probing again. */
  readonly freshMs: number
  /** An answer older than this is not used at all; between fresh and this, it is used while a probe refreshes it. */
  readonly maxAgeMs: number
  readonly probe: StatusProbe
  /** Clock (ms); tests pass a fake one. */
  readonly now?: () => number
}

interface Known {
  readonly status: NodeStatus
  /** Clock ms of the answer. */
  readonly at: number
  /** Sessions this router allocated to the node since that answer. */
  allocated: number
}

/** A node's status as the allocator should see it: the last answer plus what we sent it since. */
export interface UsableStatus {
  readonly status: string
  readonly nodeId: string | undefined
  readonly load: number
}

function keyOf(e: Endpoint): string {
  return `${e.id}|${e.host}:${e.port}`
}

export class NodeStatusCache {
  readonly #opts: NodeStatusCacheOptions
  readonly #now: () => number
  readonly #known = new Map<string, Known>()
  readonly #probing = new Map<string, Promise<void>>()

  constructor(opts: NodeStatusCacheOptions) {
    if (!(opts.freshMs >= 0 && opts.maxAgeMs >= opts.freshMs)) throw new RangeError('NodeStatusCache: need 0 <= freshMs <= maxAgeMs')
    this.#opts = opts
    this.#now = opts.now ?? (() => performance.now())
  }

  /**
   * The usable status of `e`, or undefined when there is none (never asked, or
   * the last answer is past max age). Starts a background probe when the
   * answer is missing or no longer fresh (one per node at a time).
   */
  get(e: Endpoint): UsableStatus | undefined {
    const known = this.#known.get(keyOf(e))
    if (known === undefined || this.#now() - known.at > this.#opts.freshMs) void this.refresh(e)
    return this.peek(e)
  }

  /** Like get(), without starting a probe. */
  peek(e: Endpoint): UsableStatus | undefined {
    const known = this.#known.get(keyOf(e))
    if (known === undefined || this.#now() - known.at > this.#opts.maxAgeMs) return undefined
    return { status: known.status.status, nodeId: known.status.nodeId, load: known.status.activeConnections + known.allocated }
  }

  /** Probe `e` now unless a probe of it is under way; resolves when that probe is done. */
  refresh(e: Endpoint): Promise<void> {
    const key = keyOf(e)
    const running = this.#probing.get(key)
    if (running !== undefined) return running
    const p = this.#opts.probe(e).then((status) => {
      this.#probing.delete(key)
      // A timed-out probe keeps the previous answer, which ages out at max age.
      if (status === 'refused') this.#known.delete(key)
      else if (status !== 'timeout') this.#known.set(key, { status, at: this.#now(), allocated: 0 })
    })
    this.#probing.set(key, p)
    return p
  }

  /** Count a session allocated to `e` on top of its last answer. */
  allocated(e: Endpoint): void {
    const known = this.#known.get(keyOf(e))
    if (known !== undefined) known.allocated++
  }

  /** Forget nodes that are no longer among `endpoints` (called with the current discovery answer). */
  retain(endpoints: readonly Endpoint[]): void {
    if (this.#known.size === 0) return
    const keep = new Set(endpoints.map(keyOf))
    for (const key of this.#known.keys()) if (!keep.has(key)) this.#known.delete(key)
  }

  /** Probes under way (tests and the routes view). */
  get probing(): number {
    return this.#probing.size
  }
}
