// The admin listener, on its own port (ADMIN_PORT) so it is never exposed
// where the WebSocket port is. GET /status needs no token; everything under
// /admin/ needs `Authorization: Bearer <ADMIN_TOKEN>` (constant-time check,
// see auth.ts) and answers 401 JSON without it, or when no token is set.
//   GET /metrics             Prometheus text (no token, like /status)
//   POST /admin/drain        start draining (202; idempotent)
//   POST /admin/force-close  close every session now with 1001, then finish the drain (200)

import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { bearerMatches } from './auth.js'
import { MediaNodeError, methodNotAllowed } from './errors.js'
import type { Logger } from './log.js'
import type { NodeMetrics } from './metrics.js'
import { sendJson } from './server.js'
import type { StatusBody } from './server.js'

export interface AdminServerOptions {
  /** Bearer token; undefined disables /admin/* (401). */
  token: string | undefined
  status: () => StatusBody
  /** GET /metrics. */
  metrics: NodeMetrics
  /** Starts draining (no-op when already draining). */
  drain: () => void
  /** Closes every session with 1001 now; returns how many were open. */
  forceClose: () => number
  log: Logger
}

/** Creates the (not yet listening) admin HTTP server. */
export function createAdminServer(options: AdminServerOptions): Server {
  return createServer((req, res) => {
    req.resume()
    try {
      handle(options, req, res)
    } catch (err) {
      const error = err instanceof MediaNodeError ? err : new MediaNodeError('internal error', 'INTERNAL', 500)
      sendJson(res, error.statusCode, error.toBody(), error.headers)
    }
  })
}

function serveMetrics(metrics: NodeMetrics, res: ServerResponse): void {
  metrics.render().then(
    (text) => {
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
      res.end(res.req.method === 'HEAD' ? undefined : text)
    },
    () => sendJson(res, 500, new MediaNodeError('metrics could not be collected', 'INTERNAL', 500).toBody()),
  )
}

function handle(options: AdminServerOptions, req: IncomingMessage, res: ServerResponse): void {
  const path = pathOf(req.url)
  const method = req.method ?? ''
  if (path === '/status') {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, 'GET, HEAD')
    return sendJson(res, 200, options.status())
  }
  if (path === '/metrics') {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, 'GET, HEAD')
    return serveMetrics(options.metrics, res)
  }
  if (path === '/admin' || path.startsWith('/admin/')) {
    if (!bearerMatches(req.headers.authorization, options.token)) {
      const message = options.token === undefined ? 'admin endpoints are disabled: ADMIN_TOKEN is not set' : 'missing or wrong bearer token'
      options.log({ level: 'warn', msg: 'admin request refused', path, method, remote: req.socket.remoteAddress, tokenConfigured: options.token !== undefined })
      throw new MediaNodeError(message, 'UNAUTHORIZED', 401, { 'www-authenticate': 'Bearer realm="media-node-admin"' })
    }
    if (path === '/admin/drain') {
      if (method !== 'POST') throw methodNotAllowed(method, 'POST')
      options.log({ level: 'info', msg: 'admin: drain requested', remote: req.socket.remoteAddress })
      options.drain()
      return sendJson(res, 202, options.status())
    }
    if (path === '/admin/force-close') {
      if (method !== 'POST') throw methodNotAllowed(method, 'POST')
      options.log({ level: 'info', msg: 'admin: force-close requested', remote: req.socket.remoteAddress })
      const closed = options.forceClose()
      return sendJson(res, 200, { closed, ...options.status() })
    }
  }
  throw new MediaNodeError(`no admin route for ${path}`, 'NOT_FOUND', 404)
}

function pathOf(raw: string | undefined): string {
  try {
    return new URL(`http://admin.invalid${raw?.startsWith('/') ? raw : '/'}`).pathname
  } catch {
    return '/'
  }
}
