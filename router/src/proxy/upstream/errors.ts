// Errors of the upstream HTTP/1.1 client. Each has a stable `code`;
// `beforeSend` says no byte of the request reached the upstream, so the
// request may be retried on another instance.

export type UpstreamClientErrorCode =
  | 'UPSTREAM_CONNECT_TIMEOUT'
  | 'UPSTREAM_HEADERS_TIMEOUT'
  | 'UPSTREAM_BODY_TIMEOUT'
  | 'UPSTREAM_PROTOCOL'
  | 'UPSTREAM_RESET'
  | 'UPSTREAM_CLOSED'

export class UpstreamClientError extends Error {
  readonly code: UpstreamClientErrorCode
  readonly beforeSend: boolean

  constructor(code: UpstreamClientErrorCode, message: string, beforeSend = false) {
    super(message)
    this.name = 'UpstreamClientError'
    this.code = code
    this.beforeSend = beforeSend
  }
}

/** A malformed response: the connection cannot be trusted and is closed. */
export function protocolError(message: string): UpstreamClientError {
  return new UpstreamClientError('UPSTREAM_PROTOCOL', `invalid upstream response: ${message}`)
}

/** The error a request rejects with when its signal fired. */
export function abortError(): Error {
  return Object.assign(new Error('the request was aborted'), { name: 'AbortError' })
}
