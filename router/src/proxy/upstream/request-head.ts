// Serialises the request line and header fields sent upstream. Header values
// arrive from the router already validated by Node's parser; the path is
// checked here so no caller can smuggle a second request through it.

import type { UpstreamRequestSpec } from './exchange.js'

const BAD_TARGET = /[^\x21-\x7e\x80-\xff]/

const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/** Methods that may be sent again after a failure without changing the outcome (RFC 9110 §9.2.2). */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method)
}

/** True when the request body must be sent with chunked framing. */
export function sendsChunked(spec: UpstreamRequestSpec): boolean {
  return spec.body !== null && spec.headers['content-length'] === undefined
}

/** The request head, latin1, ending with the blank line. Throws TypeError on an unusable path. */
export function requestHead(spec: UpstreamRequestSpec, chunked: boolean): string {
  const path = spec.path
  if (path === '' || BAD_TARGET.test(path) || (path[0] !== '/' && path !== '*')) throw new TypeError(`invalid request target: ${JSON.stringify(path.slice(0, 100))}`)
  let out = `${spec.method} ${path} HTTP/1.1\r\n`
  let host = false
  const headers = spec.headers
  for (const name in headers) {
    const v = headers[name]
    if (v === undefined || name === 'transfer-encoding') continue
    if (name === 'host') host = true
    if (typeof v === 'string') out += `${name}: ${v}\r\n`
    else for (const item of v) out += `${name}: ${item}\r\n`
  }
  if (!host) out += `host: ${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}\r\n`
  if (chunked) out += 'transfer-encoding: chunked\r\n'
  return `${out}\r\n`
}
