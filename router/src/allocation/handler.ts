// GET /media/allocate[?session=<id>]: choose a media node for a new session and
// answer {nodeId, sessionId, path, url}. Candidates come from discovery (the
// media service); DRAINING and ejected nodes are skipped. Load comes from a
// `connections` attribute when every candidate has one, otherwise from each
// sampled node's GET /status (which also confirms it is ACTIVE and that the
// node at that address is the one discovery named).

import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomUUID } from 'node:crypto'
import { request, type Dispatcher } from 'undici'
import type { Endpoint } from '../discovery/discovery.js'
import type { DiscoveryCache } from '../discovery/cache.js'
import { NoHealthyEndpointError, RouterError, TargetNotFoundError } from '../errors.js'
import { isDraining } from '../balancing/eligibility.js'
import type { OutlierDetector } from '../balancing/outlier.js'
import { leastLoaded, rendezvous, type NodeCandidate } from './select.js'
import { sendJson, sendError } from '../proxy/respond.js'

export interface AllocationDeps {
  readonly cache: DiscoveryCache
  readonly mediaService: string
  readonly outliers: OutlierDetector
  readonly dispatcher: Dispatcher
  readonly retryAfterSeconds: number
  /** Max nodes whose /status is read per allocation. */
  readonly sampleSize?: number
  readonly statusTimeoutMs?: number
}

const SESSION = /^[A-Za-z0-9._-]{1,128}$/
const HOST = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/

interface NodeStatus {
  readonly nodeId: string | undefined
  readonly status: string
  readonly activeConnections: number
}

function parseStatus(v: unknown): NodeStatus | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const nodeId = 'nodeId' in v && typeof v.nodeId === 'string' ? v.nodeId : undefined
  const status = 'status' in v && typeof v.status === 'string' ? v.status : undefined
  const conns = 'activeConnections' in v && typeof v.activeConnections === 'number' ? v.activeConnections : undefined
  return status !== undefined && conns !== undefined ? { nodeId, status, activeConnections: conns } : undefined
}

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

  constructor(deps: AllocationDeps) {
    this.#d = deps
  }

  /** True when this request is an allocation request (checked before route matching). */
  static matches(url: string): boolean {
    return url === '/media/allocate' || url.startsWith('/media/allocate?')
  }

  async handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
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
    } catch (err) {
      const e = err instanceof RouterError ? err : new RouterError('internal error', 'INTERNAL', 500)
      sendError(res, e, requestId)
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
      const sample = shuffled(active).slice(0, this.#d.sampleSize ?? 16)
      const statuses = await Promise.all(sample.map((e) => this.#status(e)))
      candidates = []
      sample.forEach((e, i) => {
        const s = statuses[i]
        // A node answering with another id sits on the address of a dead node whose
        // Cloud Map entry outlived it: that entry is not a candidate.
        if (s !== undefined && s.status === 'ACTIVE' && (s.nodeId === undefined || s.nodeId === e.id)) candidates.push({ nodeId: e.id, load: s.activeConnections })
      })
    }
    const best = leastLoaded(candidates)
    if (best === undefined) throw none
    return best.nodeId
  }

  async #status(e: Endpoint): Promise<NodeStatus | undefined> {
    const timeout = this.#d.statusTimeoutMs ?? 1000
    try {
      const res = await request(`http://${e.host}:${e.port}/status`, { dispatcher: this.#d.dispatcher, headersTimeout: timeout, bodyTimeout: timeout, signal: AbortSignal.timeout(timeout) })
      const text = await res.body.text()
      if (res.statusCode !== 200) return undefined
      return parseStatus(JSON.parse(text))
    } catch {
      return undefined
    }
  }
}
