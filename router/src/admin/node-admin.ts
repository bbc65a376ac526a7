// The admin dashboard's calls to media nodes: GET /status on a node's main
// port (what the node says it is: ACTIVE, DRAINING, its connections) and
// POST /admin/drain on its admin API. Where the admin API is comes from
// discovery only: the endpoint's host and its `admin_port` attribute (the
// node registers it); the token is MEDIA_ADMIN_TOKEN. Nothing here knows
// where endpoints come from.

import { Agent, request, type Dispatcher } from 'undici'
import type { Endpoint } from '../discovery/discovery.js'
import { parseNodeStatus, type NodeStatus } from '../allocation/status-cache.js'
import { RouterError } from '../errors.js'

/** The attribute a media node registers with its admin listener's port. */
export const ADMIN_PORT_ATTRIBUTE = 'admin_port'

/** The admin port a node advertises, or undefined when it advertises none (or a bad one). */
export function adminPortOf(e: Endpoint): number | undefined {
  const v = e.attributes[ADMIN_PORT_ATTRIBUTE]
  if (v === undefined || !/^\d{1,5}$/.test(v)) return undefined
  const port = Number(v)
  return port >= 1 && port <= 65535 ? port : undefined
}

export interface NodeAdminOptions {
  /** MEDIA_ADMIN_TOKEN; undefined: drain() answers 503 ACTION_DISABLED. */
  readonly token: string | undefined
  /** Timeout of one call (connect to the end of the answer). Default 3000 ms. */
  readonly timeoutMs?: number
}

/** What a node answered to POST /admin/drain. */
export interface DrainAnswer {
  readonly nodeId: string
  readonly status: string | undefined
  readonly activeConnections: number | undefined
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

export class NodeAdmin {
  readonly #o: NodeAdminOptions
  readonly #dispatcher: Dispatcher
  readonly #timeoutMs: number

  constructor(o: NodeAdminOptions) {
    this.#o = o
    this.#timeoutMs = o.timeoutMs ?? 3000
    this.#dispatcher = new Agent({ connections: 4, connect: { timeout: this.#timeoutMs }, headersTimeout: this.#timeoutMs, bodyTimeout: this.#timeoutMs, keepAliveTimeout: 5000 })
  }

  get drainEnabled(): boolean {
    return this.#o.token !== undefined
  }

  /** GET /status on the node's main port; never rejects (see StatusProbe). */
  async status(e: Endpoint): Promise<NodeStatus | 'refused' | 'timeout'> {
    try {
      const r = await request(`http://${hostPort(e.host, e.port)}/status`, { dispatcher: this.#dispatcher, signal: AbortSignal.timeout(this.#timeoutMs) })
      const text = await r.body.text()
      if (r.statusCode !== 200) return 'refused'
      return parseNodeStatus(parseJson(text)) ?? 'refused'
    } catch (err) {
      const name = err instanceof Error ? err.name : ''
      const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : ''
      return name === 'TimeoutError' || name === 'AbortError' || code.includes('TIMEOUT') ? 'timeout' : 'refused'
    }
  }

  /** POST /admin/drain on the node's admin API. Rejects with a RouterError saying what went wrong. */
  async drain(e: Endpoint): Promise<DrainAnswer> {
    const token = this.#o.token
    if (token === undefined) throw new RouterError('draining is disabled: MEDIA_ADMIN_TOKEN is not set on the router', 'ACTION_DISABLED', 503)
    const port = adminPortOf(e)
    if (port === undefined) {
      throw new RouterError(`node ${e.id} advertises no admin port (the ${ADMIN_PORT_ATTRIBUTE} attribute; DNS discovery carries no attributes)`, 'NO_ADMIN_ADDRESS', 409)
    }
    let r: Dispatcher.ResponseData
    try {
      r = await request(`http://${hostPort(e.host, port)}/admin/drain`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        dispatcher: this.#dispatcher,
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
    } catch (err) {
      throw new RouterError(`node ${e.id} admin API at ${hostPort(e.host, port)} did not answer: ${err instanceof Error ? err.message : String(err)}`, 'NODE_ADMIN_UNREACHABLE', 502, {}, { cause: err })
    }
    const body = parseJson(await r.body.text().catch(() => ''))
    if (r.statusCode === 401) throw new RouterError(`node ${e.id} refused the router's MEDIA_ADMIN_TOKEN`, 'NODE_ADMIN_UNAUTHORIZED', 502)
    if (r.statusCode !== 202 && r.statusCode !== 200) throw new RouterError(`node ${e.id} answered ${r.statusCode} to POST /admin/drain`, 'NODE_ADMIN_ERROR', 502)
    const s = parseNodeStatus(body)
    return { nodeId: e.id, status: s?.status, activeConnections: s?.activeConnections }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close()
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
