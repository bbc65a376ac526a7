// Bearer-token check for the admin endpoints. Both the presented token and
// the configured one are hashed with SHA-256 and compared with
// crypto.timingSafeEqual, so neither the content nor the length of the
// secret leaks through response timing.

import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * True when `authorization` is `Bearer <token>` with exactly `token`.
 * False when no token is configured (admin disabled) or the header is absent
 * or malformed.
 */
export function bearerMatches(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined || token === '' || authorization === undefined) return false
  const given = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)?.[1] ?? ''
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b) && given !== ''
}
