// `npm run register` command line and environment → a typed command, checked
// once with a message naming the flag. Pure, so it is table-tested.

import { isIPv4 } from 'node:net'
import { isDnsLabel } from '../../../router/src/routing/dns-label.js'
import { DEFAULT_API_PORT } from './emulator/cli-config.js'
import { defaultInstanceId } from './stack-file.js'

export const REGISTER_USAGE = `usage: npm run register -- --service NAME --port PORT [--host IPV4] [--id ID] [--attr key=value]... [--no-check]
       npm run register -- --deregister --service NAME (--port PORT [--host IPV4] | --id ID)
  Registers a service you run (host:port) in the local Cloud Map emulator, so the router
  reaches it at /services/NAME/ (or, with --service media --id NODE, at /media/NODE/).
  --endpoint URL   the emulator's API (EMULATOR_ENDPOINT; default http://127.0.0.1:${DEFAULT_API_PORT}, npm start's)
  --namespace NS   the namespace (CLOUDMAP_NAMESPACE; default ecs.internal)
  --no-check       register even when nothing answers on host:port yet`

export interface RegisterCommand {
  readonly action: 'register' | 'deregister'
  readonly service: string
  readonly host: string
  /** Undefined only for a deregistration by --id. */
  readonly port: number | undefined
  readonly id: string
  readonly attributes: Readonly<Record<string, string>>
  readonly endpoint: string
  readonly namespace: string
  /** Check that something accepts TCP connections on host:port before registering. */
  readonly check: boolean
}

export class RegisterUsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RegisterUsageError'
  }
}

const VALUE_FLAGS = ['--service', '--port', '--host', '--id', '--attr', '--endpoint', '--namespace'] as const

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim()
}

/** Parse argv (after `--`) and the environment; `help` when --help was asked for. */
export function parseRegisterArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): RegisterCommand | 'help' {
  const values = new Map<string, string>()
  const attributes: Record<string, string> = {}
  let deregister = false
  let check = true
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i] ?? ''
    let value: string | undefined
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq !== -1) {
      value = arg.slice(eq + 1)
      arg = arg.slice(0, eq)
    }
    if (arg === '--help' || arg === '-h') return 'help'
    if (arg === '--deregister' || arg === '--no-check') {
      if (value !== undefined) throw new RegisterUsageError(`${arg} takes no value`)
      if (arg === '--deregister') deregister = true
      else check = false
      continue
    }
    if (!(VALUE_FLAGS as readonly string[]).includes(arg)) throw new RegisterUsageError(`unknown argument "${argv[i] ?? ''}"`)
    if (value === undefined) {
      value = argv[i + 1]
      if (value === undefined || value.startsWith('--')) throw new RegisterUsageError(`${arg} needs a value`)
      i++
    }
    if (arg === '--attr') {
      const k = value.indexOf('=')
      const key = k === -1 ? '' : value.slice(0, k)
      if (key === '') throw new RegisterUsageError(`--attr: expected key=value, got "${value}"`)
      if (key.startsWith('AWS_')) throw new RegisterUsageError(`--attr ${key}: AWS_* attributes come from --host and --port`)
      if (key.length > 255 || value.length - k - 1 > 1024) throw new RegisterUsageError(`--attr ${key}: keys are at most 255 characters, values 1024`)
      attributes[key] = value.slice(k + 1)
      continue
    }
    if (values.has(arg)) throw new RegisterUsageError(`${arg} given twice`)
    values.set(arg, value)
  }

  const service = values.get('--service')
  if (service === undefined) throw new RegisterUsageError('--service is required')
  if (!isDnsLabel(service)) throw new RegisterUsageError(`--service: expected a DNS label (1-63 of a-z, 0-9, '-', not starting or ending with '-'), got "${service}": the router only routes to such names`)
  const host = values.get('--host') ?? '127.0.0.1'
  if (!isIPv4(host)) throw new RegisterUsageError(`--host: expected an IPv4 address (Cloud Map's AWS_INSTANCE_IPV4), got "${host}"`)
  const rawPort = values.get('--port')
  let port: number | undefined
  if (rawPort !== undefined) {
    if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) < 1 || Number(rawPort) > 65535) throw new RegisterUsageError(`--port: expected a port number 1..65535, got "${rawPort}"`)
    port = Number(rawPort)
  }
  const rawId = values.get('--id')
  if (rawId !== undefined && !isDnsLabel(rawId)) throw new RegisterUsageError(`--id: expected a DNS label, got "${rawId}"`)
  if (!deregister && port === undefined) throw new RegisterUsageError('--port is required (the port your service listens on)')
  if (deregister && port === undefined && rawId === undefined) throw new RegisterUsageError('--deregister needs --port (and --host, if given at registration) or --id')
  if (deregister && Object.keys(attributes).length > 0) throw new RegisterUsageError('--attr has no meaning with --deregister')
  const id = rawId ?? defaultInstanceId(service, host, port ?? 0)
  if (service === 'media' && rawId === undefined && !deregister) throw new RegisterUsageError('--service media needs --id NODE: the router reaches a media node at /media/<id>/')

  const endpoint = values.get('--endpoint') ?? nonEmpty(env['EMULATOR_ENDPOINT']) ?? `http://127.0.0.1:${DEFAULT_API_PORT}`
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new RegisterUsageError(`--endpoint: expected a URL like http://127.0.0.1:${DEFAULT_API_PORT}, got "${endpoint}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RegisterUsageError(`--endpoint: expected an http(s) URL, got "${endpoint}"`)
  const namespace = values.get('--namespace') ?? nonEmpty(env['CLOUDMAP_NAMESPACE']) ?? 'ecs.internal'
  return { action: deregister ? 'deregister' : 'register', service, host, port, id, attributes, endpoint, namespace, check }
}
