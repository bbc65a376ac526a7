// The admin listener (separate port): GET /metrics (Prometheus text, open to
// scrapers on the private port) and /admin/* (bearer token): /admin/routes
// shows the route table and what discovery knows now.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { bearerMatches } from './auth.js'
import type { RouterMetrics } from './metrics.js'
import type { RouteTable } from '../routing/routes.js'
import type { DiscoveryCache } from '../discovery/cache.js'
import { sendJson } from '../proxy/respond.js'

export interface AdminDeps {
  readonly token: string | undefined
  readonly metrics: RouterMetrics
  readonly routes: () => RouteTable
  readonly cache: DiscoveryCache
  readonly info: () => Record<string, unknown>
  /** Extra collectors run before /metrics renders (e.g. cluster aggregation). */
  readonly renderMetrics?: () => Promise<string>
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
    const text = deps.renderMetrics !== undefined ? await deps.renderMetrics() : await deps.metrics.registry.metrics()
    res.writeHead(200, { 'content-type': deps.metrics.registry.contentType, 'cache-control': 'no-store' })
    res.end(text)
    return
  }
  if (path === '/health') {
    sendJson(res, 200, { status: 'ok' })
    return
  }
  if (path.startsWith('/admin/') || path === '/admin') {
    if (!bearerMatches(req.headers.authorization, deps.token)) {
      sendJson(res, 401, { error: deps.token === undefined ? 'admin endpoints are disabled (ADMIN_TOKEN unset)' : 'missing or wrong bearer token', code: 'UNAUTHORIZED' }, { 'www-authenticate': 'Bearer realm="router-admin"' })
      return
    }
    if (path === '/admin/routes') {
      const table = deps.routes()
      sendJson(res, 200, {
        ...deps.info(),
        routes: table.templates.map((t) => ({ name: t.name, format: t.format, prefix: t.prefix, stripPrefix: t.stripPrefix })),
        targets: deps.cache.view(),
      })
      return
    }
  }
  sendJson(res, 404, { error: 'not found; admin endpoints: /metrics, /admin/routes', code: 'NOT_FOUND' })
}
