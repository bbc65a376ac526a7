// A media node's admin listener as the load runner uses it (the same contract
// as the k6 drain scenario, loadtest/k6/lib/drain.js): GET /status names the
// node and its state; POST /admin/drain with `Authorization: Bearer <token>`
// answers 202 with the node DRAINING. Also GET /media/allocate on the router,
// to discover nodes and to see where new sessions go.

import { request } from 'undici'

/** Where a node's admin listener is and its bearer token. */
export interface NodeAdmin {
  url: string
  token: string
}

export interface NodeState {
  nodeId: string
  status: string
  activeConnections: number
}

async function fetchText(url: string, method: 'GET' | 'POST', token?: string): Promise<{ status: number; body: string }> {
  const res = await request(url, {
    method,
    headers: token !== undefined ? { authorization: `Bearer ${token}` } : {},
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  })
  return { status: res.statusCode, body: await res.body.text() }
}

function jsonObject(text: string): object | undefined {
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'object' && v !== null ? v : undefined
  } catch {
    return undefined
  }
}

/** A media node's /status body, or undefined. */
export function parseNodeState(text: string): NodeState | undefined {
  const v = jsonObject(text)
  if (v === undefined) return undefined
  const nodeId: unknown = Reflect.get(v, 'nodeId')
  const status: unknown = Reflect.get(v, 'status')
  const conns: unknown = Reflect.get(v, 'activeConnections')
  if (typeof nodeId !== 'string' || typeof status !== 'string') return undefined
  return { nodeId, status, activeConnections: typeof conns === 'number' ? conns : 0 }
}

/** GET <admin>/status; undefined when it does not answer as a media node. */
export async function nodeState(admin: NodeAdmin): Promise<NodeState | undefined> {
  try {
    const r = await fetchText(`${admin.url}/status`, 'GET')
    return r.status === 200 ? parseNodeState(r.body) : undefined
  } catch {
    return undefined
  }
}

/** POST <admin>/admin/drain; resolves undefined when accepted (202, `nodeId` DRAINING), else what is wrong. */
export async function requestDrain(admin: NodeAdmin, nodeId: string): Promise<string | undefined> {
  let r: { status: number; body: string }
  try {
    r = await fetchText(`${admin.url}/admin/drain`, 'POST', admin.token)
  } catch (err) {
    return `POST ${admin.url}/admin/drain: ${err instanceof Error ? err.message : String(err)}`
  }
  if (r.status === 401) return 'HTTP 401: wrong or missing DRAIN_TOKEN (the media node\'s ADMIN_TOKEN)'
  if (r.status !== 202) return `HTTP ${r.status} ${r.body.slice(0, 200)} (expected 202 from POST /admin/drain)`
  const s = parseNodeState(r.body)
  if (s === undefined) return `answer is not a media node status: ${r.body.slice(0, 200)}`
  if (s.nodeId !== nodeId) return `the admin URL is node "${s.nodeId}", not "${nodeId}"`
  if (s.status !== 'DRAINING') return `node reports ${s.status}, not DRAINING`
  return undefined
}

/** Polls GET <admin>/status until the node reports DRAINING (true) or `timeoutMs` passed (false). */
export async function waitForDraining(admin: NodeAdmin, nodeId: string, timeoutMs: number, pollMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const s = await nodeState(admin)
    if (s !== undefined && s.nodeId === nodeId && s.status === 'DRAINING') return true
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

/** GET <router>/media/allocate: the node chosen for a new session, or an error text. */
export async function allocate(baseUrl: string): Promise<{ nodeId: string; sessionId: string } | { error: string }> {
  try {
    const r = await fetchText(`${baseUrl}/media/allocate`, 'GET')
    const v = jsonObject(r.body)
    const nodeId: unknown = v === undefined ? undefined : Reflect.get(v, 'nodeId')
    const sessionId: unknown = v === undefined ? undefined : Reflect.get(v, 'sessionId')
    if (r.status === 200 && typeof nodeId === 'string' && typeof sessionId === 'string') return { nodeId, sessionId }
    return { error: `HTTP ${r.status} ${r.body.slice(0, 200)}` }
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) }
  }
}

/** Distinct node ids named by `probes` calls to /media/allocate (in first-seen order). */
export async function discoverNodes(baseUrl: string, probes = 8): Promise<{ nodes: string[]; lastError: string | undefined }> {
  const nodes: string[] = []
  let lastError: string | undefined
  for (let i = 0; i < probes; i++) {
    const a = await allocate(baseUrl)
    if ('error' in a) lastError = a.error
    else if (!nodes.includes(a.nodeId)) nodes.push(a.nodeId)
  }
  return { nodes, lastError }
}
