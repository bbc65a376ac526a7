// The access log's fields, written straight into JSON text: one line per HTTP
// request and one per WebSocket (when it closes, or when its upgrade was
// refused). No object is built per request only to be stringified: values go
// into a template; strings a client chose (path, user agent, X-Amzn-Trace-Id)
// or discovery and the route table named (instance, upstream, route) are
// escaped as JSON.stringify would (json-text.ts: quoted as they are when there
// is nothing to escape), the others are safe by construction (hex ids, checked
// request ids, numbers, error codes, IP addresses, HTTP methods llhttp
// accepted). Values from a small set (method, route, status, upstream and
// instance, attempts, client address, user agent, error code) come as whole
// field texts from tables and bounded caches, and milliseconds from integers
// (json-text.ts): a line is a rope of about 25 pieces, not 45, which also
// makes it cheaper to flatten when it is written. logger.accessJson adds time,
// level, msg and the base fields, pre-escaped.

import type { IncomingHttpHeaders } from 'node:http'
import type { TraceContext } from './proxy/trace-context.js'
import { FieldTexts, MsField, isPlain, jsonString } from './json-text.js'

/** Longest user agent / X-Amzn-Trace-Id logged (one client cannot write huge lines). */
const MAX_HEADER_LOGGED = 256

/** A header value as logged: repeated fields joined, capped. */
function capped(v: string | string[]): string {
  const s = typeof v === 'string' ? v : v.join(', ')
  return s.length > MAX_HEADER_LOGGED ? `${s.slice(0, MAX_HEADER_LOGGED)}…` : s
}

// --- whole field texts, made once --------------------------------------------

/** `","method":"GET","path":"` — the path that follows needs no escaping, its opening quote is here. */
const methodBeforePlainPath = new FieldTexts((m) => `,"method":"${m}","path":"`)
/** `,"method":"GET","path":` — an escaped path follows. */
const methodBeforePath = new FieldTexts((m) => `,"method":"${m}","path":`)
/** `","route":"…"` — closes a plain path's quote. */
const routeAfterPlainPath = new FieldTexts((r) => `","route":${jsonString(r)}`)
/** `,"route":"…"` */
const routeField = new FieldTexts((r) => `,"route":${jsonString(r)}`)
const clientField = new FieldTexts((c) => `,"client":"${c}"`)
const errorField = new FieldTexts((e) => `,"error":"${e}"`)
/** User agents: most lines carry one of a few (at most 256 kept: up to ≈ 130 KB). */
const userAgentField = new FieldTexts((ua) => `,"userAgent":${jsonString(ua)}`, 256)

/** `,"status":100` … `,"status":599`. */
const STATUS: readonly string[] = Array.from({ length: 600 }, (_, i) => `,"status":${i}`)
/** `,"attempts":0,"retries":0` … for up to 9 attempts. */
const ATTEMPTS: readonly string[] = Array.from({ length: 10 }, (_, i) => `,"attempts":${i},"retries":${i > 1 ? i - 1 : 0}`)

const durationMs = new MsField('durationMs')
const upstreamTtfbMs = new MsField('upstreamTtfbMs')

function statusField(status: number): string {
  return STATUS[status] ?? `,"status":${status}`
}

function attemptsField(attempts: number): string {
  return ATTEMPTS[attempts] ?? `,"attempts":${attempts},"retries":${attempts > 1 ? attempts - 1 : 0}`
}

/** `,"upstream":"…","instance":"…"` per upstream address (and its instance id); at most 1024 kept. */
const endpointTexts = new Map<string, { readonly instance: string | undefined; readonly text: string }>()

function endpointFields(upstream: string | undefined, instance: string | undefined): string {
  if (upstream === undefined) return instance !== undefined ? `,"instance":${jsonString(instance)}` : ''
  let e = endpointTexts.get(upstream)
  if (e === undefined || e.instance !== instance) {
    if (endpointTexts.size >= 1024) endpointTexts.clear()
    e = { instance, text: `,"upstream":${jsonString(upstream)}${instance !== undefined ? `,"instance":${jsonString(instance)}` : ''}` }
    endpointTexts.set(upstream, e)
  }
  return e.text
}

/** `,"method":…,"path":…,"route":…` */
function methodPathRoute(method: string, path: string, route: string): string {
  return isPlain(path) ? `${methodBeforePlainPath.get(method)}${path}${routeAfterPlainPath.get(route)}` : `${methodBeforePath.get(method)}${JSON.stringify(path)}${routeField.get(route)}`
}

/** `,"path":…,"route":…` (WebSocket lines have no method). */
function pathRoute(path: string, route: string): string {
  return isPlain(path) ? `,"path":"${path}${routeAfterPlainPath.get(route)}` : `,"path":${JSON.stringify(path)}${routeField.get(route)}`
}

/** `,"requestId":…,"traceId":…,"spanId":…[,"parentId":…][,"amznTraceId":…]` — the ids of a request. */
function idFields(requestId: string, trace: TraceContext, headers: IncomingHttpHeaders): string {
  const tp = trace.traceparent
  const ids = `,"requestId":"${requestId}","traceId":"${tp.substring(3, 35)}","spanId":"${tp.substring(36, 52)}"`
  const parent = trace.parentId
  const amzn = headers['x-amzn-trace-id']
  if (parent === undefined && amzn === undefined) return ids
  return `${ids}${parent !== undefined ? `,"parentId":"${parent}"` : ''}${amzn !== undefined ? `,"amznTraceId":${jsonString(capped(amzn))}` : ''}`
}

function userAgent(headers: IncomingHttpHeaders): string {
  const ua = headers['user-agent']
  return ua !== undefined ? userAgentField.get(capped(ua)) : ''
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
  durationMsValue: number,
  upstreamTtfbMsValue: number,
  upstream: string | undefined,
  instance: string | undefined,
  attempts: number,
  error: string | undefined,
  client: string,
  bytesIn: number,
  bytesOut: number,
): string {
  const ttfb = upstreamTtfbMsValue >= 0 ? upstreamTtfbMs.text(upstreamTtfbMsValue) : ''
  const err = error !== undefined ? errorField.get(error) : ''
  return (
    `${idFields(requestId, trace, headers)}${methodPathRoute(method, path, route)}${statusField(status)}${durationMs.text(durationMsValue)}${ttfb}` +
    `${endpointFields(upstream, instance)}${attemptsField(attempts)}${err}${clientField.get(client)}${userAgent(headers)},"bytesIn":${bytesIn},"bytesOut":${bytesOut}`
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
  upstreamTtfbMsValue: number,
): string {
  const ttfb = upstreamTtfbMsValue >= 0 ? upstreamTtfbMs.text(upstreamTtfbMsValue) : ''
  const s = `${idFields(requestId, trace, headers)},"kind":"websocket"${pathRoute(path, route)}${statusField(status)}${ttfb}${endpointFields(upstream, instance)}${clientField.get(client)}${userAgent(headers)}`
  // Reading a character flattens V8's rope of the template's pieces into one string.
  s.charCodeAt(0)
  return s
}

/** The rest of an established WebSocket's line, when it has closed. Close codes: 0 = none seen. */
export function wsAccessEnd(closedBy: string, durationMsValue: number, bytesFromClient: number, bytesFromUpstream: number, clientCloseCode: number, upstreamCloseCode: number): string {
  const cc = clientCloseCode !== 0 ? `,"clientCloseCode":${clientCloseCode}` : ''
  const uc = upstreamCloseCode !== 0 ? `,"upstreamCloseCode":${upstreamCloseCode}` : ''
  return `,"closedBy":"${closedBy}"${durationMs.text(durationMsValue)},"bytesFromClient":${bytesFromClient},"bytesFromUpstream":${bytesFromUpstream}${cc}${uc}`
}

/** The rest of a WebSocket line whose upgrade did not become a tunnel. */
export function wsAccessRefused(error: string | undefined, durationMsValue: number): string {
  return `${error !== undefined ? errorField.get(error) : ''}${durationMs.text(durationMsValue)}`
}
