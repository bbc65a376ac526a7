// What `npm run register` does against the Cloud Map emulator (or any Cloud
// Map endpoint): register a running service by host:port, or deregister it.
// Every failure becomes a RegisterError whose message says what to do.

import { connect } from 'node:net'
import { DeregisterInstanceCommand, InstanceNotFound, ListNamespacesCommand, ListServicesCommand, type ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { emulatorClient, ensureService, registerInstance } from './emulator/sdk-setup.js'
import type { RegisterCommand } from './register-args.js'

export class RegisterError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'RegisterError'
  }
}

const CHECK_TIMEOUT_MS = 2000

/** A client that fails fast: one attempt, short timeouts. */
export function registerClient(endpoint: string): ServiceDiscoveryClient {
  return emulatorClient(endpoint, { maxAttempts: 1, requestHandler: new NodeHttpHandler({ connectionTimeout: 2000, requestTimeout: 10_000 }) })
}

/** Resolves when something accepts a TCP connection on host:port, else rejects with why. */
function checkListening(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`))
    }, CHECK_TIMEOUT_MS)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.end()
      resolve()
    })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(new Error(err.code ?? err.message))
    })
  })
}

/** Turns an SDK/network failure into a RegisterError that names the endpoint. */
function explain(cmd: RegisterCommand, err: unknown): RegisterError {
  if (err instanceof RegisterError) return err
  const code = typeof err === 'object' && err !== null ? Reflect.get(err, 'code') : undefined
  const name = err instanceof Error ? err.name : ''
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || name === 'TimeoutError') {
    return new RegisterError(`cannot reach the Cloud Map emulator at ${cmd.endpoint} (${String(code ?? name)}): is \`npm start\` running? Point --endpoint or EMULATOR_ENDPOINT at its "Emulator API" address`, { cause: err })
  }
  return new RegisterError(`${cmd.endpoint} answered ${name !== '' ? `${name}: ` : ''}${err instanceof Error ? err.message : String(err)}`, { cause: err })
}

async function namespaceId(client: ServiceDiscoveryClient, cmd: RegisterCommand): Promise<string> {
  const listed = await client.send(new ListNamespacesCommand({}))
  const found = listed.Namespaces?.find((ns) => ns.Name?.toLowerCase() === cmd.namespace.toLowerCase())
  if (found?.Id === undefined) {
    const names = (listed.Namespaces ?? []).map((ns) => ns.Name).join(', ')
    throw new RegisterError(`no namespace "${cmd.namespace}" at ${cmd.endpoint} (it has: ${names === '' ? 'none' : names}); pass --namespace or CLOUDMAP_NAMESPACE as npm start uses it`)
  }
  return found.Id
}

/** Register cmd's host:port; returns the lines to print. */
export async function registerService(cmd: RegisterCommand, client: ServiceDiscoveryClient): Promise<string[]> {
  const port = cmd.port
  if (port === undefined) throw new RegisterError('--port is required')
  if (cmd.check) {
    await checkListening(cmd.host, port).catch((err: unknown) => {
      throw new RegisterError(`nothing accepts connections on ${cmd.host}:${port} (${err instanceof Error ? err.message : String(err)}): start your service first, or pass --no-check`)
    })
  }
  try {
    const nsId = await namespaceId(client, cmd)
    const serviceId = await ensureService(client, { namespaceId: nsId, name: cmd.service, records: [{ type: 'SRV', ttl: 5 }], customHealth: true })
    await registerInstance(client, { serviceId, instanceId: cmd.id, ipv4: cmd.host, port, attributes: { ...cmd.attributes } })
  } catch (err) {
    throw explain(cmd, err)
  }
  const path = cmd.service === 'media' ? `/media/${cmd.id}/` : `/services/${cmd.service}/`
  return [
    `registered ${cmd.id} (${cmd.host}:${port}) in service ${cmd.service} of ${cmd.namespace} at ${cmd.endpoint}`,
    `the router reaches it at ${path} (e.g. curl -s http://127.0.0.1:8080${path} with npm start's defaults; DNS answers are cached up to 5 s)`,
    `remove it: npm run register -- --deregister --service ${cmd.service} --id ${cmd.id}${cmd.endpoint === 'http://127.0.0.1:9600' ? '' : ` --endpoint ${cmd.endpoint}`}`,
  ]
}

/** Deregister cmd's instance; returns the lines to print. */
export async function deregisterService(cmd: RegisterCommand, client: ServiceDiscoveryClient): Promise<string[]> {
  try {
    const nsId = await namespaceId(client, cmd)
    const listed = await client.send(new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [nsId], Condition: 'EQ' }] }))
    const service = listed.Services?.find((s) => s.Name?.toLowerCase() === cmd.service.toLowerCase())
    if (service?.Id === undefined) throw new RegisterError(`no service "${cmd.service}" in ${cmd.namespace} at ${cmd.endpoint}`)
    await client.send(new DeregisterInstanceCommand({ ServiceId: service.Id, InstanceId: cmd.id }))
  } catch (err) {
    if (err instanceof InstanceNotFound) throw new RegisterError(`no instance "${cmd.id}" in service ${cmd.service} (registered with another --port/--host? pass --id)`, { cause: err })
    throw explain(cmd, err)
  }
  return [`deregistered ${cmd.id} from service ${cmd.service} of ${cmd.namespace}`]
}
