// The admin listener (separate port): GET /metrics (Prometheus text, open to
// scrapers on the private port), GET /health, the admin dashboard under
// /admin/ (admin/dashboard.ts: login form, session cookie, live view, node
// drain, deployment switch and drain) and the JSON endpoints under /admin/* (bearer token or the
// dashboard's session): /admin/routes shows what the router knows now. It
// knows nothing of where those come from: a single router and a cluster
// primary both feed it.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { sendJson, sendError } from '../proxy/respond.js'
import { RouterError } from '../errors.js'
import { Dashboard, unauthorized } from './dashboard.js'
import { DashboardState } from './dashboard-state.js'
import { NodeAdmin } from './node-admin.js'
import { DeploymentActions } from './deployment-actions.js'
import type { RouterSnapshot } from './snapshot.js'
import type { DeploymentControl } from '../deployments/control.js'
import type { Logger } from '../log.js'

export interface AdminDeps {
  /** Bearer token for /admin/*; undefined answers 401 to all of them. */
  readonly token: string | undefined
  /** Prometheus exposition text (one registry, or aggregated across workers). */
  readonly renderMetrics: () => Promise<string>
  readonly metricsContentType: string
  /** Body of GET /admin/routes. */
  readonly routesView: () => Promise<unknown>
  /** The dashboard's input: one snapshot per process serving traffic, with the media service looked up. */
  readonly snapshots: () => Promise<RouterSnapshot[]>
  /** MEDIA_ADMIN_TOKEN, for the dashboard's drain action; undefined disables it. */
  readonly mediaAdminToken: string | undefined
  /** Writes blue/green registries (DEPLOYMENT_CONTROL); undefined turns the deployment actions off. Closed with the server. */
  readonly deploymentControl?: DeploymentControl
  /** Admin actions are logged here. */
  readonly logger?: Logger
  /** Wall clock, epoch ms (drain deadlines); tests inject one. */
  readonly wallClock?: () => number
  /** Status and body of GET /health on the admin port (default 200 {"status":"ok"}). */
  readonly health?: () => { readonly status: number; readonly body: Record<string, unknown> }
}

export interface AdminServer {
  readonly server: Server
  /** Stops the dashboard's outgoing connections (node probes, drains, Cloud Map writes). */
  close(): Promise<void>
}

export function createAdminServer(deps: AdminDeps): AdminServer {
  const nodes = new NodeAdmin({ token: deps.mediaAdminToken })
  const deployments = new DeploymentActions({
    control: deps.deploymentControl,
    disabledReason: 'DEPLOYMENT_CONTROL is not set on this router',
    apps: async () => [...new Set((await deps.snapshots()).flatMap((s) => (s.apps ?? []).map((a) => a.app)))],
    ...(deps.logger !== undefined ? { logger: deps.logger } : {}),
    ...(deps.wallClock !== undefined ? { wallClock: deps.wallClock } : {}),
  })
  const state = new DashboardState({
    snapshots: deps.snapshots,
    renderMetrics: deps.renderMetrics,
    nodes,
    deploymentActions: { enabled: deployments.enabled, disabledReason: deployments.disabledReason },
    ...(deps.wallClock !== undefined ? { wallClock: deps.wallClock } : {}),
  })
  const dashboard = new Dashboard({ token: deps.token, state, nodes, deployments })
  const server = createServer({ maxHeaderSize: 8192, headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    handle(deps, dashboard, req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy()
      else if (err instanceof RouterError) sendError(res, err)
      else sendJson(res, 500, { error: String(err), code: 'INTERNAL' })
    })
  })
  return {
    server,
    close: async () => {
      deployments.close()
      await nodes.close()
    },
  }
}

async function handle(deps: AdminDeps, dashboard: Dashboard, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/'
  if (path === '/admin' || path.startsWith('/admin/')) {
    if (await dashboard.handle(req, res, path)) return
    if (dashboard.authenticate(req) === undefined) throw unauthorized(deps.token)
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    req.resume()
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
  if (path === '/admin/routes') {
    sendJson(res, 200, await deps.routesView())
    return
  }
  sendJson(res, 404, { error: 'not found; admin endpoints: /metrics, /admin/ (dashboard), /admin/api/state, /admin/routes', code: 'NOT_FOUND' })
}
