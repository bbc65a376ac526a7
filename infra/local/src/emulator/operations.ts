// One handler per Cloud Map operation: validate the request JSON into typed
// values, call the state, shape the response exactly as the SDK's output types
// (node_modules/@aws-sdk/client-servicediscovery/dist-types/models/models_0.d.ts).
// Timestamps go out as epoch seconds (AWS JSON 1.1 default).

import { invalidInput } from './aws-errors.js'
import type {
  DiscoverQuery,
  DnsRecordConfig,
  EmulatorState,
  HealthCheckConfig,
  InstanceRecord,
  NamespaceRecord,
  NamespaceType,
  ServiceRecord,
} from './state.js'
import { ACCOUNT_ID } from './ids.js'
import {
  asObject,
  optionalArray,
  optionalAttributes,
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalString,
  requiredEnum,
  requiredInteger,
  requiredString,
  type JsonObject,
} from './validate.js'

export type Handler = (state: EmulatorState, body: JsonObject) => Record<string, unknown>

// Field rules from the Cloud Map model (docs/cloud-map-facts.md, "Name rules").
const RESOURCE_ID = { min: 1, max: 64 }
const INSTANCE_ID = { min: 1, max: 64, pattern: /^[0-9a-zA-Z_/:.@-]+$/ }
const DESCRIPTION = { max: 1024 }
const NAMESPACE_NAME_PRIVATE = { min: 1, max: 253, pattern: /^[!-~]{1,253}$/ }
const NAMESPACE_NAME_PUBLIC = {
  min: 1,
  max: 253,
  pattern: /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/,
}
const NAMESPACE_NAME_HTTP = { min: 1, max: 1024, pattern: /^[!-~]{1,1024}$/ }
const SERVICE_NAME = {
  min: 1,
  max: 127,
  pattern: /^((?=^.{1,127}$)^([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\.([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$)|(^\.$)$/,
}
const MAX_TTL = 2147483647

function epochSeconds(ms: number): number {
  return ms / 1000
}

function pageOf<T>(items: readonly T[], body: JsonObject): { page: T[]; nextToken?: string } {
  const max = optionalInteger(body, 'MaxResults', 1, 100) ?? 100
  const token = optionalString(body, 'NextToken', { max: 4096 })
  let start = 0
  if (token !== undefined) {
    const decoded = Number(Buffer.from(token, 'base64url').toString('utf8'))
    if (!Number.isInteger(decoded) || decoded < 0) throw invalidInput('NextToken is not valid')
    start = decoded
  }
  const page = items.slice(start, start + max)
  const next = start + max
  return next < items.length ? { page, nextToken: Buffer.from(String(next), 'utf8').toString('base64url') } : { page }
}

// ---- shapes ----------------------------------------------------------------

function namespaceShape(state: EmulatorState, ns: NamespaceRecord): Record<string, unknown> {
  const properties: Record<string, unknown> = { HttpProperties: { HttpName: ns.name } }
  if (ns.type !== 'HTTP') properties['DnsProperties'] = { HostedZoneId: ns.hostedZoneId, SOA: { TTL: ns.soaTtl } }
  return {
    Id: ns.id,
    Arn: ns.arn,
    ResourceOwner: ACCOUNT_ID,
    Name: ns.name,
    Type: ns.type,
    Description: ns.description,
    ServiceCount: state.serviceCount(ns.id),
    Properties: properties,
    CreateDate: epochSeconds(ns.createDate),
    CreatorRequestId: ns.creatorRequestId,
  }
}

function dnsConfigShape(service: ServiceRecord): Record<string, unknown> | undefined {
  if (service.dnsConfig === undefined) return undefined
  return {
    NamespaceId: service.namespaceId,
    RoutingPolicy: service.dnsConfig.routingPolicy,
    DnsRecords: service.dnsConfig.records.map((record) => ({ Type: record.type, TTL: record.ttl })),
  }
}

function healthShapes(service: ServiceRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const check = service.healthCheckConfig
  if (check !== undefined) {
    out['HealthCheckConfig'] = { Type: check.type, ResourcePath: check.resourcePath, FailureThreshold: check.failureThreshold }
  }
  if (service.healthCheckCustomConfig !== undefined) {
    out['HealthCheckCustomConfig'] = { FailureThreshold: service.healthCheckCustomConfig.failureThreshold ?? 1 }
  }
  return out
}

function serviceShape(state: EmulatorState, service: ServiceRecord): Record<string, unknown> {
  return {
    Id: service.id,
    Arn: service.arn,
    ResourceOwner: ACCOUNT_ID,
    Name: service.name,
    NamespaceId: service.namespaceId,
    Description: service.description,
    InstanceCount: state.instanceCount(service.id),
    DnsConfig: dnsConfigShape(service),
    Type: service.type,
    ...healthShapes(service),
    CreateDate: epochSeconds(service.createDate),
    CreatorRequestId: service.creatorRequestId,
    CreatedByAccount: ACCOUNT_ID,
  }
}

function instanceShape(instance: InstanceRecord): Record<string, unknown> {
  return { Id: instance.id, CreatorRequestId: instance.creatorRequestId, Attributes: instance.attributes, CreatedByAccount: ACCOUNT_ID }
}

// ---- request readers -------------------------------------------------------

function readDnsRecord(value: unknown, path: string): DnsRecordConfig {
  const o = asObject(value, path)
  return {
    type: requiredEnum(o, 'Type', ['A', 'AAAA', 'SRV', 'CNAME'] as const, `${path}.Type`),
    ttl: requiredInteger(o, 'TTL', 0, MAX_TTL, `${path}.TTL`),
  }
}

function readHealthCheckConfig(body: JsonObject): HealthCheckConfig | undefined {
  const o = optionalObject(body, 'HealthCheckConfig')
  if (o === undefined) return undefined
  const type = requiredEnum(o, 'Type', ['HTTP', 'HTTPS', 'TCP'] as const, 'HealthCheckConfig.Type')
  const resourcePath = optionalString(o, 'ResourcePath', { max: 255 }, 'HealthCheckConfig.ResourcePath')
  if (type === 'TCP' && resourcePath !== undefined) throw invalidInput('HealthCheckConfig.ResourcePath is not allowed for TCP')
  return { type, resourcePath, failureThreshold: optionalInteger(o, 'FailureThreshold', 1, 10, 'HealthCheckConfig.FailureThreshold') }
}

function readTags(body: JsonObject): void {
  // Tags are accepted and validated but not stored: nothing here reads them back.
  optionalArray(body, 'Tags', (value, path) => {
    const tag = asObject(value, path)
    requiredString(tag, 'Key', { min: 1, max: 128 }, `${path}.Key`)
    requiredString(tag, 'Value', { max: 256 }, `${path}.Value`)
    return undefined
  })
}

function createNamespace(type: NamespaceType): Handler {
  return (state, body) => {
    const rules = type === 'HTTP' ? NAMESPACE_NAME_HTTP : type === 'DNS_PUBLIC' ? NAMESPACE_NAME_PUBLIC : NAMESPACE_NAME_PRIVATE
    const name = requiredString(body, 'Name', rules)
    const vpc = type === 'DNS_PRIVATE' ? requiredString(body, 'Vpc', RESOURCE_ID) : undefined
    let soaTtl: number | undefined
    if (type !== 'HTTP') {
      const props = optionalObject(body, 'Properties')
      const dns = props === undefined ? undefined : asObject(props['DnsProperties'], 'Properties.DnsProperties')
      const soa = dns === undefined ? undefined : asObject(dns['SOA'], 'Properties.DnsProperties.SOA')
      soaTtl = soa === undefined ? undefined : requiredInteger(soa, 'TTL', 0, MAX_TTL, 'Properties.DnsProperties.SOA.TTL')
    }
    readTags(body)
    const operationId = state.createNamespace({
      name,
      type,
      vpc,
      soaTtl,
      creatorRequestId: optionalString(body, 'CreatorRequestId', { max: 64 }),
      description: optionalString(body, 'Description', DESCRIPTION),
    })
    return { OperationId: operationId }
  }
}

// ---- handlers --------------------------------------------------------------

const createService: Handler = (state, body) => {
  const name = requiredString(body, 'Name', SERVICE_NAME)
  const dnsBody = optionalObject(body, 'DnsConfig')
  const namespaceId =
    optionalString(body, 'NamespaceId', RESOURCE_ID) ??
    (dnsBody === undefined ? undefined : optionalString(dnsBody, 'NamespaceId', RESOURCE_ID, 'DnsConfig.NamespaceId'))
  if (namespaceId === undefined) throw invalidInput('NamespaceId is required')
  const custom = optionalObject(body, 'HealthCheckCustomConfig')
  readTags(body)
  const service = state.createService({
    name,
    namespaceId,
    creatorRequestId: optionalString(body, 'CreatorRequestId', { max: 64 }),
    description: optionalString(body, 'Description', DESCRIPTION),
    dnsConfig:
      dnsBody === undefined
        ? undefined
        : {
            routingPolicy: optionalEnum(dnsBody, 'RoutingPolicy', ['MULTIVALUE', 'WEIGHTED'] as const, 'DnsConfig.RoutingPolicy') ?? 'MULTIVALUE',
            records: optionalArray(dnsBody, 'DnsRecords', readDnsRecord, 'DnsConfig.DnsRecords') ?? [],
          },
    healthCheckConfig: readHealthCheckConfig(body),
    healthCheckCustomConfig:
      custom === undefined ? undefined : { failureThreshold: optionalInteger(custom, 'FailureThreshold', 1, 10, 'HealthCheckCustomConfig.FailureThreshold') },
    httpOnly: optionalEnum(body, 'Type', ['HTTP'] as const) === 'HTTP',
  })
  return { Service: serviceShape(state, service) }
}

const getNamespace: Handler = (state, body) => ({
  Namespace: namespaceShape(state, state.getNamespace(requiredString(body, 'Id', RESOURCE_ID))),
})

interface Filter {
  readonly name: string
  readonly values: readonly string[]
  readonly condition: 'EQ' | 'IN' | 'BETWEEN' | 'BEGINS_WITH'
}

function readFilters(body: JsonObject, names: readonly string[]): Filter[] {
  return (
    optionalArray(body, 'Filters', (value, path) => {
      const o = asObject(value, path)
      const values = optionalArray(o, 'Values', (v, p) => {
        if (typeof v !== 'string') throw invalidInput(`${p} must be a string`)
        return v
      }, `${path}.Values`)
      if (values === undefined || values.length === 0) throw invalidInput(`${path}.Values is required`)
      return {
        name: requiredEnum(o, 'Name', names, `${path}.Name`),
        values,
        condition: optionalEnum(o, 'Condition', ['EQ', 'IN', 'BETWEEN', 'BEGINS_WITH'] as const, `${path}.Condition`) ?? 'EQ',
      }
    }) ?? []
  )
}

function filterMatches(filter: Filter, actual: string): boolean {
  switch (filter.condition) {
    case 'EQ':
      return filter.values[0] === actual
    case 'IN':
      return filter.values.includes(actual)
    case 'BEGINS_WITH':
      return actual.startsWith(filter.values[0] ?? '')
    case 'BETWEEN':
      throw invalidInput('BETWEEN is not supported for this filter')
  }
}

const listNamespaces: Handler = (state, body) => {
  const filters = readFilters(body, ['TYPE', 'NAME', 'HTTP_NAME', 'RESOURCE_OWNER'])
  const matching = state.listNamespaces().filter((ns) =>
    filters.every((filter) => {
      if (filter.name === 'TYPE') return filterMatches(filter, ns.type)
      if (filter.name === 'RESOURCE_OWNER') return filterMatches(filter, ACCOUNT_ID)
      return filterMatches(filter, ns.name)
    }),
  )
  const { page, nextToken } = pageOf(matching, body)
  return { Namespaces: page.map((ns) => namespaceShape(state, ns)), NextToken: nextToken }
}

const getService: Handler = (state, body) => ({
  Service: serviceShape(state, state.getService(requiredString(body, 'Id', RESOURCE_ID))),
})

const listServices: Handler = (state, body) => {
  const filters = readFilters(body, ['NAMESPACE_ID', 'RESOURCE_OWNER'])
  const matching = state.listServices().filter((service) =>
    filters.every((filter) => filterMatches(filter, filter.name === 'NAMESPACE_ID' ? service.namespaceId : ACCOUNT_ID)),
  )
  const { page, nextToken } = pageOf(matching, body)
  return {
    Services: page.map((service) => {
      const { CreatorRequestId: _omit, NamespaceId: _ns, ...summary } = serviceShape(state, service)
      return summary
    }),
    NextToken: nextToken,
  }
}

const registerInstance: Handler = (state, body) => {
  const attributes = optionalAttributes(body, 'Attributes')
  if (attributes === undefined) throw invalidInput('Attributes is required')
  const operationId = state.registerInstance({
    serviceId: requiredString(body, 'ServiceId', RESOURCE_ID),
    instanceId: requiredString(body, 'InstanceId', INSTANCE_ID),
    creatorRequestId: optionalString(body, 'CreatorRequestId', { max: 64 }),
    attributes,
  })
  return { OperationId: operationId }
}

const deregisterInstance: Handler = (state, body) => ({
  OperationId: state.deregisterInstance(requiredString(body, 'ServiceId', RESOURCE_ID), requiredString(body, 'InstanceId', RESOURCE_ID)),
})

const getInstance: Handler = (state, body) => ({
  ResourceOwner: ACCOUNT_ID,
  Instance: instanceShape(state.getInstance(requiredString(body, 'ServiceId', RESOURCE_ID), requiredString(body, 'InstanceId', RESOURCE_ID))),
})

const listInstances: Handler = (state, body) => {
  const instances = state.listInstances(requiredString(body, 'ServiceId', RESOURCE_ID))
  const { page, nextToken } = pageOf(instances, body)
  return {
    ResourceOwner: ACCOUNT_ID,
    Instances: page.map((instance) => ({ Id: instance.id, Attributes: instance.attributes, CreatedByAccount: ACCOUNT_ID })),
    NextToken: nextToken,
  }
}

function readDiscoverQuery(body: JsonObject): DiscoverQuery {
  return {
    namespaceName: requiredString(body, 'NamespaceName', { min: 1, max: 1024 }),
    serviceName: requiredString(body, 'ServiceName', SERVICE_NAME),
    maxResults: optionalInteger(body, 'MaxResults', 1, 1000),
    queryParameters: optionalAttributes(body, 'QueryParameters'),
    optionalParameters: optionalAttributes(body, 'OptionalParameters'),
    healthStatus: optionalEnum(body, 'HealthStatus', ['HEALTHY', 'UNHEALTHY', 'ALL', 'HEALTHY_OR_ELSE_ALL'] as const),
  }
}

const discoverInstances: Handler = (state, body) => {
  optionalString(body, 'OwnerAccount', { max: 12 })
  const result = state.discover(readDiscoverQuery(body))
  return {
    Instances: result.instances.map(({ instance, health }) => ({
      InstanceId: instance.id,
      NamespaceName: result.namespace.name,
      ServiceName: result.service.name,
      HealthStatus: health,
      Attributes: instance.attributes,
    })),
    InstancesRevision: result.revision,
  }
}

const discoverInstancesRevision: Handler = (state, body) => {
  optionalString(body, 'OwnerAccount', { max: 12 })
  const namespaceName = requiredString(body, 'NamespaceName', { min: 1, max: 1024 })
  const serviceName = requiredString(body, 'ServiceName', SERVICE_NAME)
  return { InstancesRevision: state.revision(namespaceName, serviceName) }
}

const updateInstanceCustomHealthStatus: Handler = (state, body) => {
  state.setCustomHealth(
    requiredString(body, 'ServiceId', RESOURCE_ID),
    requiredString(body, 'InstanceId', RESOURCE_ID),
    requiredEnum(body, 'Status', ['HEALTHY', 'UNHEALTHY'] as const),
  )
  return {}
}

const getOperation: Handler = (state, body) => {
  optionalString(body, 'OwnerAccount', { max: 12 })
  const op = state.getOperation(requiredString(body, 'OperationId', { min: 1, max: 255 }))
  return {
    Operation: {
      Id: op.id,
      OwnerAccount: ACCOUNT_ID,
      Type: op.type,
      Status: op.status,
      CreateDate: epochSeconds(op.createDate),
      UpdateDate: epochSeconds(op.updateDate),
      Targets: op.targets,
    },
  }
}

/** Operation name (the part of X-Amz-Target after the dot) → handler. */
export const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['CreateHttpNamespace', createNamespace('HTTP')],
  ['CreatePrivateDnsNamespace', createNamespace('DNS_PRIVATE')],
  ['CreatePublicDnsNamespace', createNamespace('DNS_PUBLIC')],
  ['ListNamespaces', listNamespaces],
  ['GetNamespace', getNamespace],
  ['CreateService', createService],
  ['ListServices', listServices],
  ['GetService', getService],
  ['RegisterInstance', registerInstance],
  ['DeregisterInstance', deregisterInstance],
  ['GetInstance', getInstance],
  ['ListInstances', listInstances],
  ['DiscoverInstances', discoverInstances],
  ['DiscoverInstancesRevision', discoverInstancesRevision],
  ['UpdateInstanceCustomHealthStatus', updateInstanceCustomHealthStatus],
  ['GetOperation', getOperation],
])

/** Operations the throttle switch applies to. */
export const THROTTLED_OPERATIONS: ReadonlySet<string> = new Set(['DiscoverInstances', 'DiscoverInstancesRevision'])
