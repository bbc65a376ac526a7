// The one place where upstream failures become statuses: connect failures and
// resets → 502, timeouts → 504; and which failures may be retried elsewhere.

import { UpstreamError, UpstreamTimeoutError, type RouterError } from '../errors.js'
import type { UpstreamErrorReason } from '../admin/metrics.js'
import { UpstreamClientError } from './upstream/errors.js'

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

const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'])

/** Our upstream client's coded errors. */
function classifyClientError(err: UpstreamClientError): ClassifiedUpstreamError {
  const { beforeSend } = err
  switch (err.code) {
    case 'UPSTREAM_CONNECT_TIMEOUT':
      return { reason: 'timeout', beforeSend, clientAborted: false, error: new UpstreamTimeoutError('upstream connect timed out', { cause: err }) }
    case 'UPSTREAM_HEADERS_TIMEOUT':
    case 'UPSTREAM_BODY_TIMEOUT':
      return { reason: 'timeout', beforeSend, clientAborted: false, error: new UpstreamTimeoutError('upstream did not answer in time', { cause: err }) }
    case 'UPSTREAM_PROTOCOL':
      return { reason: 'protocol', beforeSend, clientAborted: false, error: new UpstreamError('upstream sent an invalid response', { cause: err }) }
    case 'UPSTREAM_RESET':
      return { reason: 'reset', beforeSend, clientAborted: false, error: new UpstreamError('upstream closed the connection', { cause: err }) }
    case 'UPSTREAM_CLOSED':
      return { reason: 'other', beforeSend, clientAborted: false, error: new UpstreamError('the router is shutting down', { cause: err }) }
  }
}

export function classifyUpstreamError(err: unknown): ClassifiedUpstreamError {
  if (err instanceof UpstreamClientError) return classifyClientError(err)
  const code = codeOf(err)
  const msg = err instanceof Error ? err.message : String(err)
  if (err instanceof Error && err.name === 'AbortError') {
    return { reason: 'other', beforeSend: false, clientAborted: true, error: new UpstreamError('request aborted by the client') }
  }
  if (CONNECT_CODES.has(code)) {
    return { reason: 'connect', beforeSend: true, clientAborted: false, error: new UpstreamError(`upstream connection failed (${code})`, { cause: err }) }
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return { reason: 'reset', beforeSend: false, clientAborted: false, error: new UpstreamError('upstream closed the connection', { cause: err }) }
  }
  return { reason: 'other', beforeSend: false, clientAborted: false, error: new UpstreamError(`upstream request failed: ${code || msg}`, { cause: err }) }
}
