// The access log's fields, written straight into JSON text: one line per HTTP
// request and one per WebSocket (when it closes, or when its upgrade was
// refused). No object is built per request only to be stringified: values go
// into a template; strings a client chose (path, user agent, X-Amzn-Trace-Id)
// or discovery and the route table named (instance, upstream, route) are
// escaped as JSON.stringify would (json-text.ts: quoted as they are when there
// is nothing to escape; route names, upstreams, instance ids and user agents
// are escaped once and remembered, in bounded caches), the others are safe by
// construction (hex ids, checked request ids, numbers, error codes, IP
// addresses, HTTP methods llhttp accepted). Milliseconds are written from
// integers (json-text.ts).
// logger.accessJson adds time, level, msg and the base fields, pre-escaped.

import type { IncomingHttpHeaders } from 'node:http'
import type { TraceContext } from './proxy/trace-context.js'
import { JsonStrings, jsonString, msText } from './json-text.js'

/** Longest user agent / X-Amzn-Trace-Id logged (one client cannot write huge lines). */
const MAX_HEADER_LOGGED = 256

/** Route names, upstream addresses and instance ids: a small set, each escaped once. */
const known = new JsonStrings()
/** User agents: most lines carry one of a few (at most 256 kept: up to ≈ 130 KB). */
const agents = new JsonStrings(256)

/** A header value as JSON text, capped. */
function headerText(v: string | string[], strings: JsonStrings | undefined): string {
  const s = typeof v === 'string' ? v : v.join(', ')
  const capped = s.length > MAX_HEADER_LOGGED ? `${s.slice(0, MAX_HEADER_LOGGED)}…` : s
  return strings !== undefined ? strings.get(capped) : jsonString(capped)
}

/** `,"userAgent":"…"`, '' when absent. */
function userAgentField(v: string | string[] | undefined): string {
  return v === undefined ? '' : `,"userAgent":${headerText(v, agents)}`
}

/** `,"requestId":…,"traceId":…,"spanId":…[,"parentId":…][,"amznTraceId":…]` — the ids of a request. */
function idFields(requestId: string, trace: TraceContext, headers: IncomingHttpHeaders): string {
  const tp = trace.traceparent
  const parent = trace.parentId !== undefined ? `,"parentId":"${trace.parentId}"` : ''
  const amzn = headers['x-amzn-trace-id']
  return `,"requestId":"${requestId}","traceId":"${tp.substring(3, 35)}","spanId":"${tp.substring(36, 52)}"${parent}${amzn !== undefined ? `,"amznTraceId":${headerText(amzn, undefined)}` : ''}`
}

/**
 * The fields of an HTTP access-log line. Takes positional values (not an
 * object) so the hot path builds nothing but the string. `upstreamTtfbMs`:
 * from the last attempt's dispatch to the upstream's response head, < 0 when
 * there was none.
 */
export function httpAccessJson(
  requestId: string,
  trace: TraceContext,
  headers: IncomingHttpHeaders,
  method: string,
  path: string,
  route: string,
  status: number,
  durationMs: number,
  upstreamTtfbMs: number,
  upstream: string | undefined,
  instance: string | undefined,
  attempts: number,
  error: string | undefined,
  client: string,
  bytesIn: number,
  bytesOut: number,
): string {
  const up = upstream !== undefined ? `,"upstream":${known.get(upstream)}` : ''
  const inst = instance !== undefined ? `,"instance":${known.get(instance)}` : ''
  const ttfb = upstreamTtfbMs >= 0 ? `,"upstreamTtfbMs":${msText(upstreamTtfbMs)}` : ''
  const err = error !== undefined ? `,"error":"${error}"` : ''
  return (
    `${idFields(requestId, trace, headers)},"method":"${method}","path":${jsonString(path)},"route":${known.get(route)},"status":${status}` +
    `,"durationMs":${msText(durationMs)}${ttfb}${up}${inst},"attempts":${attempts},"retries":${attempts > 1 ? attempts - 1 : 0}${err}` +
    `,"client":"${client}"${userAgentField(headers['user-agent'])},"bytesIn":${bytesIn},"bytesOut":${bytesOut}`
  )
}

/**
 * The part of a WebSocket's line known when its upgrade is answered: ids,
 * path, route, status, upstream, client, user agent, the upstream's time to
 * its 101 (< 0: none). Built once per WebSocket and kept, flattened, until it
 * closes (one string instead of the several the fields came from).
 */
export function wsAccessHead(
  requestId: string,
  trace: TraceContext,
  headers: IncomingHttpHeaders,
  path: string,
  route: string,
  status: number,
  upstream: string | undefined,
  instance: string | undefined,
  client: string,
  upstreamTtfbMs: number,
): string {
  const up = upstream !== undefined ? `,"upstream":${known.get(upstream)}` : ''
  const inst = instance !== undefined ? `,"instance":${known.get(instance)}` : ''
  const ttfb = upstreamTtfbMs >= 0 ? `,"upstreamTtfbMs":${msText(upstreamTtfbMs)}` : ''
  const s = `${idFields(requestId, trace, headers)},"kind":"websocket","path":${jsonString(path)},"route":${known.get(route)},"status":${status}${ttfb}${up}${inst},"client":"${client}"${userAgentField(headers['user-agent'])}`
  // Reading a character flattens V8's rope of the template's pieces into one string.
  s.charCodeAt(0)
  return s
}

/** The rest of an established WebSocket's line, when it has closed. Close codes: 0 = none seen. */
export function wsAccessEnd(closedBy: string, durationMs: number, bytesFromClient: number, bytesFromUpstream: number, clientCloseCode: number, upstreamCloseCode: number): string {
  const cc = clientCloseCode !== 0 ? `,"clientCloseCode":${clientCloseCode}` : ''
  const uc = upstreamCloseCode !== 0 ? `,"upstreamCloseCode":${upstreamCloseCode}` : ''
  return `,"closedBy":"${closedBy}","durationMs":${msText(durationMs)},"bytesFromClient":${bytesFromClient},"bytesFromUpstream":${bytesFromUpstream}${cc}${uc}`
}

/** The rest of a WebSocket line whose upgrade did not become a tunnel. */
export function wsAccessRefused(error: string | undefined, durationMs: number): string {
  return `${error !== undefined ? `,"error":"${error}"` : ''},"durationMs":${msText(durationMs)}`
}
