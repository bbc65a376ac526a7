// Bearer-token check for /admin/*, compared in constant time (both sides are
// hashed first so lengths never leak through timing).

import { createHash, timingSafeEqual } from 'node:crypto'

export function bearerMatches(header: string | undefined, token: string | undefined): boolean {
  if (token === undefined || header === undefined) return false
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  const given = m?.[1] ?? ''
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b) && given !== ''
}
