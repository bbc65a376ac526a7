// HTTP and upgrade handling. Plain requests get /status, /health (liveness:
// 200 while ACTIVE or DRAINING) and /ready (200 only while ACTIVE), as JSON;
// upgrades to /ws/<sessionId> are checked (path, session id, handshake
// headers, node status) before `ws` takes them over; every refusal is a real
// `HTTP/1.1 <status>` response with a JSON `{error, code}` body, written on
// the raw socket for upgrades, as `ws` does.

import { createServer, STATUS_CODES } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { MediaNodeError, invalidSessionId, methodNotAllowed, notAccepting, notFound, upgradeRequired, wrongNode } from './errors.js'
import type { DrainReport } from './drain.js'
import type { Logger } from './log.js'
import type { SessionHub } from './sessions.js'
import type { TaskProtectionReport } from './task-protection.js'

/** Session ids: 1-128 of A-Z a-z 0-9 '-' '_' '.'. */
const SESSION_ID = /^[A-Za-z0-9._-]{1,128}$/
/** A Sec-WebSocket-Key: base64 of 16 bytes. */
const WS_KEY = /^[+/0-9A-Za-z]{22}==$/

export type NodeStatus = 'STARTING' | 'ACTIVE' | 'DRAINING'

/** The body of GET /status. */
export interface StatusBody {
  nodeId: string
  status: NodeStatus
  activeConnections: number
  sessions: number
  startedAt: string
  /** Present when the node registers in Cloud Map. */
  registration?: { registered: boolean; attempts: number; lastError?: string }
  /** Present once a drain started. */
  drain?: DrainReport
  /** Present when task protection is configured (ECS_AGENT_URI). */
  taskProtection?: TaskProtectionReport
}

export interface MediaServerOptions {
  nodeId: string
  hub: SessionHub
  maxPayloadBytes: number
  /** Retry-After (seconds) on 503 while starting or draining. */
  retryAfterSeconds: number
  status: () => StatusBody
  log: Logger
}

/** True when `value` is an acceptable session id. */
export function isValidSessionId(value: string): boolean {
  return SESSION_ID.test(value)
}

/** Creates the (not yet listening) HTTP server of a media node. */
export function createMediaServer(options: MediaServerOptions): Server {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayloadBytes,
    perMessageDeflate: false,
    clientTracking: false,
  })
  const server = createServer((req, res) => handleRequest(options, req, res))
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {})
    let sessionId: string
    let echo: boolean
    try {
      ;({ sessionId, echo } = checkUpgrade(options, req))
    } catch (err) {
      const error = err instanceof MediaNodeError ? err : new MediaNodeError('internal error', 'INTERNAL', 500)
      options.log({ level: 'info', msg: 'upgrade refused', url: req.url, status: error.statusCode, code: error.code })
      refuseUpgrade(socket, error)
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      options.hub.join(ws, { sessionId, echo, remote: clientAddress(req) })
    })
  })
  server.on('clientError', (err: Error & { code?: string }, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy()
      return
    }
    const error =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? new MediaNodeError('request headers too large', 'HEADERS_TOO_LARGE', 431)
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new MediaNodeError('request timed out', 'REQUEST_TIMEOUT', 408)
          : new MediaNodeError('malformed HTTP request', 'BAD_REQUEST', 400)
    refuseUpgrade(socket, error)
  })
  return server
}

/** Validates an upgrade request; returns the session and echo flag or throws a MediaNodeError. */
function checkUpgrade(options: MediaServerOptions, req: IncomingMessage): { sessionId: string; echo: boolean } {
  const url = parseUrl(req.url)
  const rest = wsPath(url.pathname, options.nodeId)
  if (rest === undefined) throw notFound(url.pathname)
  if (req.method !== 'GET') throw methodNotAllowed(req.method ?? '', 'GET')
  if (!isValidSessionId(rest)) throw invalidSessionId()
  const asked = askedNode(req.headers['x-forwarded-prefix'])
  if (asked !== undefined && asked !== options.nodeId) throw wrongNode(asked, options.nodeId)
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    throw new MediaNodeError('Upgrade header must be "websocket"', 'BAD_UPGRADE', 400)
  }
  const key = req.headers['sec-websocket-key']
  if (key === undefined || !WS_KEY.test(key.trim())) {
    throw new MediaNodeError('missing or invalid Sec-WebSocket-Key', 'BAD_UPGRADE', 400)
  }
  const version = req.headers['sec-websocket-version']
  if (version !== '13' && version !== '8') {
    throw new MediaNodeError('unsupported Sec-WebSocket-Version', 'BAD_UPGRADE', 400, { 'sec-websocket-version': '13, 8' })
  }
  const status = options.status().status
  if (status !== 'ACTIVE') throw notAccepting(status, options.retryAfterSeconds)
  const echoParam = url.searchParams.get('echo')
  return { sessionId: rest, echo: echoParam === '1' || echoParam === 'true' }
}

/** The node id in the router's `X-Forwarded-Prefix: /media/<nodeId>`, if there is one. */
function askedNode(prefix: string | string[] | undefined): string | undefined {
  const value = Array.isArray(prefix) ? prefix[0] : prefix
  const m = value === undefined ? null : /^\/media\/([^/]+)$/.exec(value)
  return m?.[1]
}

/**
 * The session part of a WebSocket path, or undefined when the path is not a
 * WebSocket path. Accepts `/ws/<id>` (the router strips its prefix) and also
 * `/media/<own nodeId>/ws/<id>` for clients that reach the node directly.
 */
function wsPath(pathname: string, nodeId: string): string | undefined {
  const prefixed = `/media/${nodeId}/ws/`
  if (pathname.startsWith(prefixed)) return pathname.slice(prefixed.length)
  if (pathname.startsWith('/ws/')) return pathname.slice('/ws/'.length)
  if (pathname === '/ws') return ''
  return undefined
}

function handleRequest(options: MediaServerOptions, req: IncomingMessage, res: ServerResponse): void {
  const url = parseUrl(req.url)
  const method = req.method ?? ''
  try {
    if (url.pathname === '/status' || url.pathname === '/health' || url.pathname === '/ready') {
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, 'GET, HEAD')
      const status = options.status()
      if (url.pathname === '/status') return sendJson(res, 200, status)
      // /health is liveness (the container health check): a DRAINING node is
      // alive and still serving its sessions, and must not be replaced for
      // failing it. /ready says whether new sessions are accepted.
      const up = url.pathname === '/health' ? status.status !== 'STARTING' : status.status === 'ACTIVE'
      if (!up) {
        return sendJson(res, 503, { error: `node is ${status.status}`, code: 'NODE_UNAVAILABLE', status: status.status }, {
          'retry-after': String(options.retryAfterSeconds),
        })
      }
      return sendJson(res, 200, { status: 'ok', nodeId: status.nodeId, nodeStatus: status.status })
    }
    if (wsPath(url.pathname, options.nodeId) !== undefined) throw upgradeRequired()
    throw notFound(url.pathname)
  } catch (err) {
    const error = err instanceof MediaNodeError ? err : new MediaNodeError('internal error', 'INTERNAL', 500)
    sendJson(res, error.statusCode, error.toBody(), error.headers)
  }
}

/** Writes a JSON response (no body for HEAD), never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(res.req.method === 'HEAD' ? undefined : text)
}

/** Writes `HTTP/1.1 <status> <reason>` with a JSON body on a raw socket, then closes it. */
export function refuseUpgrade(socket: Duplex, error: MediaNodeError): void {
  const body = JSON.stringify(error.toBody())
  const headers: Record<string, string | number> = {
    ...error.headers,
    connection: 'close',
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  }
  const head = [`HTTP/1.1 ${error.statusCode} ${STATUS_CODES[error.statusCode] ?? 'Error'}`]
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`)
  socket.once('finish', () => socket.destroy())
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`)
}

function parseUrl(raw: string | undefined): URL {
  try {
    // Concatenate rather than resolve, so a path like `//x` stays a path.
    return new URL(`http://media-node.invalid${raw?.startsWith('/') ? raw : '/'}`)
  } catch {
    return new URL('http://media-node.invalid/')
  }
}

function clientAddress(req: IncomingMessage): string | undefined {
  const forwarded = req.headers['x-forwarded-for']
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim()
  return first || req.socket.remoteAddress
}
