// The optional stack file of `npm start -- --stack <file>` (or STACK_FILE):
// extra demo deployments and media nodes to start, and services the user runs
// to register by host:port. Parsed once into typed values; every error names
// the entry and the field (e.g. `services[1].port: ...`). Pure, table-tested.

import { isIPv4 } from 'node:net'
import { isDnsLabel } from '../../../router/src/routing/dns-label.js'

export interface StackDeployment {
  /** Cloud Map service name = the `<deploymentId>` of /services/<deploymentId>. */
  readonly name: string
  readonly instances: number
  /** Echo the request (default true; the built-in `hello` does not echo). */
  readonly echo: boolean
  readonly attributes: Readonly<Record<string, string>>
}

export interface StackService {
  /** Cloud Map service to register into (created when missing). */
  readonly service: string
  readonly host: string
  readonly port: number
  /** Cloud Map instance id (default `<service>-<port>`, with the host when it is not 127.0.0.1). */
  readonly id: string
  readonly attributes: Readonly<Record<string, string>>
}

export interface StackFile {
  /** Start the built-in demo (hello, echo, node-1, node-2). Default true. */
  readonly demo: boolean
  readonly deployments: readonly StackDeployment[]
  readonly mediaNodes: readonly string[]
  readonly services: readonly StackService[]
}

export const EMPTY_STACK_FILE: StackFile = { demo: true, deployments: [], mediaNodes: [], services: [] }

/** Most demo instances one deployment may ask for (each is a server in this process). */
export const MAX_INSTANCES = 20

export class StackFileError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StackFileError'
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function shown(v: unknown): string {
  return JSON.stringify(v) ?? String(v)
}

function fail(where: string, problem: string): never {
  throw new StackFileError(`${where}: ${problem}`)
}

function onlyKeys(where: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(`${where === '' ? '' : `${where}.`}${key}`, `unknown field (expected one of ${allowed.join(', ')})`)
  }
}

function label(where: string, v: unknown): string {
  if (typeof v !== 'string' || !isDnsLabel(v)) fail(where, `expected a DNS label (1-63 of a-z, 0-9, '-', not starting or ending with '-'), got ${shown(v)}`)
  return v
}

function int(where: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(where, `expected an integer ${min}..${max}, got ${shown(v)}`)
  return v
}

/** Custom Cloud Map attributes: string values, keys not starting with AWS_ (reserved). */
export function parseAttributes(where: string, v: unknown): Record<string, string> {
  if (v === undefined) return {}
  if (!isRecord(v)) fail(where, `expected an object of string values, got ${shown(v)}`)
  const out: Record<string, string> = {}
  for (const [k, value] of Object.entries(v)) {
    if (k === '' || k.length > 255) fail(`${where}.${k}`, 'attribute names are 1-255 characters')
    if (k.startsWith('AWS_')) fail(`${where}.${k}`, 'AWS_* attributes are set by the stack (from host and port)')
    if (typeof value !== 'string' || value.length > 1024) fail(`${where}.${k}`, `expected a string of at most 1024 characters, got ${shown(value)}`)
    out[k] = value
  }
  return out
}

/** The instance id `npm run register` and the stack file use when none is given. */
export function defaultInstanceId(service: string, host: string, port: number): string {
  return host === '127.0.0.1' ? `${service}-${port}` : `${service}-${host.replaceAll('.', '-')}-${port}`
}

function list(where: string, v: unknown): unknown[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) fail(where, `expected an array, got ${shown(v)}`)
  return v
}

/** Parse the stack file's JSON text (`name` is used in messages). */
export function parseStackFile(text: string, name = 'stack file'): StackFile {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new StackFileError(`${name}: not valid JSON (${err instanceof Error ? err.message : String(err)})`)
  }
  try {
    return parseStackDocument(doc)
  } catch (err) {
    if (err instanceof StackFileError) throw new StackFileError(`${name}: ${err.message}`)
    throw err
  }
}

/** Parse an already-decoded stack document. */
export function parseStackDocument(doc: unknown): StackFile {
  if (!isRecord(doc)) fail('(top level)', `expected an object, got ${shown(doc)}`)
  onlyKeys('', doc, ['demo', 'deployments', 'mediaNodes', 'services'])
  const demo = doc['demo'] ?? true
  if (typeof demo !== 'boolean') fail('demo', `expected true or false, got ${shown(demo)}`)

  const deployments = list('deployments', doc['deployments']).map((entry, i): StackDeployment => {
    const where = `deployments[${i}]`
    if (!isRecord(entry)) fail(where, `expected an object like {"name": "blue", "instances": 2}, got ${shown(entry)}`)
    onlyKeys(where, entry, ['name', 'instances', 'echo', 'attributes'])
    const echo = entry['echo'] ?? true
    if (typeof echo !== 'boolean') fail(`${where}.echo`, `expected true or false, got ${shown(echo)}`)
    return {
      name: label(`${where}.name`, entry['name']),
      instances: entry['instances'] === undefined ? 1 : int(`${where}.instances`, entry['instances'], 1, MAX_INSTANCES),
      echo,
      attributes: parseAttributes(`${where}.attributes`, entry['attributes']),
    }
  })

  const mediaNodes = list('mediaNodes', doc['mediaNodes']).map((entry, i) => {
    const id = label(`mediaNodes[${i}]`, entry)
    if (id === 'allocate') fail(`mediaNodes[${i}]`, '"allocate" is reserved (/media/allocate)')
    return id
  })

  const services = list('services', doc['services']).map((entry, i): StackService => {
    const where = `services[${i}]`
    if (!isRecord(entry)) fail(where, `expected an object like {"service": "myapp", "port": 3000}, got ${shown(entry)}`)
    onlyKeys(where, entry, ['service', 'host', 'port', 'id', 'attributes'])
    const service = label(`${where}.service`, entry['service'])
    const host = entry['host'] ?? '127.0.0.1'
    if (typeof host !== 'string' || !isIPv4(host)) fail(`${where}.host`, `expected an IPv4 address (Cloud Map's AWS_INSTANCE_IPV4), got ${shown(host)}`)
    const port = int(`${where}.port`, entry['port'], 1, 65535)
    const id = entry['id'] === undefined ? defaultInstanceId(service, host, port) : label(`${where}.id`, entry['id'])
    return { service, host, port, id, attributes: parseAttributes(`${where}.attributes`, entry['attributes']) }
  })

  const seen = new Map<string, string>()
  const unique = (key: string, where: string): void => {
    const first = seen.get(key)
    if (first !== undefined) fail(where, `duplicate of ${first}`)
    seen.set(key, where)
  }
  deployments.forEach((d, i) => unique(`deployment ${d.name}`, `deployments[${i}].name`))
  mediaNodes.forEach((n, i) => unique(`node ${n}`, `mediaNodes[${i}]`))
  services.forEach((s, i) => {
    unique(`instance ${s.service}/${s.id}`, `services[${i}]`)
    if (seen.has(`deployment ${s.service}`)) fail(`services[${i}].service`, `"${s.service}" is also a demo deployment in deployments`)
  })
  return { demo, deployments, mediaNodes, services }
}
