// The one place where upstream failures become statuses: connect failures,
// resets and responses the router will not forward → 502, timeouts → 504; and
// which failures may be retried elsewhere. Knows undici's error codes (HTTP)
// and Node's socket errnos (WebSocket handshakes on raw sockets).

import { UpstreamError, UpstreamTimeoutError, type RouterError } from '../errors.js'
import type { UpstreamErrorReason } from '../admin/metrics.js'

export interface ClassifiedUpstreamError {
  readonly reason: UpstreamErrorReason
  /** The request never reached the upstream: safe to retry on another instance. */
  readonly beforeSend: boolean
  /** The client went away; nothing to answer. */
  readonly clientAborted: boolean
  readonly error: RouterError
}

function codeOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code
  return ''
}

const CONNECT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'])

/** undici's codes for a response it could not read as HTTP/1.1 (plus ours for one the router will not forward). */
const PROTOCOL_CODES: ReadonlySet<string> = new Set(['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_HEADERS_OVERFLOW', 'UND_ERR_RES_EXCEEDED_MAX_SIZE', 'UPSTREAM_FRAMING'])

/** undici SocketError messages that are about the response, not the connection ending. */
const BAD_RESPONSE = /^bad (response|upgrade)$/

export function classifyUpstreamError(err: unknown): ClassifiedUpstreamError {
  const code = codeOf(err)
  const msg = err instanceof Error ? err.message : String(err)
  if (err instanceof Error && err.name === 'AbortError') {
    return { reason: 'other', beforeSend: false, clientAborted: true, error: new UpstreamError('request aborted by the client') }
  }
  if (CONNECT_CODES.has(code)) {
    return { reason: 'connect', beforeSend: true, clientAborted: false, error: new UpstreamError(`upstream connection failed (${code})`, { cause: err }) }
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return { reason: 'timeout', beforeSend: true, clientAborted: false, error: new UpstreamTimeoutError('upstream connect timed out', { cause: err }) }
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return { reason: 'timeout', beforeSend: false, clientAborted: false, error: new UpstreamTimeoutError('upstream did not answer in time', { cause: err }) }
  }
  if (PROTOCOL_CODES.has(code) || code.startsWith('HPE_') || (err instanceof Error && err.name === 'HTTPParserError') || (code === 'UND_ERR_SOCKET' && BAD_RESPONSE.test(msg))) {
    return { reason: 'protocol', beforeSend: false, clientAborted: false, error: new UpstreamError('upstream sent an invalid response', { cause: err }) }
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') {
    return { reason: 'reset', beforeSend: false, clientAborted: false, error: new UpstreamError('upstream closed the connection', { cause: err }) }
  }
  if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') {
    return { reason: 'other', beforeSend: false, clientAborted: false, error: new UpstreamError('the router is shutting down', { cause: err }) }
  }
  return { reason: 'other', beforeSend: false, clientAborted: false, error: new UpstreamError(`upstream request failed: ${code || msg}`, { cause: err }) }
}

/**
 * A kept-alive connection the upstream had already closed: it ended (FIN)
 * before any byte of this request's response, and it had carried earlier
 * responses (undici's SocketError reports the socket's byte counts).
 */
export function isStaleConnection(err: unknown): boolean {
  if (codeOf(err) !== 'UND_ERR_SOCKET' || !(err instanceof Error) || err.message !== 'other side closed' || !('socket' in err)) return false
  const socket: unknown = err.socket
  return typeof socket === 'object' && socket !== null && 'bytesRead' in socket && typeof socket.bytesRead === 'number' && socket.bytesRead > 0
}
