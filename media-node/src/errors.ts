// Coded errors of the media node. Every refused request or upgrade is a
// MediaNodeError with a stable `code` and an HTTP `statusCode`; `toBody()`
// gives the JSON body `{error, code}`.

export class MediaNodeError extends Error {
  readonly code: string
  readonly statusCode: number
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Readonly<Record<string, string>>

  constructor(message: string, code: string, statusCode: number, headers: Record<string, string> = {}, options?: ErrorOptions) {
    super(message, options)
    this.name = 'MediaNodeError'
    this.code = code
    this.statusCode = statusCode
    this.headers = headers
  }

  toBody(): { error: string; code: string } {
    return { error: this.message, code: this.code }
  }
}

/** Configuration is missing or malformed; start-up fails with this. */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ConfigError'
  }
}

/** The path is not a route of this node. */
export function notFound(path: string): MediaNodeError {
  return new MediaNodeError(`no route for ${path}; WebSocket sessions are at /ws/<sessionId>`, 'NOT_FOUND', 404)
}

/**
 * The router says the client asked for another node (`X-Forwarded-Prefix:
 * /media/<otherId>`): a stale Cloud Map entry of a dead node that pointed at
 * this node's reused address. 404, as for a node that is gone, so the client
 * allocates a new session instead of joining a room here under a wrong id.
 */
export function wrongNode(asked: string, own: string): MediaNodeError {
  return new MediaNodeError(`this is media node ${own}, not ${asked}`, 'WRONG_NODE', 404)
}

/** The method is not allowed on this path. */
export function methodNotAllowed(method: string, allowed: string): MediaNodeError {
  return new MediaNodeError(`method ${method} not allowed`, 'METHOD_NOT_ALLOWED', 405, { allow: allowed })
}

/** The session id is not acceptable. */
export function invalidSessionId(): MediaNodeError {
  return new MediaNodeError(
    "session id must be 1-128 characters of A-Z, a-z, 0-9, '-', '_' and '.'",
    'INVALID_SESSION_ID',
    400,
  )
}

/** The node is starting (not yet registered) or draining. */
export function notAccepting(status: string, retryAfterSeconds: number): MediaNodeError {
  return new MediaNodeError(`node is ${status}, not accepting new sessions`, 'NODE_UNAVAILABLE', 503, {
    'retry-after': String(retryAfterSeconds),
  })
}

/** A plain request reached a WebSocket path (no Upgrade header). */
export function upgradeRequired(): MediaNodeError {
  return new MediaNodeError('this path takes a WebSocket upgrade', 'UPGRADE_REQUIRED', 426, { upgrade: 'websocket' })
}
