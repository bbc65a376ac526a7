// The admin dashboard's HTTP side, under /admin on the admin port:
//   GET  /admin/            the page (a session is needed; else 303 to the login form)
//   GET  /admin/login       the login form;  POST /admin/login  token → session cookie
//   POST /admin/logout      ends the session
//   GET  /admin/assets/*    the page's script and style sheet (no secrets, no auth)
//   GET  /admin/api/state   the live view (JSON)
//   POST /admin/api/nodes/<nodeId>/drain   drain a media node through its admin API
//   POST /admin/api/apps/<app>/deployments/<id>/switch   make it the app's current deployment
//   POST /admin/api/apps/<app>/deployments/<id>/drain    drain it (JSON body {"deadline": "15m"} optional)
// and the authentication of every other /admin/* endpoint (GET /admin/routes):
// `Authorization: Bearer <ADMIN_TOKEN>` as before, or the session cookie.
// A POST authenticated by the cookie must carry the session's CSRF token and
// an Origin equal to the admin listener's own; a bearer-authenticated POST
// needs neither (browsers never send that header on their own).

import type { IncomingMessage, ServerResponse } from 'node:http'
import { bearerMatches, secretMatches } from './auth.js'
import { SessionStore, clearedSessionCookie, csrfMatches, sessionCookie, sessionIdFromCookie, type AdminSession } from './sessions.js'
import type { DashboardState } from './dashboard-state.js'
import type { NodeAdmin } from './node-admin.js'
import type { DeploymentActions } from './deployment-actions.js'
import { appScript, dashboardPage, loginPage, STYLE_CSS } from './assets.js'
import { sendJson } from '../proxy/respond.js'
import { RouterError } from '../errors.js'

export interface DashboardOptions {
  /** ADMIN_TOKEN; undefined: nobody can log in. */
  readonly token: string | undefined
  readonly state: DashboardState
  readonly nodes: NodeAdmin
  readonly deployments: DeploymentActions
  /** Session lifetime. Default 12 h. */
  readonly sessionTtlMs?: number
  /** Clock for sessions (ms since the epoch); tests pass a fake one. */
  readonly now?: () => number
}

export type AdminAuth = { readonly kind: 'bearer' } | { readonly kind: 'session'; readonly session: AdminSession }

const NODE_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
const DEPLOYMENT_ACTION = /^\/admin\/api\/apps\/([^/]+)\/deployments\/([^/]+)\/(switch|drain)$/
const MAX_FORM_BYTES = 4096

const HTML_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Not no-referrer: with it Chromium sends `Origin: null` on the forms' POSTs, which the Origin check refuses.
  'referrer-policy': 'same-origin',
}

export class Dashboard {
  readonly #o: DashboardOptions
  readonly #sessions: SessionStore
  readonly #ttlMs: number

  constructor(o: DashboardOptions) {
    this.#o = o
    this.#ttlMs = o.sessionTtlMs ?? 12 * 60 * 60 * 1000
    this.#sessions = new SessionStore({ ttlMs: this.#ttlMs, max: 1000, ...(o.now !== undefined ? { now: o.now } : {}) })
  }

  /** Who is asking: a bearer token, a live session cookie, or nobody. */
  authenticate(req: IncomingMessage): AdminAuth | undefined {
    if (bearerMatches(req.headers.authorization, this.#o.token)) return { kind: 'bearer' }
    const session = this.#sessions.get(sessionIdFromCookie(req.headers.cookie))
    return session === undefined ? undefined : { kind: 'session', session }
  }

  /** Answers the dashboard's own paths; resolves false for other /admin paths (the caller authenticates those). */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const method = req.method ?? 'GET'
    const get = method === 'GET' || method === 'HEAD'
    if (path === '/admin') {
      if (!get) return methodNotAllowed(res, 'GET, HEAD')
      redirect(res, '/admin/')
      return true
    }
    if (path === '/admin/assets/app.js' || path === '/admin/assets/style.css') {
      if (!get) return methodNotAllowed(res, 'GET, HEAD')
      const js = path.endsWith('.js')
      const body = js ? await appScript() : STYLE_CSS
      res.writeHead(200, { 'content-type': js ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' })
      res.end(method === 'HEAD' ? undefined : body)
      return true
    }
    if (path === '/admin/') {
      if (!get) return methodNotAllowed(res, 'GET, HEAD')
      const auth = this.authenticate(req)
      if (auth?.kind !== 'session') {
        redirect(res, '/admin/login')
        return true
      }
      html(res, 200, dashboardPage(auth.session.csrf))
      return true
    }
    if (path === '/admin/login') {
      if (get) {
        if (this.authenticate(req)?.kind === 'session') redirect(res, '/admin/')
        else html(res, 200, loginPage(this.#o.token === undefined ? 'Logging in is disabled: ADMIN_TOKEN is not set on this router.' : undefined))
        return true
      }
      if (method !== 'POST') return methodNotAllowed(res, 'GET, HEAD, POST')
      await this.#login(req, res)
      return true
    }
    if (path === '/admin/logout') {
      if (method !== 'POST') return methodNotAllowed(res, 'POST')
      const auth = this.authenticate(req)
      if (auth?.kind === 'session') {
        const form = await readForm(req)
        this.#checkCsrf(req, auth.session, form.get('csrf') ?? undefined)
        this.#sessions.delete(sessionIdFromCookie(req.headers.cookie))
      }
      res.writeHead(303, { location: '/admin/login', 'set-cookie': clearedSessionCookie(isHttps(req)), 'cache-control': 'no-store', 'content-length': 0 })
      res.end()
      return true
    }
    if (path === '/admin/api/state') {
      if (!get) return methodNotAllowed(res, 'GET, HEAD')
      this.#require(req)
      sendJson(res, 200, await this.#o.state.view())
      return true
    }
    const drain = /^\/admin\/api\/nodes\/([^/]+)\/drain$/.exec(path)
    if (drain !== null) {
      if (method !== 'POST') return methodNotAllowed(res, 'POST')
      const auth = this.#require(req)
      if (auth.kind === 'session') this.#checkCsrf(req, auth.session, headerValue(req.headers['x-csrf-token']))
      req.resume()
      const id = drain[1] ?? ''
      if (!NODE_ID.test(id)) throw new RouterError('node id must be a DNS label', 'INVALID_TARGET', 400)
      const node = await this.#o.state.findNode(id)
      if (node === undefined) throw new RouterError(`no media node ${id} in discovery`, 'TARGET_NOT_FOUND', 404)
      const answer = await this.#o.nodes.drain(node)
      await this.#o.state.refreshNode(node)
      sendJson(res, 202, answer)
      return true
    }
    const action = DEPLOYMENT_ACTION.exec(path)
    if (action !== null) {
      if (method !== 'POST') return methodNotAllowed(res, 'POST')
      const auth = this.#require(req)
      if (auth.kind === 'session') this.#checkCsrf(req, auth.session, headerValue(req.headers['x-csrf-token']))
      const [, app = '', id = '', verb] = action
      if (verb === 'switch') {
        req.resume()
        sendJson(res, 200, await this.#o.deployments.switchTo(app, id, auth.kind))
      } else {
        const deadline = await readDeadline(req)
        sendJson(res, 202, await this.#o.deployments.drain(app, id, deadline, auth.kind))
      }
      return true
    }
    return false
  }

  /** The caller's auth, or a 401 RouterError. */
  #require(req: IncomingMessage): AdminAuth {
    const auth = this.authenticate(req)
    if (auth === undefined) throw unauthorized(this.#o.token)
    return auth
  }

  #checkCsrf(req: IncomingMessage, session: AdminSession, given: string | undefined): void {
    if (!originMatches(req, true)) throw new RouterError('cross-origin request refused: Origin must be this admin listener', 'CSRF_ORIGIN', 403)
    if (!csrfMatches(given, session)) throw new RouterError('missing or wrong CSRF token', 'CSRF_TOKEN', 403)
  }

  async #login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A login from another site would log the victim in as us (login CSRF): same-origin only when the browser says.
    if (!originMatches(req, false)) throw new RouterError('cross-origin request refused: Origin must be this admin listener', 'CSRF_ORIGIN', 403)
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
    if (type !== 'application/x-www-form-urlencoded') throw new RouterError('send the login form as application/x-www-form-urlencoded', 'UNSUPPORTED_MEDIA_TYPE', 415)
    const form = await readForm(req)
    if (!secretMatches(form.get('token') ?? undefined, this.#o.token)) {
      html(res, 401, loginPage(this.#o.token === undefined ? 'Logging in is disabled: ADMIN_TOKEN is not set on this router.' : 'Wrong token.'))
      return
    }
    this.#sessions.delete(sessionIdFromCookie(req.headers.cookie))
    const s = this.#sessions.create()
    res.writeHead(303, { location: '/admin/', 'set-cookie': sessionCookie(s.id, this.#ttlMs / 1000, isHttps(req)), 'cache-control': 'no-store', 'content-length': 0 })
    res.end()
  }
}

export function unauthorized(token: string | undefined): RouterError {
  return new RouterError(token === undefined ? 'admin endpoints are disabled (ADMIN_TOKEN unset)' : 'missing or wrong bearer token', 'UNAUTHORIZED', 401, { 'www-authenticate': 'Bearer realm="router-admin"' })
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/** Served over HTTPS: a TLS socket, or a TLS-terminating proxy in front that says so. */
function isHttps(req: IncomingMessage): boolean {
  return ('encrypted' in req.socket && req.socket.encrypted === true) || headerValue(req.headers['x-forwarded-proto'])?.toLowerCase() === 'https'
}

/**
 * Origin (or, without it, Referer) names this listener: the scheme and Host
 * the request came to. `required`: a request with neither is refused.
 */
function originMatches(req: IncomingMessage, required: boolean): boolean {
  const host = headerValue(req.headers.host)
  let origin = headerValue(req.headers.origin)
  if (origin === undefined) {
    const referer = headerValue(req.headers.referer)
    if (referer !== undefined) {
      try {
        origin = new URL(referer).origin
      } catch {
        return false
      }
    }
  }
  if (origin === undefined) return !required
  if (host === undefined) return false
  return origin === `${isHttps(req) ? 'https' : 'http'}://${host}`
}

/** A drain's optional JSON body `{"deadline": "15m"}`: its deadline text, or undefined for none. */
async function readDeadline(req: IncomingMessage): Promise<string | undefined> {
  const text = await readBody(req)
  if (text.trim() === '') return undefined
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/json') throw new RouterError('send the drain options as application/json', 'UNSUPPORTED_MEDIA_TYPE', 415)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new RouterError('body is not JSON', 'BAD_REQUEST', 400)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RouterError('body must be a JSON object {"deadline"?}', 'BAD_REQUEST', 400)
  for (const k of Object.keys(body)) if (k !== 'deadline') throw new RouterError(`unknown field ${JSON.stringify(k)} (deadline)`, 'BAD_REQUEST', 400)
  const deadline: unknown = 'deadline' in body ? body.deadline : undefined
  if (deadline !== undefined && typeof deadline !== 'string') throw new RouterError('deadline: expected a string such as "15m" or an ISO time', 'INVALID_DEADLINE', 400)
  return deadline
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(req))
}

/** The request body as UTF-8, at most MAX_FORM_BYTES. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const data of req) {
    const chunk: unknown = data
    if (!Buffer.isBuffer(chunk)) continue
    size += chunk.length
    if (size > MAX_FORM_BYTES) throw new RouterError(`body larger than ${MAX_FORM_BYTES} bytes`, 'PAYLOAD_TOO_LARGE', 413)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', 'content-length': 0 })
  res.end()
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { ...HTML_HEADERS, 'content-length': Buffer.byteLength(body) })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

function methodNotAllowed(res: ServerResponse, allow: string): true {
  res.req.resume()
  sendJson(res, 405, { error: 'method not allowed', code: 'METHOD_NOT_ALLOWED' }, { allow })
  return true
}
