// One entry of the route table, as the router uses it: where it matches (an
// optional host, a path prefix of literal segments, at most one captured
// segment at its end), what it reaches (a Cloud Map service, or one named
// instance of one) and the per-route options. The built-in /media and
// /services templates and every ROUTES_FILE entry are made by `makeRoute`
// from the same RouteSpec. Pure; no I/O.
//
// To add a per-route option: a field on RouteSpec (optional, what the file
// says) and on Route (resolved, what the router applies), parse it in
// route-file.ts (`parseEntry`), resolve its default in `makeRoute`, show it in
// `routeView`, and read `match.route.<option>` in server.ts.

import type { RecordType } from '../config.js'
import type { Target, TargetLookup } from '../discovery/discovery.js'
import type { AffinityConfig } from '../affinity/resolve.js'

export type BalancerName = 'p2c' | 'round-robin' | 'weighted'
export const BALANCER_NAMES: readonly BalancerName[] = ['p2c', 'round-robin', 'weighted']

/** Per-route overrides of UPSTREAM_CONNECT/HEADERS/BODY_TIMEOUT_MS (HTTP requests; WebSocket handshakes keep WS_HANDSHAKE_TIMEOUT_MS). */
export interface RouteTimeouts {
  readonly connectMs?: number
  readonly headersMs?: number
  /** 0 = no body timeout. */
  readonly bodyMs?: number
}

/** A route as written (in ROUTES_FILE, or by the built-ins): only `name`, `path` and `service` are required. */
export interface RouteSpec {
  /** Metric/log label: `[a-z][a-z0-9_-]*`, at most 63 characters. */
  readonly name: string
  /** Exact host (`app.example.com`) or a wildcard (`*.example.com`, one or more labels); lower case. */
  readonly host?: string
  /** `/a/b/*`, `/*`, or with one capture as the last segment: `/services/{deploymentId}/*`. */
  readonly path: string
  /** A Cloud Map service name, or `{param}` for the captured segment. */
  readonly service: string
  /** `{param}`: the route reaches the instance named by the capture (media nodes). */
  readonly instance?: string
  readonly stripPrefix?: boolean
  readonly drainingAcceptsHttp?: boolean
  readonly balancer?: BalancerName
  readonly timeouts?: RouteTimeouts
  readonly recordType?: RecordType
  readonly port?: number
  /** Blue/green app route: `service` names the app; each request goes to a deployment from its registry (docs/blue-green.md). */
  readonly affinity?: { readonly cookie?: string; readonly maxAgeSeconds?: number }
}

/** Defaults a RouteSpec leaves open, from the environment. */
export interface RouteDefaults {
  readonly stripPrefix: boolean
  readonly servicesBalancer: BalancerName
}

/** A route ready to match and apply. Immutable. */
export interface Route {
  readonly name: string
  /** Human form for errors and the admin view, e.g. `/media/<nodeId>/...`, `app.example.com/api/...`. */
  readonly format: string
  readonly host: string | undefined
  /** The literal segments before the capture (or all of them), e.g. ['media'], ['api', 'gallery'], []. */
  readonly segments: readonly string[]
  /** Name of the captured segment; undefined for a fixed prefix. */
  readonly param: string | undefined
  /** Builds the discovery target from the validated, lower-cased capture ('' for fixed routes). */
  readonly target: (capture: string) => Target
  /** What the route reaches, for errors and the admin view: `service gallery`, `service {deploymentId}`, `media instance {nodeId}`. */
  readonly reaches: string
  /** Strip the matched prefix (capture included) before forwarding; sent as X-Forwarded-Prefix. */
  readonly stripPrefix: boolean
  /** May a DRAINING instance still receive plain HTTP requests on this route? */
  readonly drainingAcceptsHttp: boolean
  readonly balancer: BalancerName
  readonly timeouts: RouteTimeouts
  /** Record type and port when the route sets them; else the discovery backend's per-service default. */
  readonly lookup: TargetLookup | undefined
  /** `builtin` or `file`. */
  readonly source: 'builtin' | 'file'
  /** Set on an app route: the target is the deployment chosen per request (affinity/resolve.ts), not `target`. */
  readonly affinity: AffinityConfig | undefined
}

/** Affinity cookie defaults: `deployment-<app>`, one day. */
export const DEFAULT_AFFINITY_MAX_AGE_SECONDS = 86_400

/** `{name}` → name, else undefined. */
export function placeholder(s: string): string | undefined {
  const m = /^\{([A-Za-z][A-Za-z0-9_]*)\}$/.exec(s)
  return m?.[1]
}

/** The literal segments and capture name of a path already checked by the file parser (or a built-in). */
export function splitRoutePath(path: string): { segments: string[]; param: string | undefined } {
  const inner = path === '/*' ? '' : path.slice(1, -2)
  const parts = inner === '' ? [] : inner.split('/')
  const last = parts.at(-1)
  const param = last !== undefined ? placeholder(last) : undefined
  return { segments: param !== undefined ? parts.slice(0, -1) : parts, param }
}

/** Build a Route from a (validated) spec and the environment's defaults. */
export function makeRoute(spec: RouteSpec, defaults: RouteDefaults, source: 'builtin' | 'file'): Route {
  const { segments, param } = splitRoutePath(spec.path)
  const servicePh = placeholder(spec.service)
  const instancePh = spec.instance !== undefined ? placeholder(spec.instance) : undefined
  const lookup: TargetLookup | undefined =
    spec.recordType !== undefined || spec.port !== undefined ? { recordType: spec.recordType ?? 'SRV', defaultPort: spec.port } : undefined
  const extra = lookup !== undefined ? { lookup } : {}
  const service = spec.service
  const instance = spec.instance
  let target: (capture: string) => Target
  if (instance !== undefined) {
    target =
      instancePh !== undefined
        ? (capture) => ({ kind: 'instance', service: servicePh !== undefined ? capture : service, instanceId: capture, ...extra })
        : (capture) => ({ kind: 'instance', service: servicePh !== undefined ? capture : service, instanceId: instance, ...extra })
  } else if (servicePh !== undefined) {
    target = (capture) => ({ kind: 'service', service: capture, ...extra })
  } else {
    // A fixed target: one object for every request.
    const fixed: Target = { kind: 'service', service, ...extra }
    target = () => fixed
  }
  const pathFormat = `/${[...segments, ...(param !== undefined ? [`<${param}>`] : [])].map((s) => `${s}/`).join('')}...`
  const isInstance = instance !== undefined
  return Object.freeze({
    name: spec.name,
    format: `${spec.host ?? ''}${pathFormat}`,
    host: spec.host,
    segments: Object.freeze(segments),
    param,
    target,
    reaches: isInstance ? `${service} instance ${instance}` : spec.affinity !== undefined ? `app ${service} (deployment by affinity, else current)` : `service ${service}`,
    stripPrefix: spec.stripPrefix ?? defaults.stripPrefix,
    drainingAcceptsHttp: spec.drainingAcceptsHttp ?? isInstance,
    balancer: spec.balancer ?? (isInstance ? 'round-robin' : defaults.servicesBalancer),
    timeouts: Object.freeze({ ...spec.timeouts }),
    lookup,
    source,
    affinity:
      spec.affinity !== undefined
        ? Object.freeze({ app: service, cookie: spec.affinity.cookie ?? `deployment-${service}`, maxAgeSeconds: spec.affinity.maxAgeSeconds ?? DEFAULT_AFFINITY_MAX_AGE_SECONDS })
        : undefined,
  })
}

/** The admin view of a route (plain JSON). */
export function routeView(r: Route): Record<string, unknown> {
  return {
    name: r.name,
    source: r.source,
    format: r.format,
    host: r.host ?? null,
    prefix: `/${r.segments.map((s) => `${s}/`).join('')}`,
    param: r.param ?? null,
    reaches: r.reaches,
    stripPrefix: r.stripPrefix,
    drainingAcceptsHttp: r.drainingAcceptsHttp,
    balancer: r.balancer,
    timeouts: r.timeouts,
    recordType: r.lookup?.recordType ?? null,
    port: r.lookup?.defaultPort ?? null,
    affinity: r.affinity ?? null,
  }
}
