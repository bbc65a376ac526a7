// Deployment affinity, decided per request (docs/blue-green.md). Pure: the
// request's cookie / X-Deployment header, the app state read from the
// registry, the pinned deployment's endpoints and the time in; the deployment
// to use and whether to (re-)set the affinity cookie out. A value that is not
// one of the app's known deployments is ignored before any lookup.

import type { Endpoint } from '../discovery/discovery.js'
import { isDraining } from '../balancing/eligibility.js'
import { isDnsLabel } from '../routing/dns-label.js'
import type { AppState, KnownDeployment } from './app-registry.js'

export interface AffinityOptions {
  /** Cookie name, e.g. `deployment`. */
  readonly cookie: string
  /** Max-Age of the cookie in seconds (bounded by the route parser). */
  readonly maxAgeSeconds: number
}

/** What the request asks for, before any lookup. */
export interface AffinityRequest {
  /** Lower-cased value of the affinity cookie as sent ('' when absent or not a DNS label). */
  readonly cookieValue: string
  /** The known deployment the request pins to (header first, then cookie), if any. */
  readonly pinned: KnownDeployment | undefined
}

export type AffinityReason =
  /** No (known) pin: the current deployment. */
  | 'current'
  /** The pinned deployment is usable. */
  | 'pinned'
  /** Pinned, but no healthy non-DRAINING endpoint. */
  | 'fallback-unavailable'
  /** Pinned, but its drain deadline has passed. */
  | 'fallback-drained'

export interface AffinityDecision {
  /** Lower-case deployment id = the Cloud Map service to resolve. */
  readonly deployment: string
  readonly reason: AffinityReason
  /** Set-Cookie value to send, or undefined when the client's cookie already names `deployment`. */
  readonly setCookie: string | undefined
  /**
   * A holder pinned to a deployment being drained, before its deadline: its
   * DRAINING instances take this request or WebSocket (the drain keeps them
   * working for holders until the deadline; the balancers would skip them).
   */
  readonly acceptDraining: boolean
}

/** The value of cookie `name` in a Cookie header (first occurrence), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1) continue
    if (part.slice(0, eq).trim() !== name) continue
    let v = part.slice(eq + 1).trim()
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
    return v
  }
  return undefined
}

function firstValue(v: string | readonly string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : v?.[0]
}

/**
 * Step 1, no I/O: which known deployment the request pins to. `X-Deployment`
 * wins over the cookie; values are lower-cased and must be DNS labels and
 * known deployments of the app, else ignored.
 */
export function readAffinity(
  headers: { readonly cookie?: string | readonly string[] | undefined; readonly 'x-deployment'?: string | readonly string[] | undefined },
  state: AppState,
  opts: AffinityOptions,
): AffinityRequest {
  const raw = cookieValue(firstValue(headers.cookie), opts.cookie)?.toLowerCase()
  const fromCookie = raw !== undefined && isDnsLabel(raw) ? raw : ''
  const header = firstValue(headers['x-deployment'])?.trim().toLowerCase()
  for (const candidate of [header, fromCookie]) {
    if (candidate === undefined || candidate === '' || !isDnsLabel(candidate)) continue
    const known = state.deployments.get(candidate)
    if (known !== undefined) return { cookieValue: fromCookie, pinned: known }
  }
  return { cookieValue: fromCookie, pinned: undefined }
}

/** May a pinned deployment with these endpoints take the request at `nowMs` (epoch ms)? */
export function pinnedUsable(pinned: KnownDeployment, endpoints: readonly Endpoint[], nowMs: number): AffinityReason {
  if (pinned.drainDeadlineMs !== undefined && nowMs >= pinned.drainDeadlineMs) return 'fallback-drained'
  // Draining by its marker, before the deadline: its DRAINING instances still serve the holders.
  const draining = pinned.drainDeadlineMs !== undefined
  for (const e of endpoints) {
    if (e.attributes['healthStatus'] === 'UNHEALTHY') continue
    if (draining || !isDraining(e)) return 'pinned'
  }
  return 'fallback-unavailable'
}

/** Set-Cookie for `deployment`: HttpOnly, SameSite=Lax, Secure when the client used HTTPS, bounded Max-Age. */
export function affinityCookie(opts: AffinityOptions, deployment: string, secure: boolean): string {
  return `${opts.cookie}=${deployment}; Path=/; Max-Age=${opts.maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`
}

/**
 * Step 2: the deployment to use. `pinnedEndpoints` are the pinned deployment's
 * endpoints (only looked up when step 1 found a known pin other than current);
 * `current` is the fallback. Returns undefined when there is no current
 * deployment and the pin cannot be used.
 */
export function decide(
  req: AffinityRequest,
  state: AppState,
  pinnedEndpoints: readonly Endpoint[] | undefined,
  nowMs: number,
  opts: AffinityOptions,
  secure: boolean,
): AffinityDecision | undefined {
  let deployment = state.current
  let reason: AffinityReason = 'current'
  if (req.pinned !== undefined && req.pinned.id !== state.current) {
    const usable = pinnedUsable(req.pinned, pinnedEndpoints ?? [], nowMs)
    if (usable === 'pinned') deployment = req.pinned.id
    reason = usable
  } else if (req.pinned !== undefined) {
    reason = 'pinned'
  }
  if (deployment === undefined) return undefined
  const setCookie = req.cookieValue === deployment ? undefined : affinityCookie(opts, deployment, secure)
  const acceptDraining = reason === 'pinned' && req.pinned?.id === deployment && req.pinned.drainDeadlineMs !== undefined
  return { deployment, reason, setCookie, acceptDraining }
}

/** Did the client come over HTTPS (TLS to us, or the ALB's X-Forwarded-Proto)? */
export function clientUsedHttps(tls: boolean, forwardedProto: string | readonly string[] | undefined): boolean {
  if (tls) return true
  const v = firstValue(forwardedProto)
  if (v === undefined) return false
  const first = v.split(',')[0]
  return first !== undefined && first.trim().toLowerCase() === 'https'
}
