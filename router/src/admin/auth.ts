// Bearer-token check for /admin/*, compared in constant time (both sides are
// hashed first so lengths never leak through timing). The dashboard's login
// form checks the typed token with the same comparison.

import { createHash, timingSafeEqual } from 'node:crypto'

/** True when `given` equals `expected`, in time independent of where they differ or of their lengths. */
export function secretMatches(given: string | undefined, expected: string | undefined): boolean {
  if (given === undefined || expected === undefined) return false
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b) && given !== ''
}

export function bearerMatches(header: string | undefined, token: string | undefined): boolean {
  if (token === undefined || header === undefined) return false
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  return secretMatches(m?.[1] ?? '', token)
}
