// Admin dashboard sessions: a login with the admin token makes a session with
// a random id (the HttpOnly cookie, scoped to /admin) and its own CSRF token
// (sent back by the page with every POST). Sessions live in memory, in the
// process that serves the admin port, with an absolute lifetime; the map is
// keyed by a hash of the id, so a lookup's timing says nothing about the id.

import { createHash, randomBytes } from 'node:crypto'
import { secretMatches } from './auth.js'

export const SESSION_COOKIE = 'router_admin'

export interface AdminSession {
  /** The cookie value (only returned by create()). */
  readonly id: string
  /** Per-session CSRF token the page sends as `x-csrf-token` or the `csrf` form field. */
  readonly csrf: string
  /** Clock ms at which the session ends. */
  readonly expiresAt: number
}

export interface SessionStoreOptions {
  /** Absolute session lifetime. */
  readonly ttlMs: number
  /** At most this many sessions; the oldest goes first. */
  readonly max: number
  /** Clock (ms); tests pass a fake one. */
  readonly now?: () => number
}

const hashOf = (id: string): string => createHash('sha256').update(id).digest('base64url')

export class SessionStore {
  readonly #o: SessionStoreOptions
  readonly #now: () => number
  /** By hash of the id, in creation order (Map keeps insertion order). */
  readonly #sessions = new Map<string, AdminSession>()

  constructor(o: SessionStoreOptions) {
    if (!(o.ttlMs > 0 && o.max >= 1)) throw new RangeError('SessionStore: need ttlMs > 0 and max >= 1')
    this.#o = o
    this.#now = o.now ?? (() => Date.now())
  }

  create(): AdminSession {
    this.#sweep()
    while (this.#sessions.size >= this.#o.max) {
      const oldest = this.#sessions.keys().next()
      if (oldest.done === true) break
      this.#sessions.delete(oldest.value)
    }
    const s: AdminSession = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), expiresAt: this.#now() + this.#o.ttlMs }
    this.#sessions.set(hashOf(s.id), s)
    return s
  }

  /** The live session with this id, if any. */
  get(id: string | undefined): AdminSession | undefined {
    if (id === undefined || id === '') return undefined
    const key = hashOf(id)
    const s = this.#sessions.get(key)
    if (s === undefined) return undefined
    if (s.expiresAt <= this.#now()) {
      this.#sessions.delete(key)
      return undefined
    }
    return s
  }

  delete(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(hashOf(id))
  }

  get size(): number {
    return this.#sessions.size
  }

  #sweep(): void {
    const now = this.#now()
    for (const [k, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(k)
  }
}

/** The session cookie's value from a Cookie header. */
export function sessionIdFromCookie(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const v = part.slice(eq + 1).trim()
      return /^[A-Za-z0-9_-]{1,128}$/.test(v) ? v : undefined
    }
  }
  return undefined
}

/** Set-Cookie for a new session: HttpOnly, SameSite=Strict, Path=/admin, Secure over HTTPS. */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeSeconds)}${secure ? '; Secure' : ''}`
}

/** Set-Cookie that removes the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`
}

/** Constant-time check of a submitted CSRF token against the session's. */
export function csrfMatches(given: string | undefined, session: AdminSession): boolean {
  return secretMatches(given, session.csrf)
}
