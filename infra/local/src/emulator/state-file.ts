// Persistence of the emulator state to one JSON file: parse-and-validate on
// load (the file is external input), atomic write (temp file + rename) on save,
// and a debounced saver so a burst of registrations costs one write.

import { readFile, rename, writeFile } from 'node:fs/promises'
import type {
  DnsRecordConfig,
  HealthCheckConfig,
  InstanceRecord,
  NamespaceRecord,
  OperationRecord,
  ServiceRecord,
  StateSnapshot,
} from './state.js'
import {
  asObject,
  optionalArray,
  optionalAttributes,
  optionalInteger,
  optionalObject,
  optionalString,
  requiredEnum,
  requiredInteger,
  requiredString,
  type JsonObject,
} from './validate.js'

const MAX_INT = Number.MAX_SAFE_INTEGER

function parseNamespace(value: unknown, path: string): NamespaceRecord {
  const o = asObject(value, path)
  return {
    id: requiredString(o, 'id', {}, `${path}.id`),
    arn: requiredString(o, 'arn', {}, `${path}.arn`),
    name: requiredString(o, 'name', {}, `${path}.name`),
    type: requiredEnum(o, 'type', ['HTTP', 'DNS_PRIVATE', 'DNS_PUBLIC'] as const, `${path}.type`),
    description: optionalString(o, 'description'),
    creatorRequestId: optionalString(o, 'creatorRequestId'),
    createDate: requiredInteger(o, 'createDate', 0, MAX_INT, `${path}.createDate`),
    vpc: optionalString(o, 'vpc'),
    hostedZoneId: optionalString(o, 'hostedZoneId'),
    soaTtl: optionalInteger(o, 'soaTtl', 0, 2147483647, `${path}.soaTtl`),
  }
}

function parseDnsRecord(value: unknown, path: string): DnsRecordConfig {
  const o = asObject(value, path)
  return {
    type: requiredEnum(o, 'type', ['A', 'AAAA', 'SRV', 'CNAME'] as const, `${path}.type`),
    ttl: requiredInteger(o, 'ttl', 0, 2147483647, `${path}.ttl`),
  }
}

function parseHealthCheck(o: JsonObject | undefined, path: string): HealthCheckConfig | undefined {
  if (o === undefined) return undefined
  return {
    type: requiredEnum(o, 'type', ['HTTP', 'HTTPS', 'TCP'] as const, `${path}.type`),
    resourcePath: optionalString(o, 'resourcePath'),
    failureThreshold: optionalInteger(o, 'failureThreshold', 1, 10),
  }
}

function parseService(value: unknown, path: string): ServiceRecord {
  const o = asObject(value, path)
  const dns = optionalObject(o, 'dnsConfig', `${path}.dnsConfig`)
  const custom = optionalObject(o, 'healthCheckCustomConfig', `${path}.healthCheckCustomConfig`)
  return {
    id: requiredString(o, 'id', {}, `${path}.id`),
    arn: requiredString(o, 'arn', {}, `${path}.arn`),
    name: requiredString(o, 'name', {}, `${path}.name`),
    namespaceId: requiredString(o, 'namespaceId', {}, `${path}.namespaceId`),
    description: optionalString(o, 'description'),
    creatorRequestId: optionalString(o, 'creatorRequestId'),
    createDate: requiredInteger(o, 'createDate', 0, MAX_INT, `${path}.createDate`),
    type: requiredEnum(o, 'type', ['HTTP', 'DNS_HTTP', 'DNS'] as const, `${path}.type`),
    dnsConfig:
      dns === undefined
        ? undefined
        : {
            routingPolicy: requiredEnum(dns, 'routingPolicy', ['MULTIVALUE', 'WEIGHTED'] as const, `${path}.dnsConfig.routingPolicy`),
            records: optionalArray(dns, 'records', parseDnsRecord, `${path}.dnsConfig.records`) ?? [],
          },
    healthCheckConfig: parseHealthCheck(optionalObject(o, 'healthCheckConfig'), `${path}.healthCheckConfig`),
    healthCheckCustomConfig: custom === undefined ? undefined : { failureThreshold: optionalInteger(custom, 'failureThreshold', 1, 10) },
  }
}

function parseInstance(value: unknown, path: string): InstanceRecord {
  const o = asObject(value, path)
  return {
    id: requiredString(o, 'id', {}, `${path}.id`),
    creatorRequestId: optionalString(o, 'creatorRequestId'),
    attributes: optionalAttributes(o, 'attributes', `${path}.attributes`) ?? {},
    health: requiredEnum(o, 'health', ['HEALTHY', 'UNHEALTHY', 'UNKNOWN'] as const, `${path}.health`),
  }
}

function parseOperation(value: unknown, path: string): OperationRecord {
  const o = asObject(value, path)
  const targets = optionalObject(o, 'targets', `${path}.targets`) ?? {}
  return {
    id: requiredString(o, 'id', {}, `${path}.id`),
    type: requiredEnum(o, 'type', ['CREATE_NAMESPACE', 'REGISTER_INSTANCE', 'DEREGISTER_INSTANCE'] as const, `${path}.type`),
    status: requiredEnum(o, 'status', ['SUCCESS'] as const, `${path}.status`),
    createDate: requiredInteger(o, 'createDate', 0, MAX_INT, `${path}.createDate`),
    updateDate: requiredInteger(o, 'updateDate', 0, MAX_INT, `${path}.updateDate`),
    targets: {
      NAMESPACE: optionalString(targets, 'NAMESPACE'),
      SERVICE: optionalString(targets, 'SERVICE'),
      INSTANCE: optionalString(targets, 'INSTANCE'),
    },
    creatorRequestId: optionalString(o, 'creatorRequestId'),
  }
}

/** Validate parsed JSON as a state snapshot; throws an Error naming the bad field. */
export function parseSnapshot(value: unknown): StateSnapshot {
  try {
    const o = asObject(value, 'state')
    if (o['version'] !== 1) throw new Error('state.version must be 1')
    return {
      version: 1,
      namespaces: optionalArray(o, 'namespaces', parseNamespace) ?? [],
      services:
        optionalArray(o, 'services', (item, path) => {
          const entry = asObject(item, path)
          return {
            service: parseService(entry['service'], `${path}.service`),
            revision: requiredInteger(entry, 'revision', 0, MAX_INT, `${path}.revision`),
            instances: optionalArray(entry, 'instances', parseInstance, `${path}.instances`) ?? [],
          }
        }) ?? [],
      operations: optionalArray(o, 'operations', parseOperation) ?? [],
    }
  } catch (err) {
    throw new Error(`invalid state file: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** Read a state file; undefined when it does not exist. */
export async function loadStateFile(file: string): Promise<StateSnapshot | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined
    throw err
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new Error(`invalid state file ${file}: not JSON`)
  }
  return parseSnapshot(json)
}

/** Write atomically: a crash mid-write never leaves a half file. */
export async function saveStateFile(file: string, snapshot: StateSnapshot): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, `${JSON.stringify(snapshot, null, 2)}\n`, 'utf8')
  await rename(tmp, file)
}

/**
 * Coalesces save requests: `schedule()` after each mutation, `flush()` on
 * close. At most one write runs at a time; a request during a write queues one
 * more write with the newest snapshot.
 */
export class DebouncedSaver {
  readonly #file: string
  readonly #snapshot: () => StateSnapshot
  readonly #delayMs: number
  readonly #onError: (err: unknown) => void
  #timer: NodeJS.Timeout | undefined
  #writing: Promise<void> | undefined
  #dirty = false

  constructor(file: string, snapshot: () => StateSnapshot, delayMs: number, onError: (err: unknown) => void) {
    this.#file = file
    this.#snapshot = snapshot
    this.#delayMs = delayMs
    this.#onError = onError
  }

  schedule(): void {
    this.#dirty = true
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#write()
    }, this.#delayMs)
    this.#timer.unref()
  }

  async #write(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing
    if (!this.#dirty) return
    this.#dirty = false
    this.#writing = saveStateFile(this.#file, this.#snapshot())
      .catch((err: unknown) => this.#onError(err))
      .finally(() => {
        this.#writing = undefined
      })
    await this.#writing
  }

  /** Write now if anything is pending, and wait for it. */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    await this.#write()
  }
}
