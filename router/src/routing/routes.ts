// The route table as data and the pure matcher. The table is built once from
// Routes (the built-in /media and /services templates and/or ROUTES_FILE's
// entries) into prefix trees (route-trie.ts), one per host key, and swapped
// whole on reload, never mutated. Matching a request yields the route, the
// discovery target and the path to forward. No I/O here.

import type { Target } from '../discovery/discovery.js'
import { InvalidCaptureError, InvalidRequestTargetError, NoRouteError } from '../errors.js'
import { captureLabel } from './dns-label.js'
import { checkNoFragment, resolveDotSegments } from './request-target.js'
import { makeRoute, type Route, type RouteDefaults, type RouteSpec } from './route.js'
import { RouteFileError, type RouteFile } from './route-file.js'
import { insert, newNode, walk, type MatchStatus, type TrieNode } from './route-trie.js'

export type { Route } from './route.js'
export type { MatchStatus } from './route-trie.js'

/** An immutable table; swapped whole, never mutated. */
export interface RouteTable {
  /** In the order given (built-ins first). */
  readonly routes: readonly Route[]
  readonly formats: readonly string[]
  /** Routes without a host. */
  readonly any: TrieNode
  /** Exact host → tree. */
  readonly exact: ReadonlyMap<string, TrieNode>
  /** `*.example.com` is under 'example.com'. */
  readonly wildcard: ReadonlyMap<string, TrieNode>
}

export interface RouteMatch {
  readonly route: Route
  /** The captured segment as sent ('' for fixed routes). */
  readonly capture: string
  readonly target: Target
  /** Path (with query) to send upstream. Always starts with '/'. */
  readonly upstreamPath: string
  /** What was stripped, for X-Forwarded-Prefix; '' when nothing was. */
  readonly strippedPrefix: string
  /** For error messages: `deploymentId dep-1`, `service gallery`. */
  readonly what: string
}

/** Build the trees; throws RouteFileError when two routes share a name or a place (`label(i)` names route i). */
export function buildRouteTable(routes: readonly Route[], label: (i: number) => string = (i) => `route ${JSON.stringify(routes[i]?.name)}`): RouteTable {
  const problems: string[] = []
  const any = newNode()
  const exact = new Map<string, TrieNode>()
  const wildcard = new Map<string, TrieNode>()
  const names = new Map<string, number>()
  const index = new Map<Route, number>()
  routes.forEach((r, i) => {
    index.set(r, i)
    const first = names.get(r.name)
    if (first !== undefined) problems.push(`${label(i)}: name: already used by ${label(first)}`)
    else names.set(r.name, i)
    let root = any
    if (r.host !== undefined) {
      const wild = r.host.startsWith('*.')
      const map = wild ? wildcard : exact
      const key = wild ? r.host.slice(2) : r.host
      let found = map.get(key)
      if (found === undefined) {
        found = newNode()
        map.set(key, found)
      }
      root = found
    }
    const clash = insert(root, r)
    if (clash !== undefined) problems.push(`${label(i)}: path: same host and path as ${label(index.get(clash) ?? -1)} (${clash.format})`)
  })
  if (problems.length > 0) throw new RouteFileError(problems)
  return Object.freeze({ routes: Object.freeze([...routes]), formats: Object.freeze(routes.map((r) => r.format)), any, exact, wildcard })
}

/** Options of the two built-in templates (from the environment). */
export interface BuiltinOptions extends RouteDefaults {
  readonly mediaService: string
}

/** The two built-in templates as RouteSpecs. */
export function builtinSpecs(opts: { mediaService: string }): RouteSpec[] {
  return [
    { name: 'media', path: '/media/{nodeId}/*', service: opts.mediaService, instance: '{nodeId}' },
    { name: 'services', path: '/services/{deploymentId}/*', service: '{deploymentId}' },
  ]
}

/** The two built-in templates alone (no ROUTES_FILE). */
export function defaultRoutes(opts: { mediaService: string; stripPrefix: boolean; servicesBalancer?: Route['balancer'] }): RouteTable {
  const defaults: RouteDefaults = { stripPrefix: opts.stripPrefix, servicesBalancer: opts.servicesBalancer ?? 'p2c' }
  return buildRouteTable(builtinSpecs(opts).map((s) => makeRoute(s, defaults, 'builtin')))
}

/** The table for a parsed ROUTES_FILE: the built-ins (unless `builtins: false`) then the file's routes. Throws RouteFileError. */
export function tableFromFile(file: RouteFile, opts: BuiltinOptions): RouteTable {
  const builtins = file.builtins ? builtinSpecs(opts).map((s) => makeRoute(s, opts, 'builtin')) : []
  const routes = [...builtins, ...file.routes.map((s) => makeRoute(s, opts, 'file'))]
  const n = builtins.length
  return buildRouteTable(routes, (i) => (i < n ? `built-in route ${JSON.stringify(routes[i]?.name)} (set "builtins": false to redefine it)` : `routes[${i - n}] ${JSON.stringify(routes[i]?.name)}`))
}

/** The Host header as a lookup key: lower case, no port, no trailing dot. */
export function hostKey(host: string | undefined): string {
  if (host === undefined) return ''
  let h = host
  if (h.startsWith('[')) {
    const close = h.indexOf(']')
    return close === -1 ? h.toLowerCase() : h.slice(0, close + 1).toLowerCase()
  }
  const colon = h.lastIndexOf(':')
  if (colon !== -1) h = h.slice(0, colon)
  if (h.endsWith('.')) h = h.slice(0, -1)
  return h.toLowerCase()
}

/** Walk the trees that apply to `host`, most specific first: exact, then `*.` suffixes from the longest, then any host. */
function find(table: RouteTable, path: string, host: string, status: MatchStatus | undefined): ReturnType<typeof walk> {
  if (host !== '' && (table.exact.size > 0 || table.wildcard.size > 0)) {
    const exact = table.exact.get(host)
    const hit = exact !== undefined ? walk(exact, path, status) : undefined
    if (hit !== undefined) return hit
    if (table.wildcard.size > 0) {
      for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const tree = table.wildcard.get(host.slice(dot + 1))
        const w = tree !== undefined ? walk(tree, path, status) : undefined
        if (w !== undefined) return w
      }
    }
  }
  return walk(table.any, path, status)
}

/** The route and capture `url` matches, or throws; `normalized` is `url` with dot segments resolved, when it had any. */
function matchRaw(table: RouteTable, url: string, host: string, status: MatchStatus | undefined): { match: RouteMatch; normalized: string | undefined } {
  if (url.charCodeAt(0) !== 47 /* '/' */) throw new NoRouteError(table.formats)
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const hit = find(table, path, host, status)
  if (hit === undefined) throw new NoRouteError(table.formats)
  const { route, end } = hit
  let label = ''
  if (hit.captureStart !== -1) {
    const valid = captureLabel(url.slice(hit.captureStart, end))
    if (valid === undefined) throw new InvalidCaptureError(route.param ?? 'capture')
    label = valid
  }
  const raw = url.slice(end)
  // What follows the prefix, as a path of its own: '' → '/', '?q' → '/?q'; then its dot segments resolved.
  // The prefix itself has none: literal segments are never dots and a capture is a DNS label.
  const base = raw === '' ? '/' : raw.charCodeAt(0) === 63 ? `/${raw}` : raw
  const rest = resolveDotSegments(base)
  const normalized = rest === base ? undefined : `${url.slice(0, end)}${rest}`
  let upstreamPath: string
  let strippedPrefix = ''
  if (route.stripPrefix) {
    strippedPrefix = url.slice(0, end)
    upstreamPath = rest
  } else {
    upstreamPath = normalized ?? url
  }
  const what = route.param !== undefined ? `${route.param} ${label}` : route.reaches
  return { match: { route, capture: label, target: route.target(label), upstreamPath, strippedPrefix, what }, normalized }
}

/**
 * Match a request-target (origin form: path plus optional query) and its Host
 * against the table. Throws NoRouteError (404), InvalidCaptureError (400) or
 * InvalidRequestTargetError (400: a fragment; dot segments climbing above the
 * route's prefix, capture included; or dot segments that, resolved, would
 * lead to another route). Never touches the network. `status` counts the work.
 */
export function matchRoute(table: RouteTable, url: string, host?: string, status?: MatchStatus): RouteMatch {
  checkNoFragment(url)
  // The Host header is only read when some route names a host.
  const h = table.exact.size > 0 || table.wildcard.size > 0 ? hostKey(host) : ''
  const { match, normalized } = matchRaw(table, url, h, status)
  if (normalized !== undefined) {
    // e.g. `/api/./gallery/x` matched `/*`, but resolved it is `/api/gallery/x`: refuse rather than pick either.
    let again: RouteMatch | undefined
    try {
      again = matchRaw(table, normalized, h, undefined).match
    } catch {
      again = undefined
    }
    if (again === undefined || again.route !== match.route || again.capture !== match.capture) {
      throw new InvalidRequestTargetError('dot segments in the path lead to another route')
    }
  }
  return match
}
