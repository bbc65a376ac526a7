// The admin listener (separate port): GET /metrics (Prometheus text, open to
// scrapers on the private port), GET /health, and /admin/* (bearer token):
// /admin/routes shows what the router knows now. It knows nothing of where
// those come from: a single router and a cluster primary both feed it.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { bearerMatches } from './auth.js'
import { sendJson } from '../proxy/respond.js'

export interface AdminDeps {
  /** Bearer token for /admin/*; undefined answers 401 to all of them. */
  readonly token: string | undefined
  /** Prometheus exposition text (one registry, or aggregated across workers). */
  readonly renderMetrics: () => Promise<string>
  readonly metricsContentType: string
  /** Body of GET /admin/routes. */
  readonly routesView: () => Promise<unknown>
  /** Status and body of GET /health on the admin port (default 200 {"status":"ok"}). */
  readonly health?: () => { readonly status: number; readonly body: Record<string, unknown> }
}

export function createAdminServer(deps: AdminDeps): Server {
  return createServer({ maxHeaderSize: 8192, headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err), code: 'INTERNAL' })
      else res.destroy()
    })
  })
}

async function handle(deps: AdminDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/'
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method not allowed', code: 'METHOD_NOT_ALLOWED' }, { allow: 'GET, HEAD' })
    return
  }
  if (path === '/metrics') {
    const text = await deps.renderMetrics()
    res.writeHead(200, { 'content-type': deps.metricsContentType, 'cache-control': 'no-store' })
    res.end(text)
    return
  }
  if (path === '/health') {
    const h = deps.health?.() ?? { status: 200, body: { status: 'ok' } }
    sendJson(res, h.status, h.body)
    return
  }
  if (path.startsWith('/admin/') || path === '/admin') {
    if (!bearerMatches(req.headers.authorization, deps.token)) {
      sendJson(res, 401, { error: deps.token === undefined ? 'admin endpoints are disabled (ADMIN_TOKEN unset)' : 'missing or wrong bearer token', code: 'UNAUTHORIZED' }, { 'www-authenticate': 'Bearer realm="router-admin"' })
      return
    }
    if (path === '/admin/routes') {
      sendJson(res, 200, await deps.routesView())
      return
    }
  }
  sendJson(res, 404, { error: 'not found; admin endpoints: /metrics, /admin/routes', code: 'NOT_FOUND' })
}
