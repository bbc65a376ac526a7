// The emulator's in-memory Cloud Map: namespaces, services, instances and
// operations, with the rules Cloud Map applies to them (uniqueness, health,
// InstancesRevision). No I/O: the API layer calls it, the DNS layer reads
// `dnsZones()`, and persistence goes through `toSnapshot()` / `fromSnapshot()`.
// Failures are thrown as AwsError so the API can send them unchanged.

import {
  customHealthNotFound,
  duplicateRequest,
  instanceNotFound,
  invalidInput,
  namespaceAlreadyExists,
  namespaceNotFound,
  operationNotFound,
  serviceAlreadyExists,
  serviceNotFound,
} from './aws-errors.js'
import { randomPicker, type DnsZone } from './dns-answers.js'
import { newHostedZoneId, newNamespaceId, newOperationId, newServiceId, namespaceArn, serviceArn } from './ids.js'

export type NamespaceType = 'HTTP' | 'DNS_PRIVATE' | 'DNS_PUBLIC'
export type RecordType = 'A' | 'AAAA' | 'SRV' | 'CNAME'
export type RoutingPolicy = 'MULTIVALUE' | 'WEIGHTED'
export type ServiceType = 'HTTP' | 'DNS_HTTP' | 'DNS'
export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN'
export type OperationType = 'CREATE_NAMESPACE' | 'REGISTER_INSTANCE' | 'DEREGISTER_INSTANCE'
export type OperationTargetType = 'NAMESPACE' | 'SERVICE' | 'INSTANCE'

export interface NamespaceRecord {
  readonly id: string
  readonly arn: string
  readonly name: string
  readonly type: NamespaceType
  readonly description?: string | undefined
  readonly creatorRequestId?: string | undefined
  readonly createDate: number
  readonly vpc?: string | undefined
  readonly hostedZoneId?: string | undefined
  /** SOA TTL for DNS namespaces (also the negative-caching TTL). */
  readonly soaTtl?: number | undefined
}

export interface DnsRecordConfig {
  readonly type: RecordType
  readonly ttl: number
}

export interface HealthCheckConfig {
  readonly type: 'HTTP' | 'HTTPS' | 'TCP'
  readonly resourcePath?: string | undefined
  readonly failureThreshold?: number | undefined
}

export interface ServiceRecord {
  readonly id: string
  readonly arn: string
  readonly name: string
  readonly namespaceId: string
  readonly description?: string | undefined
  readonly creatorRequestId?: string | undefined
  readonly createDate: number
  readonly type: ServiceType
  readonly dnsConfig?: { readonly routingPolicy: RoutingPolicy; readonly records: readonly DnsRecordConfig[] } | undefined
  readonly healthCheckConfig?: HealthCheckConfig | undefined
  /** Present when the service was created with HealthCheckCustomConfig. */
  readonly healthCheckCustomConfig?: { readonly failureThreshold?: number | undefined } | undefined
}

export interface InstanceRecord {
  readonly id: string
  readonly creatorRequestId?: string | undefined
  readonly attributes: Readonly<Record<string, string>>
  readonly health: HealthStatus
}

export interface OperationRecord {
  readonly id: string
  readonly type: OperationType
  readonly status: 'SUCCESS'
  readonly createDate: number
  readonly updateDate: number
  readonly targets: Readonly<Partial<Record<OperationTargetType, string>>>
  /** The request's CreatorRequestId, to answer retries and spot reuse. */
  readonly creatorRequestId?: string | undefined
}

interface ServiceEntry {
  record: ServiceRecord
  instances: Map<string, InstanceRecord>
  /** InstancesRevision: bumped by register/deregister, not by health changes. */
  revision: number
}

/** What `toSnapshot()` writes and `fromSnapshot()` reads (the state file). */
export interface StateSnapshot {
  readonly version: 1
  readonly namespaces: readonly NamespaceRecord[]
  readonly services: ReadonlyArray<{ readonly service: ServiceRecord; readonly revision: number; readonly instances: readonly InstanceRecord[] }>
  readonly operations: readonly OperationRecord[]
}

/**
 * Operations kept for GetOperation and retries; the oldest are forgotten
 * beyond this (AWS also keeps them only for a while), which bounds memory and
 * the state file under registration churn.
 */
export const MAX_OPERATIONS = 10_000

/** Default SOA TTL of a Cloud Map private DNS namespace when none is given. */
export const DEFAULT_SOA_TTL = 15

const DNS_LABEL_MAX = 63
const DNS_NAME_MAX = 253

export interface CreateNamespaceInput {
  readonly name: string
  readonly type: NamespaceType
  readonly creatorRequestId?: string | undefined
  readonly description?: string | undefined
  readonly vpc?: string | undefined
  readonly soaTtl?: number | undefined
}

export interface CreateServiceInput {
  readonly name: string
  readonly namespaceId: string
  readonly creatorRequestId?: string | undefined
  readonly description?: string | undefined
  readonly dnsConfig?: { readonly routingPolicy: RoutingPolicy; readonly records: readonly DnsRecordConfig[] } | undefined
  readonly healthCheckConfig?: HealthCheckConfig | undefined
  readonly healthCheckCustomConfig?: { readonly failureThreshold?: number | undefined } | undefined
  readonly httpOnly: boolean
}

export interface RegisterInstanceInput {
  readonly serviceId: string
  readonly instanceId: string
  readonly creatorRequestId?: string | undefined
  readonly attributes: Readonly<Record<string, string>>
}

export type HealthFilter = 'HEALTHY' | 'UNHEALTHY' | 'ALL' | 'HEALTHY_OR_ELSE_ALL'

export interface DiscoverQuery {
  readonly namespaceName: string
  readonly serviceName: string
  readonly maxResults?: number | undefined
  readonly queryParameters?: Readonly<Record<string, string>> | undefined
  readonly optionalParameters?: Readonly<Record<string, string>> | undefined
  readonly healthStatus?: HealthFilter | undefined
}

export interface DiscoveredInstance {
  readonly instance: InstanceRecord
  readonly health: HealthStatus
}

export interface DiscoverResult {
  readonly namespace: NamespaceRecord
  readonly service: ServiceRecord
  readonly instances: readonly DiscoveredInstance[]
  readonly revision: number
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

function matchesAll(attributes: Readonly<Record<string, string>>, filter: Readonly<Record<string, string>>): boolean {
  return Object.entries(filter).every(([key, value]) => attributes[key] === value)
}

function sameAttributes(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key])
}

function parseIpv4(value: string): boolean {
  const parts = value.split('.')
  return parts.length === 4 && parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)
}

export class EmulatorState {
  readonly #namespaces = new Map<string, NamespaceRecord>()
  readonly #services = new Map<string, ServiceEntry>()
  readonly #operations = new Map<string, OperationRecord>()
  /** `${type} ${CreatorRequestId}` → operation, to answer retries without a scan. */
  readonly #byToken = new Map<string, OperationRecord>()
  readonly #now: () => number
  readonly #listeners = new Set<() => void>()

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** Called after every mutation (persistence hooks in here). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #changed(): void {
    for (const listener of this.#listeners) listener()
  }

  #operation(type: OperationType, targets: Partial<Record<OperationTargetType, string>>, creatorRequestId: string | undefined): OperationRecord {
    const now = this.#now()
    const op: OperationRecord = { id: newOperationId(), type, status: 'SUCCESS', createDate: now, updateDate: now, targets, creatorRequestId }
    this.#remember(op)
    return op
  }

  #remember(op: OperationRecord): void {
    this.#operations.set(op.id, op)
    if (op.creatorRequestId !== undefined) this.#byToken.set(`${op.type} ${op.creatorRequestId}`, op)
    while (this.#operations.size > MAX_OPERATIONS) {
      const oldest = this.#operations.values().next().value
      if (oldest === undefined) break
      this.#operations.delete(oldest.id)
      const key = `${oldest.type} ${oldest.creatorRequestId ?? ''}`
      if (this.#byToken.get(key) === oldest) this.#byToken.delete(key)
    }
  }

  #earlier(type: OperationType, creatorRequestId: string | undefined): OperationRecord | undefined {
    return creatorRequestId === undefined ? undefined : this.#byToken.get(`${type} ${creatorRequestId}`)
  }

  // ---- namespaces ---------------------------------------------------------

  /** Create a namespace; returns the OperationId (the operation is already SUCCESS). */
  createNamespace(input: CreateNamespaceInput): string {
    const earlier = this.#earlier('CREATE_NAMESPACE', input.creatorRequestId)
    if (earlier !== undefined) {
      const ns = this.#namespaces.get(earlier.targets.NAMESPACE ?? '')
      // A retry of the same request answers the same operation.
      if (ns !== undefined && ns.name === input.name && ns.type === input.type) return earlier.id
      throw duplicateRequest(`CreatorRequestId ${input.creatorRequestId ?? ''} was already used by another request`, earlier.id)
    }
    const isDns = input.type !== 'HTTP'
    for (const ns of this.#namespaces.values()) {
      const clash = isDns && ns.type !== 'HTTP' ? sameName(ns.name, input.name) : ns.name === input.name
      if (clash) throw namespaceAlreadyExists(`Namespace ${input.name} already exists`, ns.id, ns.creatorRequestId)
    }
    const id = newNamespaceId()
    const record: NamespaceRecord = {
      id,
      arn: namespaceArn(id),
      name: input.name,
      type: input.type,
      description: input.description,
      creatorRequestId: input.creatorRequestId,
      createDate: this.#now(),
      vpc: input.vpc,
      hostedZoneId: isDns ? newHostedZoneId() : undefined,
      soaTtl: isDns ? (input.soaTtl ?? DEFAULT_SOA_TTL) : undefined,
    }
    this.#namespaces.set(id, record)
    const op = this.#operation('CREATE_NAMESPACE', { NAMESPACE: id }, input.creatorRequestId)
    this.#changed()
    return op.id
  }

  getNamespace(id: string): NamespaceRecord {
    const ns = this.#namespaces.get(id)
    if (ns === undefined) throw namespaceNotFound(`Namespace ${id} not found`)
    return ns
  }

  listNamespaces(): NamespaceRecord[] {
    return [...this.#namespaces.values()]
  }

  serviceCount(namespaceId: string): number {
    let count = 0
    for (const entry of this.#services.values()) if (entry.record.namespaceId === namespaceId) count++
    return count
  }

  // ---- services -----------------------------------------------------------

  createService(input: CreateServiceInput): ServiceRecord {
    const ns = this.getNamespace(input.namespaceId)
    for (const entry of this.#services.values()) {
      const existing = entry.record
      if (existing.namespaceId !== ns.id) continue
      const clash = ns.type === 'HTTP' ? existing.name === input.name : sameName(existing.name, input.name)
      if (!clash) continue
      // A retry with the same CreatorRequestId returns the service it created.
      if (input.creatorRequestId !== undefined && existing.creatorRequestId === input.creatorRequestId) return existing
      throw serviceAlreadyExists(`Service ${input.name} already exists`, existing.id, existing.arn, existing.creatorRequestId)
    }
    if (input.healthCheckConfig !== undefined && input.healthCheckCustomConfig !== undefined) {
      throw invalidInput('Specify either HealthCheckConfig or HealthCheckCustomConfig, not both')
    }
    let type: ServiceType = 'HTTP'
    if (input.dnsConfig !== undefined) {
      if (ns.type === 'HTTP') throw invalidInput('DnsConfig is not supported for HTTP namespaces')
      if (input.httpOnly) throw invalidInput('DnsConfig cannot be combined with Type HTTP')
      validateRecordTypes(input.dnsConfig.records, input.healthCheckConfig !== undefined)
      type = 'DNS_HTTP'
    }
    if (input.healthCheckConfig !== undefined && ns.type === 'DNS_PRIVATE') {
      throw invalidInput('HealthCheckConfig is supported for public DNS and HTTP namespaces only')
    }
    const id = newServiceId()
    const record: ServiceRecord = {
      id,
      arn: serviceArn(id),
      name: input.name,
      namespaceId: ns.id,
      description: input.description,
      creatorRequestId: input.creatorRequestId,
      createDate: this.#now(),
      type,
      dnsConfig: input.dnsConfig,
      healthCheckConfig: input.healthCheckConfig,
      healthCheckCustomConfig: input.healthCheckCustomConfig,
    }
    this.#services.set(id, { record, instances: new Map(), revision: 0 })
    this.#changed()
    return record
  }

  #entry(serviceId: string): ServiceEntry {
    const entry = this.#services.get(serviceId)
    if (entry === undefined) throw serviceNotFound(`Service ${serviceId} not found`)
    return entry
  }

  getService(id: string): ServiceRecord {
    return this.#entry(id).record
  }

  listServices(): ServiceRecord[] {
    return [...this.#services.values()].map((entry) => entry.record)
  }

  instanceCount(serviceId: string): number {
    return this.#entry(serviceId).instances.size
  }

  // ---- instances ----------------------------------------------------------

  /** Register or update an instance; returns the OperationId. */
  registerInstance(input: RegisterInstanceInput): string {
    const entry = this.#entry(input.serviceId)
    const service = entry.record
    const earlier = this.#earlier('REGISTER_INSTANCE', input.creatorRequestId)
    if (earlier !== undefined) {
      const sameTarget = earlier.targets.SERVICE === service.id && earlier.targets.INSTANCE === input.instanceId
      const current = entry.instances.get(input.instanceId)
      if (sameTarget && current !== undefined && sameAttributes(current.attributes, input.attributes)) return earlier.id
      throw duplicateRequest(`CreatorRequestId ${input.creatorRequestId ?? ''} was already used by another request`, earlier.id)
    }
    validateInstance(service, this.getNamespace(service.namespaceId), input)
    const health = initialHealth(service, input.attributes)
    entry.instances.set(input.instanceId, {
      id: input.instanceId,
      creatorRequestId: input.creatorRequestId,
      attributes: { ...input.attributes },
      health,
    })
    entry.revision++
    const op = this.#operation('REGISTER_INSTANCE', { NAMESPACE: service.namespaceId, SERVICE: service.id, INSTANCE: input.instanceId }, input.creatorRequestId)
    this.#changed()
    return op.id
  }

  deregisterInstance(serviceId: string, instanceId: string): string {
    const entry = this.#entry(serviceId)
    if (!entry.instances.delete(instanceId)) throw instanceNotFound(`Instance ${instanceId} not found in service ${serviceId}`)
    entry.revision++
    const service = entry.record
    const op = this.#operation('DEREGISTER_INSTANCE', { NAMESPACE: service.namespaceId, SERVICE: service.id, INSTANCE: instanceId }, undefined)
    this.#changed()
    return op.id
  }

  getInstance(serviceId: string, instanceId: string): InstanceRecord {
    const instance = this.#entry(serviceId).instances.get(instanceId)
    if (instance === undefined) throw instanceNotFound(`Instance ${instanceId} not found in service ${serviceId}`)
    return instance
  }

  listInstances(serviceId: string): InstanceRecord[] {
    return [...this.#entry(serviceId).instances.values()]
  }

  /** UpdateInstanceCustomHealthStatus. Applied at once (Cloud Map waits ~30 s). Does not bump the revision. */
  setCustomHealth(serviceId: string, instanceId: string, status: 'HEALTHY' | 'UNHEALTHY'): void {
    const entry = this.#entry(serviceId)
    const instance = entry.instances.get(instanceId)
    if (instance === undefined) throw instanceNotFound(`Instance ${instanceId} not found in service ${serviceId}`)
    if (entry.record.healthCheckCustomConfig === undefined) {
      throw customHealthNotFound(`Service ${serviceId} has no custom health check`)
    }
    if (instance.health === status) return
    entry.instances.set(instanceId, { ...instance, health: status })
    this.#changed()
  }

  // ---- operations ---------------------------------------------------------

  getOperation(id: string): OperationRecord {
    const op = this.#operations.get(id)
    if (op === undefined) throw operationNotFound(`Operation ${id} not found`)
    return op
  }

  // ---- discovery ----------------------------------------------------------

  #findByNames(namespaceName: string, serviceName: string): { namespace: NamespaceRecord; entry: ServiceEntry } {
    const namespace = [...this.#namespaces.values()].find((ns) =>
      ns.type === 'HTTP' ? ns.name === namespaceName : sameName(ns.name, namespaceName),
    )
    if (namespace === undefined) throw namespaceNotFound(`Namespace ${namespaceName} not found`)
    const entry = [...this.#services.values()].find(
      (candidate) =>
        candidate.record.namespaceId === namespace.id &&
        (namespace.type === 'HTTP' ? candidate.record.name === serviceName : sameName(candidate.record.name, serviceName)),
    )
    if (entry === undefined) throw serviceNotFound(`Service ${serviceName} not found in namespace ${namespaceName}`)
    return { namespace, entry }
  }

  /** DiscoverInstances: filters by attributes, then by health; random order, then MaxResults. */
  discover(query: DiscoverQuery): DiscoverResult {
    const { namespace, entry } = this.#findByNames(query.namespaceName, query.serviceName)
    const service = entry.record
    let candidates = [...entry.instances.values()]
    if (query.queryParameters !== undefined) {
      const required = query.queryParameters
      candidates = candidates.filter((instance) => matchesAll(instance.attributes, required))
    }
    if (query.optionalParameters !== undefined && Object.keys(query.optionalParameters).length > 0) {
      const optional = query.optionalParameters
      const preferred = candidates.filter((instance) => matchesAll(instance.attributes, optional))
      if (preferred.length > 0) candidates = preferred
    }
    const withHealth = candidates.map((instance) => ({ instance, health: instance.health }))
    const hasHealthCheck = service.healthCheckCustomConfig !== undefined || service.healthCheckConfig !== undefined
    let selected = withHealth
    if (hasHealthCheck) {
      const filter = query.healthStatus ?? 'HEALTHY'
      const healthy = withHealth.filter((item) => item.health === 'HEALTHY')
      if (filter === 'HEALTHY') selected = healthy
      else if (filter === 'UNHEALTHY') selected = withHealth.filter((item) => item.health === 'UNHEALTHY')
      else if (filter === 'HEALTHY_OR_ELSE_ALL') selected = healthy.length > 0 ? healthy : withHealth
    }
    // "DiscoverInstances returns a randomized list of instances" (API reference).
    const shuffled = randomPicker(selected.length, selected.length).flatMap((i) => {
      const item = selected[i]
      return item === undefined ? [] : [item]
    })
    return { namespace, service, instances: shuffled.slice(0, query.maxResults ?? 100), revision: entry.revision }
  }

  /** DiscoverInstancesRevision. */
  revision(namespaceName: string, serviceName: string): number {
    return this.#findByNames(namespaceName, serviceName).entry.revision
  }

  // ---- DNS view -------------------------------------------------------------

  /** The DNS namespaces as zones for dns-answers (a fresh snapshot each call). */
  dnsZones(): DnsZone[] {
    const zones: DnsZone[] = []
    for (const ns of this.#namespaces.values()) {
      if (ns.type === 'HTTP') continue
      const services = [...this.#services.values()]
        .filter((entry) => entry.record.namespaceId === ns.id && entry.record.dnsConfig !== undefined)
        .map((entry) => {
          const config = entry.record.dnsConfig
          const ttl: Partial<Record<'A' | 'AAAA' | 'SRV', number>> = {}
          for (const record of config?.records ?? []) {
            if (record.type !== 'CNAME') ttl[record.type] = record.ttl
          }
          return {
            name: entry.record.name.toLowerCase(),
            routingPolicy: config?.routingPolicy ?? 'MULTIVALUE',
            ttl,
            instances: [...entry.instances.values()].map((instance) => {
              const port = instance.attributes['AWS_INSTANCE_PORT']
              return {
                id: instance.id,
                ipv4: instance.attributes['AWS_INSTANCE_IPV4'],
                ipv6: instance.attributes['AWS_INSTANCE_IPV6'],
                port: port === undefined ? undefined : Number(port),
                healthy: instance.health !== 'UNHEALTHY',
              }
            }),
          }
        })
      zones.push({ name: ns.name.toLowerCase().replace(/\.$/, ''), soaTtl: ns.soaTtl ?? DEFAULT_SOA_TTL, services })
    }
    return zones
  }

  // ---- persistence ----------------------------------------------------------

  toSnapshot(): StateSnapshot {
    return {
      version: 1,
      namespaces: [...this.#namespaces.values()],
      services: [...this.#services.values()].map((entry) => ({
        service: entry.record,
        revision: entry.revision,
        instances: [...entry.instances.values()],
      })),
      operations: [...this.#operations.values()],
    }
  }

  /** Replace the whole state with a snapshot (already validated by parseSnapshot). */
  load(snapshot: StateSnapshot): void {
    this.#namespaces.clear()
    this.#services.clear()
    this.#operations.clear()
    this.#byToken.clear()
    for (const ns of snapshot.namespaces) this.#namespaces.set(ns.id, ns)
    for (const item of snapshot.services) {
      this.#services.set(item.service.id, {
        record: item.service,
        revision: item.revision,
        instances: new Map(item.instances.map((instance) => [instance.id, instance])),
      })
    }
    for (const op of snapshot.operations) this.#remember(op)
  }
}

/** Cloud Map's allowed DnsRecords combinations: A, AAAA, A+AAAA, SRV (optionally with A/AAAA), CNAME. */
function validateRecordTypes(records: readonly DnsRecordConfig[], hasHealthCheck: boolean): void {
  if (records.length === 0) throw invalidInput('DnsConfig.DnsRecords must not be empty')
  const types = records.map((record) => record.type)
  if (new Set(types).size !== types.length) throw invalidInput('DnsConfig.DnsRecords has duplicate record types')
  if (types.includes('CNAME')) {
    if (types.length > 1) throw invalidInput('CNAME cannot be combined with other record types')
    if (hasHealthCheck) throw invalidInput('CNAME records cannot have HealthCheckConfig')
  }
}

function validateInstance(service: ServiceRecord, namespace: NamespaceRecord, input: RegisterInstanceInput): void {
  const attrs = input.attributes
  const types = new Set(service.dnsConfig?.records.map((record) => record.type) ?? [])
  const ipv4 = attrs['AWS_INSTANCE_IPV4']
  const ipv6 = attrs['AWS_INSTANCE_IPV6']
  const port = attrs['AWS_INSTANCE_PORT']
  if (ipv4 !== undefined && !parseIpv4(ipv4)) throw invalidInput('AWS_INSTANCE_IPV4 is not a valid IPv4 address')
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) <= 65535)) {
    throw invalidInput('AWS_INSTANCE_PORT is not a valid port')
  }
  const init = attrs['AWS_INIT_HEALTH_STATUS']
  if (init !== undefined && init !== 'HEALTHY' && init !== 'UNHEALTHY') {
    throw invalidInput('AWS_INIT_HEALTH_STATUS must be HEALTHY or UNHEALTHY')
  }
  if (types.has('A') && ipv4 === undefined) throw invalidInput('AWS_INSTANCE_IPV4 is required for services with an A record')
  if (types.has('AAAA') && ipv6 === undefined) throw invalidInput('AWS_INSTANCE_IPV6 is required for services with an AAAA record')
  if (types.has('CNAME') && attrs['AWS_INSTANCE_CNAME'] === undefined) {
    throw invalidInput('AWS_INSTANCE_CNAME is required for services with a CNAME record')
  }
  if (types.has('SRV')) {
    if (port === undefined) throw invalidInput('AWS_INSTANCE_PORT is required for services with an SRV record')
    if (ipv4 === undefined && ipv6 === undefined) {
      throw invalidInput('AWS_INSTANCE_IPV4 or AWS_INSTANCE_IPV6 is required for services with an SRV record')
    }
    // The InstanceId becomes the first label(s) of the SRV target.
    const hostname = `${input.instanceId}.${service.name}.${namespace.name}`
    const labels = input.instanceId.split('.')
    if (labels.some((label) => label.length === 0 || label.length > DNS_LABEL_MAX) || hostname.length > DNS_NAME_MAX) {
      throw invalidInput(`InstanceId ${input.instanceId} cannot be used in an SRV record name`)
    }
  }
}

/**
 * Health at (re-)registration. Re-registering replaces the health check
 * (Cloud Map deletes the old one), so the status starts over.
 */
function initialHealth(service: ServiceRecord, attributes: Readonly<Record<string, string>>): HealthStatus {
  if (service.healthCheckCustomConfig !== undefined) {
    const init = attributes['AWS_INIT_HEALTH_STATUS']
    return init === 'UNHEALTHY' ? 'UNHEALTHY' : 'HEALTHY'
  }
  if (service.healthCheckConfig !== undefined) return 'HEALTHY'
  return 'UNKNOWN'
}
