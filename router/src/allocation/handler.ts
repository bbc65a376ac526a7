// GET /media/allocate[?session=<id>]: choose a media node for a new session and
// answer {nodeId, sessionId, path, url}. Candidates come from discovery (the
// media service); DRAINING and ejected nodes are skipped. Load comes from a
// `connections` attribute when every candidate has one, otherwise from the
// nodes' GET /status (which also confirms a node is ACTIVE and that the node at
// that address is the one discovery named), kept by status-cache.ts so that a
// warmed allocation never waits for a node to answer.

import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomUUID } from 'node:crypto'
import { request, type Dispatcher } from 'undici'
import type { Endpoint } from '../discovery/discovery.js'
import type { DiscoveryCache } from '../discovery/cache.js'
import { NoHealthyEndpointError, RouterError, TargetNotFoundError } from '../errors.js'
import { isDraining } from '../balancing/eligibility.js'
import type { OutlierDetector } from '../balancing/outlier.js'
import { leastLoaded, rendezvous, type NodeCandidate } from './select.js'
import { NodeStatusCache, parseNodeStatus, type NodeStatus } from './status-cache.js'
import { sendJson, sendError } from '../proxy/respond.js'

export interface AllocationDeps {
  readonly cache: DiscoveryCache
  readonly mediaService: string
  readonly outliers: OutlierDetector
  readonly dispatcher: Dispatcher
  readonly retryAfterSeconds: number
  /** Max nodes whose /status is refreshed per allocation. */
  readonly sampleSize?: number
  readonly statusTimeoutMs?: number
  /** A node's /status answer is reused without asking again this long (default 1000 ms). */
  readonly statusFreshMs?: number
  /** …and used at all this long, while a background probe refreshes it (default 10000 ms). */
  readonly statusMaxAgeMs?: number
  /** Clock (ms) for the status cache; tests pass a fake one. */
  readonly now?: () => number
}

const SESSION = /^[A-Za-z0-9._-]{1,128}$/
const HOST = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/

function shuffled<T>(list: readonly T[]): T[] {
  const a = [...list]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const x = a[i]
    const y = a[j]
    if (x !== undefined && y !== undefined) {
      a[i] = y
      a[j] = x
    }
  }
  return a
}

export class AllocationHandler {
  readonly #d: AllocationDeps
  readonly #statuses: NodeStatusCache

  constructor(deps: AllocationDeps) {
    this.#d = deps
    this.#statuses = new NodeStatusCache({
      freshMs: deps.statusFreshMs ?? 1000,
      maxAgeMs: deps.statusMaxAgeMs ?? 10_000,
      probe: (e) => this.#status(e),
      ...(deps.now !== undefined ? { now: deps.now } : {}),
    })
  }

  /** True when this request is an allocation request (checked before route matching). */
  static matches(url: string): boolean {
    return url === '/media/allocate' || url.startsWith('/media/allocate?')
  }

  /** Answers the request; resolves the error code it answered with, if any (for the access log). */
  async handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<string | undefined> {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new RouterError('use GET /media/allocate[?session=<id>]', 'METHOD_NOT_ALLOWED', 405, { allow: 'GET, HEAD' })
      const q = new URLSearchParams((req.url ?? '').split('?')[1] ?? '')
      const session = q.get('session') ?? undefined
      if (session !== undefined && !SESSION.test(session)) throw new RouterError('session must be 1-128 characters of A-Z a-z 0-9 . _ -', 'INVALID_SESSION', 400)
      const nodeId = await this.#choose(session)
      const sessionId = session ?? randomUUID()
      const path = `/media/${nodeId}/ws/${sessionId}`
      const host = typeof req.headers.host === 'string' && HOST.test(req.headers.host) ? req.headers.host : undefined
      const proto = req.headers['x-forwarded-proto'] === 'https' ? 'wss' : 'ws'
      sendJson(res, 200, { nodeId, sessionId, path, ...(host !== undefined ? { url: `${proto}://${host}${path}` } : {}) }, { 'x-request-id': requestId })
      return undefined
    } catch (err) {
      const e = err instanceof RouterError ? err : new RouterError('internal error', 'INTERNAL', 500)
      sendError(res, e, requestId)
      return e.code
    }
  }

  async #choose(session: string | undefined): Promise<string> {
    let endpoints: readonly Endpoint[]
    try {
      endpoints = (await this.#d.cache.resolve({ kind: 'service', service: this.#d.mediaService })).endpoints
    } catch (err) {
      if (err instanceof TargetNotFoundError) endpoints = []
      else throw err
    }
    const active = this.#d.outliers.filter(endpoints.filter((e) => !isDraining(e)))
    const none = new NoHealthyEndpointError('media service', this.#d.retryAfterSeconds, 'has no ACTIVE node to allocate')
    if (active.length === 0) throw none
    if (session !== undefined) {
      const id = rendezvous(session, [...new Set(active.map((e) => e.id))])
      if (id === undefined) throw none
      return id
    }
    const withAttr = active.every((e) => e.attributes['connections'] !== undefined && /^\d+$/.test(e.attributes['connections'] ?? ''))
    let candidates: NodeCandidate[]
    if (withAttr) {
      candidates = active.map((e) => ({ nodeId: e.id, load: Number(e.attributes['connections']) }))
    } else {
      await this.#warmStatuses(active)
      // From here to allocated() nothing awaits, so concurrent allocations each
      // see the sessions handed out before them.
      candidates = this.#candidates(active)
    }
    const best = leastLoaded(candidates)
    if (best === undefined) throw none
    if (!withAttr) {
      const picked = active.find((e) => e.id === best.nodeId)
      if (picked !== undefined) this.#statuses.allocated(picked)
    }
    return best.nodeId
  }

  /**
   * Refreshes a random sample of nodes' /status in the background. Only when no
   * node has a usable answer yet (a cold start, or every answer past max age)
   * does the allocation wait for the sample's probes.
   */
  async #warmStatuses(active: readonly Endpoint[]): Promise<void> {
    const cache = this.#statuses
    cache.retain(active)
    const sample = shuffled(active).slice(0, this.#d.sampleSize ?? 16)
    for (const e of sample) cache.get(e)
    if (this.#candidates(active).length === 0) await Promise.all(sample.map((e) => cache.refresh(e)))
  }

  #candidates(active: readonly Endpoint[]): NodeCandidate[] {
    const out: NodeCandidate[] = []
    for (const e of active) {
      const s = this.#statuses.peek(e)
      // A node answering with another id sits on the address of a dead node whose
      // Cloud Map entry outlived it: that entry is not a candidate.
      if (s !== undefined && s.status === 'ACTIVE' && (s.nodeId === undefined || s.nodeId === e.id)) out.push({ nodeId: e.id, load: s.load })
    }
    return out
  }

  async #status(e: Endpoint): Promise<NodeStatus | 'refused' | 'timeout'> {
    const timeout = this.#d.statusTimeoutMs ?? 1000
    try {
      const res = await request(`http://${e.host}:${e.port}/status`, { dispatcher: this.#d.dispatcher, headersTimeout: timeout, bodyTimeout: timeout, signal: AbortSignal.timeout(timeout) })
      const text = await res.body.text()
      if (res.statusCode !== 200) return 'refused'
      return parseNodeStatus(JSON.parse(text)) ?? 'refused'
    } catch (err) {
      return isTimeout(err) ? 'timeout' : 'refused'
    }
  }
}

/** undici's and AbortSignal.timeout()'s ways of saying "no answer in time". */
function isTimeout(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const code = 'code' in err ? err.code : undefined
  return err.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT'
}
