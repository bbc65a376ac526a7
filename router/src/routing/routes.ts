// The route table as data and the pure matcher. A route template maps a path
// prefix and one captured DNS label to a discovery Target; matching a request
// path yields the route, the target and the path to forward. No I/O here.

import type { Target } from '../discovery/discovery.js'
import { InvalidCaptureError, NoRouteError } from '../errors.js'
import { isDnsLabel } from './dns-label.js'
import { checkNoFragment, resolveDotSegments } from './request-target.js'

/** One route template, e.g. `/media/:nodeId/*`. */
export interface RouteTemplate {
  /** Metric/log label; never a raw id. */
  readonly name: string
  /** Human form for errors and docs, e.g. `/media/<nodeId>/...`. */
  readonly format: string
  /** Literal prefix including the trailing slash, e.g. `/media/`. */
  readonly prefix: string
  /** Name of the captured segment, for error messages. */
  readonly param: string
  /** Builds the discovery target from the validated capture. */
  readonly target: (capture: string) => Target
  /** Strip `<prefix><capture>` before forwarding. */
  readonly stripPrefix: boolean
  /** May a DRAINING instance still receive plain HTTP requests on this route? */
  readonly drainingAcceptsHttp: boolean
}

/** An immutable, ordered list of templates; swapped whole, never mutated. */
export interface RouteTable {
  readonly templates: readonly RouteTemplate[]
  readonly formats: readonly string[]
}

export interface RouteMatch {
  readonly route: RouteTemplate
  readonly capture: string
  readonly target: Target
  /** Path (with query) to send upstream. Always starts with '/'. */
  readonly upstreamPath: string
  /** What was stripped, for X-Forwarded-Prefix; '' when nothing was. */
  readonly strippedPrefix: string
}

export function buildRouteTable(templates: readonly RouteTemplate[]): RouteTable {
  const seen = new Set<string>()
  for (const t of templates) {
    if (!t.prefix.startsWith('/') || !t.prefix.endsWith('/')) throw new Error(`route ${t.name}: prefix must start and end with '/'`)
    if (seen.has(t.prefix)) throw new Error(`route ${t.name}: duplicate prefix ${t.prefix}`)
    seen.add(t.prefix)
  }
  return Object.freeze({ templates: Object.freeze([...templates]), formats: Object.freeze(templates.map((t) => t.format)) })
}

/** The two built-in templates. */
export function defaultRoutes(opts: { mediaService: string; stripPrefix: boolean }): RouteTable {
  return buildRouteTable([
    {
      name: 'media',
      format: '/media/<nodeId>/...',
      prefix: '/media/',
      param: 'nodeId',
      target: (nodeId) => ({ kind: 'instance', service: opts.mediaService, instanceId: nodeId }),
      stripPrefix: opts.stripPrefix,
      drainingAcceptsHttp: true,
    },
    {
      name: 'services',
      format: '/services/<deploymentId>/...',
      prefix: '/services/',
      param: 'deploymentId',
      target: (deploymentId) => ({ kind: 'service', service: deploymentId }),
      stripPrefix: opts.stripPrefix,
      drainingAcceptsHttp: false,
    },
  ])
}

/**
 * Match a request-target (origin form: path plus optional query) against the table.
 * Throws NoRouteError (404), InvalidCaptureError (400) or InvalidRequestTargetError
 * (400: a fragment, or dot segments climbing above `<prefix><capture>`, which are
 * otherwise resolved before forwarding); never touches the network.
 */
export function matchRoute(table: RouteTable, url: string): RouteMatch {
  checkNoFragment(url)
  if (url.charCodeAt(0) !== 47 /* '/' */) throw new NoRouteError(table.formats)
  for (const route of table.templates) {
    if (!url.startsWith(route.prefix)) continue
    const start = route.prefix.length
    let end = start
    while (end < url.length) {
      const c = url.charCodeAt(end)
      if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break
      end++
    }
    const capture = url.slice(start, end)
    if (!isDnsLabel(capture)) throw new InvalidCaptureError(route.param)
    const raw = url.slice(end)
    // What follows the capture, as a path of its own: '' → '/', '?q' → '/?q'; then its dot segments resolved.
    const base = raw === '' ? '/' : raw.charCodeAt(0) === 63 ? `/${raw}` : raw
    const rest = resolveDotSegments(base)
    let upstreamPath: string
    let strippedPrefix = ''
    if (route.stripPrefix) {
      strippedPrefix = url.slice(0, end)
      upstreamPath = rest
    } else {
      upstreamPath = rest === base ? url : `${url.slice(0, end)}${rest}`
    }
    return { route, capture, target: route.target(capture), upstreamPath, strippedPrefix }
  }
  throw new NoRouteError(table.formats)
}
