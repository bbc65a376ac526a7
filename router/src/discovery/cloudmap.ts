// Cloud Map API discovery. Per Cloud Map service it keeps the last instance
// list and its InstancesRevision. A lookup inside the poll interval is served
// from memory; after it, one DiscoverInstancesRevision call decides whether to
// refetch; and every `fullRefreshMs` the list is refetched anyway, because
// health changes do not change the revision. Throttling, 5xx and timeouts back
// off with jitter while the last good list keeps being served.

import type { Discovery, Endpoint, Resolution, Target } from './discovery.js'
import { DiscoveryUnavailableError, TargetNotFoundError } from '../errors.js'
import { apiErrorKind, CloudMapNotFound, type ApiInstance, type CloudMapApi } from './cloudmap-api.js'

export type HealthFilter = 'HEALTHY' | 'UNHEALTHY' | 'ALL' | 'HEALTHY_OR_ELSE_ALL'
export type ApiCallOutcome = 'success' | 'not_found' | 'throttled' | 'server' | 'client' | 'timeout' | 'network'

export interface CloudMapDiscoveryOptions {
  readonly api: CloudMapApi
  readonly namespace: string
  readonly healthStatus: HealthFilter
  /** How often the revision is checked (also the TTL reported to the cache). */
  readonly revisionPollMs: number
  /** Instances are refetched at least this often (health is not in the revision). */
  readonly fullRefreshMs: number
  readonly backoffBaseMs: number
  readonly backoffMaxMs: number
  /** Port when an instance has no AWS_INSTANCE_PORT. */
  readonly defaultPortFor: (service: string) => number | undefined
  readonly now?: () => number
  readonly random?: () => number
  readonly onCall?: (operation: 'DiscoverInstances' | 'DiscoverInstancesRevision', outcome: ApiCallOutcome) => void
}

interface ServiceState {
  instances: readonly ApiInstance[]
  revision: number | undefined
  fetchedAt: number
  checkedAt: number
  failures: number
  retryAt: number
  inflight: Promise<void> | undefined
}

/** Apply a HealthStatus filter locally (the list is fetched with ALL so unhealthy instances can answer 503, not 404). */
export function filterByHealth(instances: readonly ApiInstance[], filter: HealthFilter): readonly ApiInstance[] {
  const healthy = (i: ApiInstance): boolean => i.healthStatus !== 'UNHEALTHY'
  switch (filter) {
    case 'ALL':
      return instances
    case 'HEALTHY':
      return instances.filter(healthy)
    case 'UNHEALTHY':
      return instances.filter((i) => !healthy(i))
    case 'HEALTHY_OR_ELSE_ALL': {
      const h = instances.filter(healthy)
      return h.length > 0 ? h : instances
    }
  }
}

const PORT = /^\d{1,5}$/

export class CloudMapDiscovery implements Discovery {
  readonly name = 'cloudmap'
  readonly #o: CloudMapDiscoveryOptions
  readonly #now: () => number
  readonly #random: () => number
  readonly #services = new Map<string, ServiceState>()

  constructor(opts: CloudMapDiscoveryOptions) {
    this.#o = opts
    this.#now = opts.now ?? (() => performance.now())
    this.#random = opts.random ?? Math.random
  }

  async resolve(target: Target): Promise<Resolution> {
    const state = await this.#fresh(target.service)
    const ttlSeconds = this.#o.revisionPollMs / 1000
    if (target.kind === 'service') {
      return { endpoints: this.#endpoints(target, filterByHealth(state.instances, this.#o.healthStatus)), ttlSeconds }
    }
    // Instance ids compared without case, as their DNS names are: a capture is looked up in lower case.
    const wanted = target.instanceId.toLowerCase()
    const same = (i: ApiInstance): boolean => i.instanceId === target.instanceId || i.instanceId.toLowerCase() === wanted
    const all = state.instances.filter(same)
    if (all.length === 0) throw new TargetNotFoundError(`${target.service} instance ${target.instanceId}`)
    const usable = filterByHealth(state.instances, this.#o.healthStatus).filter(same)
    return { endpoints: this.#endpoints(target, usable), ttlSeconds }
  }

  async close(): Promise<void> {
    this.#o.api.close()
  }

  #endpoints(target: Target, instances: readonly ApiInstance[]): Endpoint[] {
    const out: Endpoint[] = []
    const fallbackPort = target.lookup !== undefined ? target.lookup.defaultPort : this.#o.defaultPortFor(target.service)
    for (const i of instances) {
      const host = i.attributes['AWS_INSTANCE_IPV4']
      if (host === undefined || host === '') continue
      const p = i.attributes['AWS_INSTANCE_PORT']
      const port = p !== undefined && PORT.test(p) ? Number(p) : fallbackPort
      if (port === undefined || port < 1 || port > 65535) continue
      const attributes: Record<string, string> = {}
      for (const [k, v] of Object.entries(i.attributes)) if (!k.startsWith('AWS_')) attributes[k] = v
      attributes['healthStatus'] = i.healthStatus
      out.push({ id: i.instanceId, host, port, attributes })
    }
    return out
  }

  /** The service's state, refreshed as the poll/refresh/backoff rules say; one refresh at a time per service. */
  async #fresh(service: string): Promise<ServiceState> {
    let state = this.#services.get(service)
    if (state === undefined) {
      // First lookup: must fetch; errors surface (the cache may still have something stale).
      const fetched = await this.#fetchAll(service)
      const now = this.#now()
      state = { instances: fetched.instances, revision: fetched.revision, fetchedAt: now, checkedAt: now, failures: 0, retryAt: 0, inflight: undefined }
      this.#services.set(service, state)
      return state
    }
    const now = this.#now()
    if (now - state.checkedAt < this.#o.revisionPollMs || now < state.retryAt) return state
    if (state.inflight === undefined) {
      const s = state
      s.inflight = this.#refresh(service, s).finally(() => (s.inflight = undefined))
    }
    await state.inflight
    return state
  }

  async #refresh(service: string, s: ServiceState): Promise<void> {
    try {
      const needFull = this.#now() - s.fetchedAt >= this.#o.fullRefreshMs || (await this.#revisionChanged(service, s))
      if (needFull) {
        const fetched = await this.#fetchAll(service)
        s.instances = fetched.instances
        s.revision = fetched.revision
        s.fetchedAt = this.#now()
      }
      s.checkedAt = this.#now()
      s.failures = 0
      s.retryAt = 0
    } catch (err) {
      if (err instanceof TargetNotFoundError) {
        // The service was deleted: forget it so the next lookup answers 404.
        this.#services.delete(service)
        throw err
      }
      // Keep serving the last good list; back off with full jitter.
      s.failures++
      const cap = Math.min(this.#o.backoffMaxMs, this.#o.backoffBaseMs * 2 ** Math.min(s.failures - 1, 16))
      s.retryAt = this.#now() + cap / 2 + this.#random() * (cap / 2)
    }
  }

  async #revisionChanged(service: string, s: ServiceState): Promise<boolean> {
    const rev = await this.#call('DiscoverInstancesRevision', service, () => this.#o.api.discoverRevision(this.#o.namespace, service))
    return rev === undefined || rev !== s.revision
  }

  #fetchAll(service: string): Promise<{ instances: readonly ApiInstance[]; revision: number | undefined }> {
    return this.#call('DiscoverInstances', service, () => this.#o.api.discoverInstances(this.#o.namespace, service))
  }

  async #call<T>(operation: 'DiscoverInstances' | 'DiscoverInstancesRevision', service: string, fn: () => Promise<T>): Promise<T> {
    try {
      const v = await fn()
      this.#o.onCall?.(operation, 'success')
      return v
    } catch (err) {
      if (err instanceof CloudMapNotFound) {
        this.#o.onCall?.(operation, 'not_found')
        throw new TargetNotFoundError(`service ${service}`, { cause: err })
      }
      const kind = apiErrorKind(err)
      this.#o.onCall?.(operation, kind)
      throw new DiscoveryUnavailableError(`Cloud Map ${operation} for ${service} failed (${kind})`, { cause: err })
    }
  }
}
