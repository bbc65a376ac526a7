// Rules on the request line and Host field, checked before route matching
// (issue 13, item 4). Pure functions; each refusal is a RouterError with a
// JSON body and a 4xx status, never a 5xx for a client's mistake:
//   - a fragment in the request target → 400 INVALID_REQUEST_TARGET (a client
//     never sends one; we refuse it rather than silently drop it);
//   - dot segments in the path after the route's capture are resolved as in
//     RFC 3986 §5.2.4, `%2e`/`%2E` counting as a dot; a path that would climb
//     above the captured prefix → 400 INVALID_REQUEST_TARGET;
//   - no Host on HTTP/1.1, or more than one Host → 400 INVALID_HOST;
//   - CONNECT and TRACE → 405 METHOD_NOT_ALLOWED with Allow.

import { InvalidHostError, InvalidRequestTargetError, MethodNotAllowedError } from '../errors.js'

/** What the router forwards (any other token method is forwarded too); sent as Allow with 405. */
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'

/** CONNECT (tunnels) and TRACE (echoes headers back, e.g. cookies) are not proxied. */
export function checkMethod(method: string): void {
  if (method === 'CONNECT' || method === 'TRACE') throw new MethodNotAllowedError(method, ALLOWED_METHODS)
}

/** Host rules on the raw header list ([name, value, …]): exactly one on HTTP/1.1, at most one on HTTP/1.0. */
export function checkHost(httpVersion: string, rawHeaders: readonly string[]): void {
  let hosts = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]
    if (name !== undefined && name.length === 4 && name.toLowerCase() === 'host') hosts++
  }
  if (hosts > 1) throw new InvalidHostError('the request has more than one Host header')
  if (hosts === 0 && httpVersion === '1.1') throw new InvalidHostError('an HTTP/1.1 request needs a Host header')
}

/** A fragment is never part of a request target (RFC 9112 §3.2). */
export function checkNoFragment(target: string): void {
  if (target.includes('#')) throw new InvalidRequestTargetError('the request target contains a fragment (#)')
}

/** `.`, `%2e` or `%2E`. */
function isDot(seg: string): boolean {
  return seg === '.' || (seg.length === 3 && seg.charCodeAt(0) === 37 && seg.charCodeAt(1) === 50 && (seg.charCodeAt(2) | 32) === 101)
}

/** `..` with each dot written as `.`, `%2e` or `%2E`. */
function isDotDot(seg: string): boolean {
  switch (seg.length) {
    case 2:
      return seg === '..'
    case 4:
      return (isDot(seg.slice(0, 1)) && isDot(seg.slice(1))) || (isDot(seg.slice(0, 3)) && isDot(seg.slice(3)))
    case 6:
      return isDot(seg.slice(0, 3)) && isDot(seg.slice(3))
    default:
      return false
  }
}

/**
 * Resolve dot segments in `path` (a path that starts with `/`, optionally
 * followed by `?query`, which is left alone) as RFC 3986 §5.2.4 does, taking
 * `%2e`/`%2E` for a dot. Throws InvalidRequestTargetError when a `..` would go
 * above the start of `path`. Returns `path` itself when there is nothing to do.
 */
export function resolveDotSegments(path: string): string {
  const q = path.indexOf('?')
  const p = q === -1 ? path : path.slice(0, q)
  // A dot segment starts right after a slash: '/.' or '/%2e'.
  if (!p.includes('/.') && !/\/%2e/i.test(p)) return path
  const segs = p.split('/')
  const out: string[] = []
  const last = segs.length - 1
  for (let i = 1; i <= last; i++) {
    const seg = segs[i] ?? ''
    if (isDot(seg)) {
      if (i === last) out.push('')
    } else if (isDotDot(seg)) {
      if (out.length === 0) throw new InvalidRequestTargetError('the path climbs above its route prefix (..)')
      out.pop()
      if (i === last) out.push('')
    } else out.push(seg)
  }
  const resolved = `/${out.join('/')}`
  return q === -1 ? resolved : resolved + path.slice(q)
}
