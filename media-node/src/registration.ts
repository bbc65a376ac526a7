// Cloud Map registration. Registers this node as an instance of the `media`
// service (InstanceId = nodeId, AWS_INSTANCE_IPV4/PORT, custom attributes such
// as status=ACTIVE), retrying with capped exponential backoff and reporting
// each failure; re-registers with changed attributes and reports custom
// health (status=DRAINING + UNHEALTHY on drain); deregisters on shutdown. Works against real Cloud Map (default
// credential chain) and against a local emulator (endpoint override).
// Once registered it removes the entries of dead nodes that had its address
// (a killed node never deregisters; its replacement on the same host and port
// finds the entry), but only when its own address answers /status with its
// own id, so a live node's entry is never touched.
// Every call has a connect and a request timeout that fire (a Cloud Map
// endpoint that accepts and never answers costs one timeout, then a retry),
// the SDK's own retries are off (we back off ourselves), and the SDK logs
// through our JSON logger.

import { isIPv4 } from 'node:net'
import {
  DeregisterInstanceCommand,
  GetOperationCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
  UpdateInstanceCustomHealthStatusCommand,
} from '@aws-sdk/client-servicediscovery'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import type { ListInstancesCommandOutput, ListNamespacesCommandOutput, ListServicesCommandOutput } from '@aws-sdk/client-servicediscovery'
import { isRecord } from './guards.js'
import type { Logger } from './log.js'
import { quietSdkNodeNotice, sdkLogger } from './sdk-logger.js'

/** How the node registers itself. */
export interface RegistrationOptions {
  /** A ready client. When absent one is made from `endpoint` and `region` (default credential chain). */
  client?: ServiceDiscoveryClient
  /** Endpoint override, e.g. a local emulator `http://127.0.0.1:4566`. Ignored when `client` is given. */
  endpoint?: string
  /** Region for a client made here. Default: the SDK's own resolution (AWS_REGION, config files); `us-east-1` with an endpoint override. */
  region?: string
  /**
   * Static credentials for a client made here, e.g. dummy ones for a local
   * emulator. Default: the SDK's default credential chain.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** Cloud Map service id (`srv-...`). When absent it is looked up from `namespaceName` + `serviceName`. */
  serviceId?: string
  /** Namespace name for the look-up. Default `ecs.internal`. */
  namespaceName?: string
  /** Service name for the look-up. Default `media`. */
  serviceName?: string
  /** AWS_INSTANCE_IPV4. Default: the node's `host` when it is a specific IPv4 address. */
  advertiseIpv4?: string
  /** AWS_INSTANCE_PORT. Default: the port the node listens on. */
  advertisePort?: number
  /**
   * The `admin_port` attribute: where routers reach this node's admin API
   * (POST /admin/drain) at its AWS_INSTANCE_IPV4. Default: the port the admin
   * listener is on; not registered when there is no admin listener.
   */
  advertiseAdminPort?: number
  /** Extra custom attributes; `status` is set by the node. Keys must not start with `AWS_`. */
  attributes?: Record<string, string>
  /** First retry delay. Default 500 ms. */
  initialRetryDelayMs?: number
  /** Retry delay cap. Default 30 s. */
  maxRetryDelayMs?: number
  /** How long to poll an asynchronous Cloud Map operation before calling it failed. Default 60 s. */
  operationTimeoutMs?: number
  /** TCP connect timeout of each call, for a client made here. Default 1 s. */
  connectTimeoutMs?: number
  /** Timeout of each call until its response (and the longest silence in its body), for a client made here. Default 2 s. */
  requestTimeoutMs?: number
  /**
   * After registering, deregister other instances of the service registered
   * at this node's IPv4 and port, when GET /status there answers with this
   * node's id (needs `servicediscovery:ListInstances`). Default true.
   */
  sweepStaleAtOwnAddress?: boolean
  /** Timeout of that /status probe. Default 2 s. */
  statusProbeTimeoutMs?: number
}

/** What the sweep of the node's own address found. */
export interface SweepResult {
  /** Other instances registered at this node's address. */
  readonly candidates: readonly string[]
  /** Those deregistered (the address answered with this node's id). */
  readonly deregistered: readonly string[]
  /** Why nothing was deregistered although there were candidates. */
  readonly skipped?: string
}

/** Resolved registration settings. */
export interface RegistrationTarget {
  instanceId: string
  ipv4: string
  port: number
  attributes: Record<string, string>
}

/** Registration progress as shown in /status. */
export interface RegistrationReport {
  registered: boolean
  attempts: number
  lastError?: string
}

/** A registration or deregistration step failed. */
export class RegistrationError extends Error {
  readonly code = 'REGISTRATION_FAILED'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'RegistrationError'
  }
}

const ATTRIBUTE_KEY = /^[a-zA-Z0-9!-~]{1,255}$/
const ATTRIBUTE_VALUE = /^([a-zA-Z0-9!-~][ a-zA-Z0-9!-~]{0,1022})?[a-zA-Z0-9!-~]$/

/**
 * Checks custom attributes against Cloud Map's limits: at most 30, keys of
 * 1-255 and values of 1-1024 printable ASCII characters, 5000 characters in
 * all, no `AWS_` keys. Returns an error message or undefined.
 */
export function checkAttributes(attributes: Readonly<Record<string, string>>): string | undefined {
  const entries = Object.entries(attributes)
  if (entries.length > 30) return `at most 30 custom attributes, got ${entries.length}`
  let total = 0
  for (const [key, value] of entries) {
    if (!ATTRIBUTE_KEY.test(key)) return `attribute key ${JSON.stringify(key)} must be 1-255 printable ASCII characters`
    if (key.startsWith('AWS_')) return `attribute key ${key} is reserved`
    if (!ATTRIBUTE_VALUE.test(value)) return `attribute ${key} value must be 1-1024 printable ASCII characters, no space at either end`
    total += key.length + value.length
  }
  if (total > 5000) return `custom attributes total ${total} characters, more than 5000`
  return undefined
}

/** Registers and deregisters one instance. */
export class Registrar {
  readonly #client: ServiceDiscoveryClient
  readonly #ownsClient: boolean
  readonly #options: RegistrationOptions
  readonly #log: Logger
  #serviceId: string | undefined
  #registered: RegistrationTarget | undefined
  #attempts = 0
  #lastError: string | undefined
  #sweep: Promise<SweepResult> | undefined

  constructor(options: RegistrationOptions, log: Logger) {
    this.#options = options
    this.#log = log
    this.#serviceId = options.serviceId
    if (options.client !== undefined) {
      this.#client = options.client
      this.#ownsClient = false
    } else {
      const region = options.region ?? (options.endpoint !== undefined ? 'us-east-1' : undefined)
      quietSdkNodeNotice(log)
      const logger = sdkLogger(log)
      const requestTimeout = options.requestTimeoutMs ?? 2000
      this.#client = new ServiceDiscoveryClient({
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
        ...(region !== undefined ? { region } : {}),
        ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
        // Registration and deregistration retry with their own backoff.
        maxAttempts: 1,
        logger,
        requestHandler: new NodeHttpHandler({
          connectionTimeout: options.connectTimeoutMs ?? 1000,
          requestTimeout,
          // Without this a request timeout only logs a warning and the call waits on.
          throwOnRequestTimeout: true,
          socketTimeout: requestTimeout,
          logger,
        }),
      })
      this.#ownsClient = true
    }
  }

  /**
   * True once RegisterInstance was accepted (its operation may still be
   * pending) and the instance was not deregistered since: close() then
   * deregisters, so an aborted start leaves no stale instance behind.
   */
  get registered(): boolean {
    return this.#registered !== undefined
  }

  /** Attempts so far and the last failure, for /status. */
  report(): RegistrationReport {
    return {
      registered: this.#registered !== undefined,
      attempts: this.#attempts,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
    }
  }

  /**
   * Registers `target`, retrying with backoff until it succeeds or `signal`
   * aborts (then it rejects with the abort reason). Each failure is logged.
   */
  async registerWithRetry(target: RegistrationTarget, signal: AbortSignal): Promise<void> {
    const initial = this.#options.initialRetryDelayMs ?? 500
    const max = this.#options.maxRetryDelayMs ?? 30_000
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted()
      this.#attempts = attempt
      try {
        await this.register(target, signal)
        this.#lastError = undefined
        this.#log({ level: 'info', msg: 'registered in Cloud Map', serviceId: this.#serviceId, instanceId: target.instanceId, ipv4: target.ipv4, port: target.port, attempt })
        // In the background: the node is ACTIVE meanwhile, and the sweep never rejects.
        if (this.#options.sweepStaleAtOwnAddress !== false) this.#sweep = this.sweepStaleAtOwnAddress(target, signal)
        return
      } catch (err) {
        signal.throwIfAborted()
        this.#lastError = describe(err)
        const base = Math.min(max, initial * 2 ** Math.min(attempt - 1, 30))
        const delayMs = Math.round(base / 2 + (Math.random() * base) / 2)
        this.#log({ level: 'warn', msg: 'Cloud Map registration failed, will retry', attempt, delayMs, error: describe(err) })
        await sleep(delayMs, signal)
      }
    }
  }

  /** One registration attempt: RegisterInstance, then wait for the operation to succeed. */
  async register(target: RegistrationTarget, signal?: AbortSignal): Promise<void> {
    const serviceId = await this.#resolveServiceId(signal)
    const out = await this.#client.send(
      new RegisterInstanceCommand({
        ServiceId: serviceId,
        InstanceId: target.instanceId,
        Attributes: {
          ...target.attributes,
          AWS_INSTANCE_IPV4: target.ipv4,
          AWS_INSTANCE_PORT: String(target.port),
        },
      }),
      { abortSignal: signal },
    )
    this.#registered = target
    await this.#waitForOperation(out.OperationId, 'RegisterInstance', signal)
  }

  /** The sweep started after registration, if any (for tests and /status-like reports). */
  get sweep(): Promise<SweepResult> | undefined {
    return this.#sweep
  }

  /**
   * Deregisters the other instances of the service whose AWS_INSTANCE_IPV4
   * and AWS_INSTANCE_PORT are `target`'s: nodes that died without
   * deregistering (SIGKILL, OOM kill) and whose address this node now has.
   * Safe against live nodes: it acts only when GET /status at that address
   * answers 200 with `nodeId` = `target.instanceId` — the address is this
   * node's, so no other live node can be behind an entry naming it. Any other
   * answer, or none, leaves every entry alone. Never rejects; logs one line
   * when there were candidates.
   */
  async sweepStaleAtOwnAddress(target: RegistrationTarget, signal?: AbortSignal): Promise<SweepResult> {
    let candidates: string[] = []
    const deregistered: string[] = []
    try {
      candidates = await this.#othersAt(target, signal)
      if (candidates.length === 0) return { candidates, deregistered }
      const answeredBy = await this.#statusNodeId(target, signal)
      if (answeredBy !== target.instanceId) {
        const skipped = answeredBy === undefined ? 'own address did not answer /status with a node id' : `own address answers /status as ${answeredBy}`
        this.#log({ level: 'warn', msg: 'instances registered at this node’s address left alone', candidates, skipped, ipv4: target.ipv4, port: target.port })
        return { candidates, deregistered, skipped }
      }
      const serviceId = await this.#resolveServiceId(signal)
      for (const instanceId of candidates) {
        try {
          const out = await this.#client.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId }), { abortSignal: signal })
          await this.#waitForOperation(out.OperationId, 'DeregisterInstance', signal)
        } catch (err) {
          if (errorName(err) !== 'InstanceNotFound') throw err
        }
        deregistered.push(instanceId)
      }
      this.#log({ level: 'info', msg: 'deregistered stale instances at this node’s address', deregistered, ipv4: target.ipv4, port: target.port })
      return { candidates, deregistered }
    } catch (err) {
      // Drain or close started meanwhile: nothing to report.
      if (signal?.aborted) return { candidates, deregistered, skipped: 'aborted' }
      const skipped = `sweep failed: ${describe(err)}`
      this.#log({ level: 'warn', msg: 'could not sweep stale instances at this node’s address', candidates, deregistered, error: describe(err) })
      return { candidates, deregistered, skipped }
    }
  }

  /** Ids of the service's instances other than `target` registered at its IPv4 and port (ListInstances, all pages). */
  async #othersAt(target: RegistrationTarget, signal?: AbortSignal): Promise<string[]> {
    const serviceId = await this.#resolveServiceId(signal)
    const port = String(target.port)
    const out: string[] = []
    let token: string | undefined
    do {
      const page: ListInstancesCommandOutput = await this.#client.send(new ListInstancesCommand({ ServiceId: serviceId, NextToken: token }), { abortSignal: signal })
      for (const instance of page.Instances ?? []) {
        const attributes = instance.Attributes ?? {}
        if (instance.Id !== undefined && instance.Id !== target.instanceId && attributes['AWS_INSTANCE_IPV4'] === target.ipv4 && attributes['AWS_INSTANCE_PORT'] === port) out.push(instance.Id)
      }
      token = page.NextToken
    } while (token !== undefined)
    return out
  }

  /** `nodeId` of GET http://<ipv4>:<port>/status, or undefined when it does not answer 200 with one in time. */
  async #statusNodeId(target: RegistrationTarget, signal?: AbortSignal): Promise<string | undefined> {
    const timeout = AbortSignal.timeout(this.#options.statusProbeTimeoutMs ?? 2000)
    try {
      const res = await fetch(`http://${target.ipv4}:${target.port}/status`, { signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) })
      if (res.status !== 200) {
        await res.body?.cancel()
        return undefined
      }
      const body: unknown = await res.json()
      return isRecord(body) && typeof body['nodeId'] === 'string' ? body['nodeId'] : undefined
    } catch {
      signal?.throwIfAborted()
      return undefined
    }
  }

  /** Registers again with changed custom attributes (e.g. status=DRAINING). */
  async updateAttributes(attributes: Record<string, string>): Promise<void> {
    const current = this.#registered
    if (current === undefined) return
    await this.register({ ...current, attributes: { ...current.attributes, ...attributes } })
  }

  /**
   * Reports the instance's custom health (UpdateInstanceCustomHealthStatus;
   * Cloud Map applies it after about 30 s). A service created without
   * HealthCheckCustomConfig answers CustomHealthNotFound: logged, and
   * resolves false. Resolves true when the status was sent; false also when
   * the instance is not registered.
   */
  async setCustomHealth(status: 'HEALTHY' | 'UNHEALTHY'): Promise<boolean> {
    const current = this.#registered
    if (current === undefined || this.#serviceId === undefined) return false
    try {
      await this.#client.send(new UpdateInstanceCustomHealthStatusCommand({ ServiceId: this.#serviceId, InstanceId: current.instanceId, Status: status }))
    } catch (err) {
      if (errorName(err) === 'CustomHealthNotFound') {
        this.#log({ level: 'info', msg: 'Cloud Map service has no custom health check; health not reported', serviceId: this.#serviceId, status })
        return false
      }
      throw err
    }
    this.#log({ level: 'info', msg: 'Cloud Map custom health reported', serviceId: this.#serviceId, instanceId: current.instanceId, status })
    return true
  }

  /** Deregisters the instance if it is registered; a missing instance counts as done. Tries up to 3 times. */
  async deregister(): Promise<void> {
    const current = this.#registered
    if (current === undefined || this.#serviceId === undefined) return
    let last: unknown
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const out = await this.#client.send(new DeregisterInstanceCommand({ ServiceId: this.#serviceId, InstanceId: current.instanceId }))
        await this.#waitForOperation(out.OperationId, 'DeregisterInstance')
        this.#registered = undefined
        this.#log({ level: 'info', msg: 'deregistered from Cloud Map', serviceId: this.#serviceId, instanceId: current.instanceId })
        return
      } catch (err) {
        if (errorName(err) === 'InstanceNotFound' || errorName(err) === 'ServiceNotFound') {
          this.#registered = undefined
          return
        }
        last = err
        this.#log({ level: 'warn', msg: 'Cloud Map deregistration failed', attempt, error: describe(err) })
        if (attempt < 3) await sleep(200 * attempt)
      }
    }
    throw new RegistrationError(`deregistration failed: ${describe(last)}`, { cause: last })
  }

  /** Releases the client if this registrar made it. */
  destroy(): void {
    if (this.#ownsClient) this.#client.destroy()
  }

  async #resolveServiceId(signal?: AbortSignal): Promise<string> {
    if (this.#serviceId !== undefined) return this.#serviceId
    const namespaceName = this.#options.namespaceName ?? 'ecs.internal'
    const serviceName = this.#options.serviceName ?? 'media'
    let namespaceId: string | undefined
    let token: string | undefined
    do {
      const page: ListNamespacesCommandOutput = await this.#client.send(new ListNamespacesCommand({ NextToken: token }), { abortSignal: signal })
      namespaceId = page.Namespaces?.find((ns) => ns.Name === namespaceName)?.Id
      token = page.NextToken
    } while (namespaceId === undefined && token !== undefined)
    if (namespaceId === undefined) throw new RegistrationError(`Cloud Map namespace ${namespaceName} not found`)
    token = undefined
    let serviceId: string | undefined
    do {
      const page: ListServicesCommandOutput = await this.#client.send(
        new ListServicesCommand({ NextToken: token, Filters: [{ Name: 'NAMESPACE_ID', Values: [namespaceId], Condition: 'EQ' }] }),
        { abortSignal: signal },
      )
      serviceId = page.Services?.find((s) => s.Name === serviceName)?.Id
      token = page.NextToken
    } while (serviceId === undefined && token !== undefined)
    if (serviceId === undefined) throw new RegistrationError(`Cloud Map service ${serviceName} not found in namespace ${namespaceName}`)
    this.#serviceId = serviceId
    return serviceId
  }

  async #waitForOperation(operationId: string | undefined, what: string, signal?: AbortSignal): Promise<void> {
    if (operationId === undefined) return
    const deadline = Date.now() + (this.#options.operationTimeoutMs ?? 60_000)
    let delayMs = 100
    for (;;) {
      const { Operation } = await this.#client.send(new GetOperationCommand({ OperationId: operationId }), { abortSignal: signal })
      const status = Operation?.Status
      if (status === 'SUCCESS') return
      if (status === 'FAIL') {
        throw new RegistrationError(`${what} operation ${operationId} failed: ${Operation?.ErrorCode ?? ''} ${Operation?.ErrorMessage ?? ''}`.trim())
      }
      if (Date.now() > deadline) throw new RegistrationError(`${what} operation ${operationId} still ${status ?? 'unknown'} after timeout`)
      await sleep(delayMs, signal)
      delayMs = Math.min(delayMs * 2, 2000)
    }
  }
}

/** Checks an IPv4 address and a port; returns an error message or undefined. */
export function checkAdvertise(ipv4: string, port: number): string | undefined {
  if (!isIPv4(ipv4)) return `advertise address ${JSON.stringify(ipv4)} is not an IPv4 address`
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `advertise port ${port} is not a TCP port`
  return undefined
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`
  return String(err)
}
