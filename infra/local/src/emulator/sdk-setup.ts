// Setup helpers over the real AWS SDK, for the dev stack and for tests of the
// media node and the router: a client aimed at the emulator, idempotent
// "ensure" calls for namespaces and services, and (de)registration.
// They only use public Cloud Map operations, so they work against AWS too.

import {
  CreatePrivateDnsNamespaceCommand,
  CreateServiceCommand,
  DeregisterInstanceCommand,
  GetOperationCommand,
  InstanceNotFound,
  ListNamespacesCommand,
  ListServicesCommand,
  NamespaceAlreadyExists,
  RegisterInstanceCommand,
  ServiceAlreadyExists,
  ServiceDiscoveryClient,
  type ServiceDiscoveryClientConfig,
} from '@aws-sdk/client-servicediscovery'

const OPERATION_POLL_MS = 50
const OPERATION_MAX_POLLS = 200

/**
 * A client for the emulator: region us-east-1, dummy static credentials, and
 * `disableHostPrefix` (DiscoverInstances otherwise goes to `data-<host>`,
 * which does not resolve for 127.0.0.1 or localhost).
 */
export function emulatorClient(endpoint: string, overrides: Partial<ServiceDiscoveryClientConfig> = {}): ServiceDiscoveryClient {
  return new ServiceDiscoveryClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' },
    disableHostPrefix: true,
    ...overrides,
  })
}

/** Poll GetOperation until SUCCESS; throws on FAIL or after ~10 s. */
async function waitForOperation(client: ServiceDiscoveryClient, operationId: string): Promise<Partial<Record<string, string>>> {
  for (let poll = 0; poll < OPERATION_MAX_POLLS; poll++) {
    const { Operation } = await client.send(new GetOperationCommand({ OperationId: operationId }))
    if (Operation?.Status === 'SUCCESS') return Operation.Targets ?? {}
    if (Operation?.Status === 'FAIL') throw new Error(`operation ${operationId} failed: ${Operation.ErrorMessage ?? 'unknown error'}`)
    await new Promise((resolve) => setTimeout(resolve, OPERATION_POLL_MS))
  }
  throw new Error(`operation ${operationId} did not finish`)
}

/** The id of the private DNS namespace `name`, creating it (VPC `vpc-local`) if missing. */
export async function ensurePrivateDnsNamespace(client: ServiceDiscoveryClient, name: string): Promise<string> {
  const listed = await client.send(new ListNamespacesCommand({ Filters: [{ Name: 'NAME', Values: [name], Condition: 'EQ' }] }))
  const existing = listed.Namespaces?.find((ns) => ns.Name?.toLowerCase() === name.toLowerCase() && ns.Type === 'DNS_PRIVATE')
  if (existing?.Id !== undefined) return existing.Id
  try {
    const { OperationId } = await client.send(new CreatePrivateDnsNamespaceCommand({ Name: name, Vpc: 'vpc-local' }))
    if (OperationId === undefined) throw new Error('CreatePrivateDnsNamespace returned no OperationId')
    const targets = await waitForOperation(client, OperationId)
    const id = targets['NAMESPACE']
    if (id === undefined) throw new Error(`operation ${OperationId} names no namespace`)
    return id
  } catch (err) {
    // Created concurrently by someone else: use theirs.
    if (err instanceof NamespaceAlreadyExists && err.NamespaceId !== undefined) return err.NamespaceId
    throw err
  }
}

export interface EnsureServiceOptions {
  namespaceId: string
  name: string
  records: Array<{ type: 'A' | 'SRV'; ttl: number }>
  /** Create with HealthCheckCustomConfig (instances then start HEALTHY and take UpdateInstanceCustomHealthStatus). */
  customHealth?: boolean
}

/** The id of service `name` in the namespace, creating it (MULTIVALUE routing) if missing. */
export async function ensureService(client: ServiceDiscoveryClient, opts: EnsureServiceOptions): Promise<string> {
  const listed = await client.send(new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [opts.namespaceId], Condition: 'EQ' }] }))
  const existing = listed.Services?.find((service) => service.Name?.toLowerCase() === opts.name.toLowerCase())
  if (existing?.Id !== undefined) return existing.Id
  try {
    const { Service } = await client.send(
      new CreateServiceCommand({
        Name: opts.name,
        NamespaceId: opts.namespaceId,
        DnsConfig: {
          RoutingPolicy: 'MULTIVALUE',
          DnsRecords: opts.records.map((record) => ({ Type: record.type, TTL: record.ttl })),
        },
        ...(opts.customHealth === true ? { HealthCheckCustomConfig: {} } : {}),
      }),
    )
    if (Service?.Id === undefined) throw new Error('CreateService returned no service id')
    return Service.Id
  } catch (err) {
    if (err instanceof ServiceAlreadyExists && err.ServiceId !== undefined) return err.ServiceId
    throw err
  }
}

export interface RegisterInstanceOptions {
  serviceId: string
  instanceId: string
  ipv4: string
  port: number
  /** Custom attributes, added to AWS_INSTANCE_IPV4 / AWS_INSTANCE_PORT. */
  attributes?: Record<string, string>
}

/** Register (or re-register) an instance and wait for the operation. */
export async function registerInstance(client: ServiceDiscoveryClient, opts: RegisterInstanceOptions): Promise<void> {
  const { OperationId } = await client.send(
    new RegisterInstanceCommand({
      ServiceId: opts.serviceId,
      InstanceId: opts.instanceId,
      Attributes: { ...opts.attributes, AWS_INSTANCE_IPV4: opts.ipv4, AWS_INSTANCE_PORT: String(opts.port) },
    }),
  )
  if (OperationId !== undefined) await waitForOperation(client, OperationId)
}

/** Deregister an instance and wait; an instance that is already gone is fine. */
export async function deregisterInstance(client: ServiceDiscoveryClient, serviceId: string, instanceId: string): Promise<void> {
  try {
    const { OperationId } = await client.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId }))
    if (OperationId !== undefined) await waitForOperation(client, OperationId)
  } catch (err) {
    if (err instanceof InstanceNotFound) return
    throw err
  }
}
