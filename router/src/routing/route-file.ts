// ROUTES_FILE's JSON text → typed RouteSpecs, checked field by field. Every
// problem names the entry (`routes[3] "gallery"`) and the field; all of them
// are reported at once. Pure; the file is read by route-source.ts.
//
// {"builtins": true, "routes": [{"name", "path", "service", "host"?,
//   "instance"?, "stripPrefix"?, "drainingAcceptsHttp"?, "balancer"?,
//   "timeouts"?: {"connectMs"?, "headersMs"?, "bodyMs"?}, "recordType"?, "port"?,
//   "affinity"?: true | {"cookie"?, "maxAgeSeconds"?}}]}

import { BALANCER_NAMES, placeholder, type BalancerName, type RouteSpec, type RouteTimeouts } from './route.js'

/** A ROUTES_FILE that cannot be used; `problems` has one line per bad field. */
export class RouteFileError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    const shown = problems.slice(0, 20)
    super(`${shown.join('; ')}${problems.length > shown.length ? `; … ${problems.length - shown.length} more` : ''}`)
    this.name = 'RouteFileError'
    this.problems = problems
  }
}

export interface RouteFile {
  /** Keep the built-in /media and /services routes (default true). */
  readonly builtins: boolean
  readonly routes: readonly RouteSpec[]
}

const ROUTE_NAME = /^[a-z][a-z0-9_-]{0,62}$/
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
/** A literal path segment: RFC 3986 pchar without percent-escapes; '.' and '..' excluded below. */
const SEGMENT = /^[A-Za-z0-9._~!$&'()*+,;=:@-]+$/
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/
/** Names the router uses for requests that match no file route. */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['none', 'allocate'])
const MAX_TIMEOUT_MS = 3_600_000

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Reads one entry's fields, collecting problems under the entry's name. */
class Fields {
  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly where: string,
    private readonly problems: string[],
  ) {}

  bad(field: string, why: string): undefined {
    this.problems.push(`${this.where}: ${field}: ${why}`)
    return undefined
  }

  string(field: string, required: boolean): string | undefined {
    const v = this.raw[field]
    if (v === undefined) return required ? this.bad(field, 'is required') : undefined
    if (typeof v !== 'string' || v === '') return this.bad(field, 'must be a non-empty string')
    return v
  }

  bool(field: string): boolean | undefined {
    const v = this.raw[field]
    if (v === undefined) return undefined
    return typeof v === 'boolean' ? v : this.bad(field, 'must be true or false')
  }

  int(field: string, v: unknown, min: number, max: number): number | undefined {
    if (v === undefined) return undefined
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return this.bad(field, `must be a whole number from ${min} to ${max}`)
    return v
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T | undefined {
    const v = this.raw[field]
    if (v === undefined) return undefined
    const found = allowed.find((a) => a === v)
    return found ?? this.bad(field, `must be one of ${allowed.join(', ')}`)
  }
}

const ENTRY_FIELDS: ReadonlySet<string> = new Set(['name', 'host', 'path', 'service', 'instance', 'stripPrefix', 'drainingAcceptsHttp', 'balancer', 'timeouts', 'recordType', 'port', 'affinity'])
/** RFC 6265 cookie-name (an HTTP token). */
const COOKIE_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/
const MAX_AFFINITY_AGE_S = 30 * 24 * 3600

/** Check `path`: `/*`, `/seg/…/*`, with an optional `{param}` as the last segment. Returns the capture name ('' for none). */
function checkPath(f: Fields, path: string): string | undefined {
  if (!path.startsWith('/') || !path.endsWith('/*')) return f.bad('path', `must start with '/' and end with '/*' (e.g. "/api/gallery/*" or "/*"), got ${JSON.stringify(path)}`)
  if (path === '/*') return ''
  const parts = path.slice(1, -2).split('/')
  let param = ''
  for (const [i, seg] of parts.entries()) {
    const ph = placeholder(seg)
    if (ph !== undefined) {
      if (i !== parts.length - 1) return f.bad('path', `a capture ({${ph}}) may only be the last segment before '/*'`)
      param = ph
    } else if (seg === '' || seg === '.' || seg === '..' || !SEGMENT.test(seg)) {
      return f.bad('path', `segment ${JSON.stringify(seg)} is not a plain path segment (no empty, '.', '..', '%', '?', '#', '{' or '*')`)
    }
  }
  return param
}

function checkTarget(f: Fields, field: 'service' | 'instance', v: string, param: string): void {
  const ph = placeholder(v)
  if (ph !== undefined) {
    if (ph !== param) f.bad(field, param === '' ? `{${ph}} needs a capture in path` : `{${ph}} is not the path's capture {${param}}`)
  } else if (!LABEL.test(v)) {
    f.bad(field, `must be a Cloud Map service name (a lower-case DNS label) or the path's capture, got ${JSON.stringify(v)}`)
  }
}

function checkHost(f: Fields, host: string): string | undefined {
  const name = host.startsWith('*.') ? host.slice(2) : host
  if (!HOST_NAME.test(name)) return f.bad('host', `must be a lower-case host name or *.domain, without port, got ${JSON.stringify(host)}`)
  return host
}

function parseTimeouts(f: Fields, v: unknown): RouteTimeouts | undefined {
  if (v === undefined) return undefined
  if (!isRecord(v)) return f.bad('timeouts', 'must be an object {"connectMs"?, "headersMs"?, "bodyMs"?}')
  for (const k of Object.keys(v)) if (k !== 'connectMs' && k !== 'headersMs' && k !== 'bodyMs') f.bad(`timeouts.${k}`, 'unknown field (connectMs, headersMs, bodyMs)')
  const connectMs = f.int('timeouts.connectMs', v.connectMs, 1, MAX_TIMEOUT_MS)
  const headersMs = f.int('timeouts.headersMs', v.headersMs, 1, MAX_TIMEOUT_MS)
  const bodyMs = f.int('timeouts.bodyMs', v.bodyMs, 0, MAX_TIMEOUT_MS)
  return {
    ...(connectMs !== undefined ? { connectMs } : {}),
    ...(headersMs !== undefined ? { headersMs } : {}),
    ...(bodyMs !== undefined ? { bodyMs } : {}),
  }
}

/** `affinity`: true or {"cookie"?, "maxAgeSeconds"?}; the route's service is then an app name (a fixed label), no instance. */
function parseAffinity(f: Fields, v: unknown, service: string | undefined, instance: string | undefined): RouteSpec['affinity'] {
  if (v === undefined || v === false) return undefined
  if (service !== undefined && placeholder(service) !== undefined) f.bad('affinity', 'needs a fixed app name in service, not a capture')
  if (instance !== undefined) f.bad('affinity', 'cannot be combined with instance')
  if (v === true) return {}
  if (!isRecord(v)) return f.bad('affinity', 'must be true or an object {"cookie"?, "maxAgeSeconds"?}')
  for (const k of Object.keys(v)) if (k !== 'cookie' && k !== 'maxAgeSeconds') f.bad(`affinity.${k}`, 'unknown field (cookie, maxAgeSeconds)')
  const cookie = v.cookie
  if (cookie !== undefined && (typeof cookie !== 'string' || !COOKIE_NAME.test(cookie))) f.bad('affinity.cookie', 'must be a cookie name (1-64 token characters)')
  const maxAgeSeconds = f.int('affinity.maxAgeSeconds', v.maxAgeSeconds, 60, MAX_AFFINITY_AGE_S)
  return { ...(typeof cookie === 'string' ? { cookie } : {}), ...(maxAgeSeconds !== undefined ? { maxAgeSeconds } : {}) }
}

/** One entry → a RouteSpec, or undefined (its problems pushed). */
function parseEntry(raw: unknown, index: number, problems: string[]): RouteSpec | undefined {
  if (!isRecord(raw)) {
    problems.push(`routes[${index}]: must be an object`)
    return undefined
  }
  const rawName = raw.name
  const where = `routes[${index}]${typeof rawName === 'string' ? ` ${JSON.stringify(rawName)}` : ''}`
  const before = problems.length
  const f = new Fields(raw, where, problems)
  for (const k of Object.keys(raw)) if (!ENTRY_FIELDS.has(k)) f.bad(k, `unknown field (known: ${[...ENTRY_FIELDS].join(', ')})`)
  const name = f.string('name', true)
  if (name !== undefined && !ROUTE_NAME.test(name)) f.bad('name', 'must be 1-63 characters of a-z, 0-9, _ and -, starting with a letter (it is a metric label)')
  if (name !== undefined && RESERVED_NAMES.has(name)) f.bad('name', `"${name}" is reserved`)
  const path = f.string('path', true)
  const param = path !== undefined ? checkPath(f, path) : undefined
  const service = f.string('service', true)
  if (service !== undefined && param !== undefined) checkTarget(f, 'service', service, param)
  const instance = f.string('instance', false)
  if (instance !== undefined && param !== undefined) checkTarget(f, 'instance', instance, param)
  if (param !== undefined && param !== '' && service !== undefined && placeholder(service) === undefined && (instance === undefined || placeholder(instance) === undefined)) {
    f.bad('path', `the capture {${param}} is used by neither service nor instance`)
  }
  const hostRaw = f.string('host', false)
  const host = hostRaw !== undefined ? checkHost(f, hostRaw) : undefined
  const stripPrefix = f.bool('stripPrefix')
  const drainingAcceptsHttp = f.bool('drainingAcceptsHttp')
  const balancer: BalancerName | undefined = f.oneOf('balancer', BALANCER_NAMES)
  const timeouts = parseTimeouts(f, raw.timeouts)
  const recordType = f.oneOf('recordType', ['A', 'SRV'] as const)
  const port = f.int('port', raw.port, 1, 65535)
  if (recordType === 'A' && port === undefined) f.bad('port', 'is required with recordType "A"')
  const affinity = parseAffinity(f, raw.affinity, service, instance)
  if (problems.length > before || name === undefined || path === undefined || service === undefined) return undefined
  return {
    name,
    path,
    service,
    ...(host !== undefined ? { host } : {}),
    ...(instance !== undefined ? { instance } : {}),
    ...(stripPrefix !== undefined ? { stripPrefix } : {}),
    ...(drainingAcceptsHttp !== undefined ? { drainingAcceptsHttp } : {}),
    ...(balancer !== undefined ? { balancer } : {}),
    ...(timeouts !== undefined ? { timeouts } : {}),
    ...(recordType !== undefined ? { recordType } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(affinity !== undefined ? { affinity } : {}),
  }
}

/** Parse the file's text; throws RouteFileError listing every problem. Duplicates are checked when the table is built. */
export function parseRouteFile(text: string): RouteFile {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new RouteFileError([`not valid JSON: ${err instanceof Error ? err.message : String(err)}`])
  }
  if (!isRecord(doc)) throw new RouteFileError(['expected an object {"routes": [...]}'])
  const problems: string[] = []
  for (const k of Object.keys(doc)) if (k !== 'routes' && k !== 'builtins') problems.push(`${k}: unknown field (known: builtins, routes)`)
  const builtins = doc.builtins ?? true
  if (typeof builtins !== 'boolean') problems.push('builtins: must be true or false')
  if (!Array.isArray(doc.routes)) throw new RouteFileError([...problems, 'routes: must be an array'])
  const routes: RouteSpec[] = []
  doc.routes.forEach((raw: unknown, i) => {
    const spec = parseEntry(raw, i, problems)
    if (spec !== undefined) routes.push(spec)
  })
  if (problems.length > 0) throw new RouteFileError(problems)
  return { builtins: builtins === true, routes }
}
