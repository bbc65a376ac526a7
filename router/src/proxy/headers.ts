// Header rewriting for both directions: strips hop-by-hop headers (RFC 9110
// §7.6.1, plus those named in Connection) and adds X-Forwarded-*,
// X-Request-Id and the trace context (traceparent with the router's span id,
// tracestate when kept) on the way up. X-Amzn-Trace-Id passes unchanged.

import type { IncomingHttpHeaders } from 'node:http'
import { newRequestId } from './request-id.js'
import type { TraceContext } from './trace-context.js'

/** `Connection: upgrade` names the upgrade header (already hop-by-hop). */
const UPGRADE_ONLY: ReadonlySet<string> = new Set(['upgrade'])

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  // 100-continue is between the client and the router (Node answers it); undici refuses to send it.
  'expect',
])

/** Names listed in a Connection header value, lower-cased. */
function connectionTokens(value: string | readonly string[] | undefined): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined
  // Fast path for the common values, which name no extra headers.
  if (typeof value === 'string') {
    const v = value.length <= 10 ? value.toLowerCase() : ''
    if (v === 'keep-alive' || v === 'close' || v === 'upgrade') return v === 'upgrade' ? UPGRADE_ONLY : undefined
  }
  const joined = typeof value === 'string' ? value : value.join(',')
  const out = new Set<string>()
  for (const t of joined.split(',')) {
    const name = t.trim().toLowerCase()
    if (name !== '' && name !== 'close' && name !== 'keep-alive') out.add(name)
  }
  return out.size > 0 ? out : undefined
}

const REQUEST_ID = /^[\w.:@/+=-]{1,200}$/

/** A client-sent X-Request-Id is kept when it is sane, else a new one is made. */
export function requestIdFrom(headers: IncomingHttpHeaders): string {
  const v = headers['x-request-id']
  return typeof v === 'string' && REQUEST_ID.test(v) ? v : newRequestId()
}

export interface ForwardContext {
  readonly clientIp: string
  readonly proto: 'http' | 'https'
  readonly requestId: string
  /** Stripped path prefix; '' when none. */
  readonly prefix: string
  /** Keep `upgrade` and `connection: upgrade` (WebSocket handshake). */
  readonly upgrade: boolean
  /** traceparent / tracestate sent upstream (proxy/trace-context.ts). */
  readonly trace: TraceContext
  /** A Set-Cookie the router adds to a WebSocket handshake's answer (deployment affinity); HTTP responses take it from the ServerResponse. */
  readonly setCookie?: string | undefined
}

/** Client headers the router replaces with its own values going up. */
const REPLACED: ReadonlySet<string> = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-prefix', 'x-request-id', 'forwarded', 'traceparent', 'tracestate'])

/** Build the upstream request headers from the client's. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, ctx: ForwardContext): Record<string, string | string[]> {
  const extra = connectionTokens(incoming.connection)
  const out: Record<string, string | string[]> = {}
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || REPLACED.has(name) || extra?.has(name)) continue
    const v = incoming[name]
    if (v !== undefined) out[name] = v
  }
  const xff = incoming['x-forwarded-for']
  const prior = Array.isArray(xff) ? xff.join(', ') : xff
  out['x-forwarded-for'] = prior !== undefined && prior !== '' ? `${prior}, ${ctx.clientIp}` : ctx.clientIp
  // Behind an ALB the scheme the client used arrives in X-Forwarded-Proto; keep it if sane.
  const fp = incoming['x-forwarded-proto']
  out['x-forwarded-proto'] = fp === 'https' || fp === 'http' ? fp : ctx.proto
  const host = incoming['x-forwarded-host'] ?? incoming.host
  if (typeof host === 'string') out['x-forwarded-host'] = host
  if (ctx.prefix !== '') out['x-forwarded-prefix'] = ctx.prefix
  out['x-request-id'] = ctx.requestId
  out.traceparent = ctx.trace.traceparent
  if (ctx.trace.tracestate !== undefined) out.tracestate = ctx.trace.tracestate
  if (ctx.upgrade) {
    out.connection = 'Upgrade'
    const up = incoming.upgrade
    if (up !== undefined) out.upgrade = up
  }
  return out
}

/**
 * The upstream's response header fields (as undici parsed them: lower-case
 * names, repeated fields as arrays) as a flat [name, value, …] list for the
 * client, minus hop-by-hop ones and those the upstream's Connection names,
 * with our X-Request-Id. `dropLength` removes Content-Length when it did not
 * frame the body (proxy/upstream/framing.ts decides).
 */
export function downstreamHeaders(headers: Readonly<Record<string, string | readonly string[] | undefined>>, requestId: string, dropLength: boolean): string[] {
  const extra = connectionTokens(headers.connection)
  const out: string[] = []
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'x-request-id' || extra?.has(name) || (dropLength && name === 'content-length')) continue
    if (typeof value === 'string') out.push(name, value)
    else for (const v of value) out.push(name, v)
  }
  out.push('x-request-id', requestId)
  return out
}
