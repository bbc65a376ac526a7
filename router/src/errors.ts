// Coded errors. Every error the router turns into a response is a RouterError
// with a stable `code` and an HTTP `statusCode`; `toBody()` gives the JSON body.

export class RouterError extends Error {
  readonly code: string
  readonly statusCode: number
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Readonly<Record<string, string>>

  constructor(message: string, code: string, statusCode: number, headers: Record<string, string> = {}, options?: ErrorOptions) {
    super(message, options)
    this.name = 'RouterError'
    this.code = code
    this.statusCode = statusCode
    this.headers = headers
  }

  toBody(): { error: string; code: string } {
    return { error: this.message, code: this.code }
  }
}

/** Formats a 404 lists (a table may hold thousands). */
const FORMATS_SHOWN = 10

/** The path matches no route template. */
export class NoRouteError extends RouterError {
  constructor(formats: readonly string[]) {
    const more = formats.length > FORMATS_SHOWN ? `, … and ${formats.length - FORMATS_SHOWN} more` : ''
    super(`no route for this path; known formats: ${formats.slice(0, FORMATS_SHOWN).join(', ')}${more}`, 'NO_ROUTE', 404)
    this.name = 'NoRouteError'
  }
}

/** A path capture is not a valid DNS label. */
export class InvalidCaptureError extends RouterError {
  constructor(param: string) {
    super(`${param} must be a DNS label: 1-63 characters of a-z, A-Z, 0-9 and '-', not starting or ending with '-'`, 'INVALID_TARGET', 400)
    this.name = 'InvalidCaptureError'
  }
}

/** Discovery says the target does not exist. */
export class TargetNotFoundError extends RouterError {
  constructor(what: string, options?: ErrorOptions) {
    super(`${what} not found`, 'TARGET_NOT_FOUND', 404, {}, options)
    this.name = 'TargetNotFoundError'
  }
}

/** The target exists but has no instance we may send to. */
export class NoHealthyEndpointError extends RouterError {
  constructor(what: string, retryAfterSeconds: number, detail = 'has no healthy instance') {
    super(`${what} ${detail}`, 'NO_HEALTHY_ENDPOINT', 503, { 'retry-after': String(retryAfterSeconds) })
    this.name = 'NoHealthyEndpointError'
  }
}

/** Discovery backend failed and no stale answer was usable. */
export class DiscoveryUnavailableError extends RouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'DISCOVERY_UNAVAILABLE', 503, { 'retry-after': '1' }, options)
    this.name = 'DiscoveryUnavailableError'
  }
}

/** The upstream failed (refused, reset, bad response). */
export class UpstreamError extends RouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'UPSTREAM_ERROR', 502, {}, options)
    this.name = 'UpstreamError'
  }
}

/** The upstream did not answer in time. */
export class UpstreamTimeoutError extends RouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'UPSTREAM_TIMEOUT', 504, {}, options)
    this.name = 'UpstreamTimeoutError'
  }
}

/** No connection to the upstream became free in time, or too many requests already wait for one. */
export class UpstreamBusyError extends RouterError {
  constructor(reason: 'full' | 'timeout' | 'closed', retryAfterSeconds: number) {
    const why = reason === 'full' ? 'too many requests are waiting for a connection to the upstream' : reason === 'timeout' ? 'no connection to the upstream became free in time' : 'the router is shutting down'
    super(why, 'UPSTREAM_BUSY', 503, { 'retry-after': String(retryAfterSeconds) })
    this.name = 'UpstreamBusyError'
  }
}

/** A request body over MAX_BODY_BYTES (declared, or counted as it arrives). */
export class PayloadTooLargeError extends RouterError {
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`, 'PAYLOAD_TOO_LARGE', 413)
    this.name = 'PayloadTooLargeError'
  }
}

/** The client stopped sending its request body, or sent it too slowly. */
export class RequestTimeoutError extends RouterError {
  constructor(message: string) {
    super(message, 'REQUEST_TIMEOUT', 408)
    this.name = 'RequestTimeoutError'
  }
}

/** A request target the router refuses: a fragment, or a path climbing above its route prefix. */
export class InvalidRequestTargetError extends RouterError {
  constructor(message: string) {
    super(message, 'INVALID_REQUEST_TARGET', 400)
    this.name = 'InvalidRequestTargetError'
  }
}

/** No Host on HTTP/1.1, or more than one. */
export class InvalidHostError extends RouterError {
  constructor(message: string) {
    super(message, 'INVALID_HOST', 400)
    this.name = 'InvalidHostError'
  }
}

/** CONNECT and TRACE are not proxied. */
export class MethodNotAllowedError extends RouterError {
  constructor(method: string, allow: string) {
    super(`${method} is not supported`, 'METHOD_NOT_ALLOWED', 405, { allow })
    this.name = 'MethodNotAllowedError'
  }
}
