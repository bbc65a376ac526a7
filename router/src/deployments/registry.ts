// Blue/green control over Cloud Map (docs/blue-green.md): list an app's
// deployments, switch its current deployment, drain one. The app registry is
// the SRV service `_deployments.<app>` whose marker InstanceIds are the state
// (router/src/affinity/app-registry.ts). Only public Cloud Map operations on
// an injected SDK client, so the same code runs against the local emulator and
// real Cloud Map, for `npm run deployments` (infra/deployments/src/cli.ts) and
// for the router's admin dashboard (its DeploymentControl, control.ts).

import {
  CreateServiceCommand,
  DeregisterInstanceCommand,
  DiscoverInstancesCommand,
  GetOperationCommand,
  InstanceNotFound,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  RegisterInstanceCommand,
  ServiceAlreadyExists,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery'
import { appStateFrom, markerId, MAX_DEPLOYMENT_ID, parseMarker, registryService, type AppState } from '../affinity/app-registry.js'
import { isDnsLabel } from '../routing/dns-label.js'
import { DeploymentsError, REGISTRY_TAG, type DeploymentControl, type DrainResult, type SwitchOptions, type SwitchResult } from './control.js'

export { DeploymentsError, REGISTRY_TAG } from './control.js'

/** Markers' placeholder address (TEST-NET-1, RFC 5737) and port: SRV records need both; nothing connects. */
export const MARKER_IPV4 = '192.0.2.1'
export const MARKER_PORT = 9
/** DNS multivalue answers carry at most 8 records: a registry never holds more markers. */
export const MAX_MARKERS = 8

export interface DeploymentRegistryOptions {
  readonly client: ServiceDiscoveryClient
  /** DNS name of the private namespace, e.g. `ecs.internal`. */
  readonly namespace: string
  /** TTL of the registry's records when this tool creates it (seconds). */
  readonly ttlSeconds?: number
  /** Wall clock, epoch ms (tests). */
  readonly now?: () => number
  /** Wait between GetOperation polls (tests may shorten it). */
  readonly sleep?: (ms: number) => Promise<void>
  /** Longest wait for one Cloud Map operation to finish (sum of the poll pauses). Default 10 min. */
  readonly operationTimeoutMs?: number
}

export interface InstanceCounts {
  readonly total: number
  readonly healthy: number
  readonly unhealthy: number
  readonly draining: number
}

export interface DeploymentRow {
  /** Lower-case deployment id. */
  readonly id: string
  readonly current: boolean
  /** ISO time of the drain deadline, when draining. */
  readonly drainDeadline?: string
  /** True once the drain deadline has passed (affinity holders have moved to current). */
  readonly drained: boolean
  /** Undefined when the deployment's Cloud Map service does not exist. */
  readonly instances: InstanceCounts | undefined
}

export interface AppListing {
  readonly app: string
  readonly registry: string
  readonly current: string | undefined
  readonly markers: readonly string[]
  readonly deployments: readonly DeploymentRow[]
}

interface Instance {
  readonly id: string
  readonly health: string
  readonly attributes: Record<string, string>
}

const OPERATION_TIMEOUT_MS = 600_000

export class DeploymentRegistry implements DeploymentControl {
  readonly #c: ServiceDiscoveryClient
  readonly #o: DeploymentRegistryOptions
  readonly #now: () => number
  readonly #sleep: (ms: number) => Promise<void>
  #namespaceId: string | undefined

  constructor(opts: DeploymentRegistryOptions) {
    this.#c = opts.client
    this.#o = opts
    this.#now = opts.now ?? Date.now
    this.#sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)))
  }

  /** The app's known deployments with instance counts and health. */
  async list(app: string): Promise<AppListing> {
    const registry = registryService(checkApp(app))
    const regId = await this.#serviceId(registry)
    const markers = regId === undefined ? [] : (await this.#listInstances(regId)).map((i) => i.id)
    const state = appStateFrom(markers)
    const now = this.#now()
    const deployments: DeploymentRow[] = []
    for (const d of [...state.deployments.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      const instances = await this.#counts(d.id)
      deployments.push({
        id: d.id,
        current: d.id === state.current,
        ...(d.drainDeadlineMs !== undefined ? { drainDeadline: new Date(d.drainDeadlineMs).toISOString() } : {}),
        drained: d.drainDeadlineMs !== undefined && now >= d.drainDeadlineMs,
        instances,
      })
    }
    return { app, registry, current: state.current, markers, deployments }
  }

  /**
   * Make `deployment` the app's current deployment: create the registry if
   * missing, add (or undrain) the deployment's marker, write the new current
   * marker, then remove the old one(s) and markers of drains past their deadline.
   */
  async switchTo(app: string, deployment: string, options: SwitchOptions = {}): Promise<SwitchResult> {
    const dep = checkDeployment(deployment)
    const registry = registryService(checkApp(app))
    let regId: string | undefined
    if (options.knownOnly === true) {
      const found = await this.#serviceId(registry)
      if (found === undefined) throw new DeploymentsError(`app ${app} has no registry (${registry}); add its first deployment with npm run deployments -- switch`, 'NOT_FOUND')
      regId = found
    }
    const depServiceId = await this.#serviceId(dep)
    if (depServiceId === undefined) throw new DeploymentsError(`deployment ${deployment}: no Cloud Map service named ${dep} in ${this.#o.namespace}`, 'NOT_FOUND')
    regId ??= await this.#ensureRegistry(registry)
    const markers = await this.#listInstances(regId)
    const state = appStateFrom(markers.map((m) => m.id))
    if (options.knownOnly === true && !state.deployments.has(dep)) {
      throw new DeploymentsError(`deployment ${deployment} is not one of app ${app}'s deployments (${[...state.deployments.keys()].join(', ') || 'none'})`, 'NOT_FOUND')
    }
    const ids = new Set(markers.map((m) => m.id))
    const seq = Math.max(state.currentSeq + 1, Math.floor(this.#now() / 1000))
    const newCurrent = markerId({ kind: 'current', deployment: dep, seq })
    const plain = markerId({ kind: 'known', deployment: dep })
    const drop = new Set<string>()
    for (const m of markers) {
      const p = parseMarker(m.id)
      if (p === undefined) continue
      if (p.kind === 'current') drop.add(m.id)
      else if (p.kind === 'draining' && p.deployment === dep) drop.add(m.id)
      else if (p.kind === 'known' && p.deployment === dep && m.id !== plain) drop.add(m.id)
    }
    for (const m of this.#expired(markers.map((x) => x.id), dep)) drop.add(m)
    const after = [...ids].filter((id) => !drop.has(id))
    if (!after.includes(plain)) after.push(plain)
    after.push(newCurrent)
    // The instant between writing the new current marker and removing the old one holds both.
    const peak = after.length + [...drop].filter((id) => parseMarker(id)?.kind === 'current').length
    if (peak > MAX_MARKERS) {
      throw new DeploymentsError(`app ${app}: the registry would hold ${peak} markers (DNS answers carry at most ${MAX_MARKERS}); drain old deployments first`, 'CONFLICT')
    }
    // An undrained (rolled-back-to) deployment must not stay DRAINING: it is about to take every new visitor.
    if (state.deployments.get(dep)?.drainDeadlineMs !== undefined || (await this.#instances(dep)).some((i) => isDrainingAttr(i.attributes))) {
      await this.#setDraining(dep, false)
    }
    if (!ids.has(plain)) await this.#register(regId, plain)
    await this.#register(regId, newCurrent)
    for (const id of drop) await this.#deregister(regId, id)
    return { previous: state.current, current: dep }
  }

  /**
   * Drain `deployment` until `deadlineMs` (epoch ms): its marker becomes
   * `<id>.drain-<deadline>` (affinity holders keep reaching it until then), then
   * every instance gets `status=DRAINING` (no new work from the balancers).
   */
  async drain(app: string, deployment: string, deadlineMs: number): Promise<DrainResult> {
    const dep = checkDeployment(deployment)
    const registry = registryService(checkApp(app))
    const regId = await this.#serviceId(registry)
    if (regId === undefined) throw new DeploymentsError(`app ${app} has no registry (${registry}); switch to a deployment first`, 'NOT_FOUND')
    const markers = (await this.#listInstances(regId)).map((m) => m.id)
    const state = appStateFrom(markers)
    if (!state.deployments.has(dep)) throw new DeploymentsError(`deployment ${deployment} is not one of app ${app}'s deployments (${[...state.deployments.keys()].join(', ') || 'none'})`, 'NOT_FOUND')
    if (state.current === dep) throw new DeploymentsError(`deployment ${deployment} is app ${app}'s current deployment; switch to another one first`, 'CONFLICT')
    const seconds = Math.ceil(deadlineMs / 1000)
    const drainMarker = markerId({ kind: 'draining', deployment: dep, deadlineSeconds: seconds })
    const drop = new Set<string>(this.#expired(markers, dep))
    for (const id of markers) {
      const p = parseMarker(id)
      if (p !== undefined && p.kind !== 'current' && p.deployment === dep && id !== drainMarker) drop.add(id)
    }
    const peak = markers.filter((id) => !drop.has(id)).length + (markers.includes(drainMarker) ? 0 : 1)
    if (peak > MAX_MARKERS + 1) throw new DeploymentsError(`app ${app}: too many markers (${peak})`, 'CONFLICT')
    // Marker first: holders must never see DRAINING instances without the drain deadline that admits them.
    if (!markers.includes(drainMarker)) await this.#register(regId, drainMarker)
    for (const id of drop) await this.#deregister(regId, id)
    const instances = await this.#setDraining(dep, true)
    return { deadline: new Date(seconds * 1000).toISOString(), instances }
  }

  /** Markers of other deployments whose drain deadline has passed (they no longer change routing). */
  #expired(markers: readonly string[], keep: string): string[] {
    const now = this.#now()
    return markers.filter((id) => {
      const p = parseMarker(id)
      return p?.kind === 'draining' && p.deployment !== keep && p.deadlineSeconds * 1000 <= now
    })
  }

  /** Set or clear `status=DRAINING` on every instance of the deployment, keeping its other attributes and its health. */
  async #setDraining(dep: string, draining: boolean): Promise<number> {
    const serviceId = await this.#serviceId(dep)
    if (serviceId === undefined) return 0
    let changed = 0
    for (const i of await this.#instances(dep)) {
      if (isDrainingAttr(i.attributes) === draining) continue
      const attributes: Record<string, string> = {}
      for (const [k, v] of Object.entries(i.attributes)) if (k !== 'status' && k !== 'AWS_INIT_HEALTH_STATUS') attributes[k] = v
      if (draining) attributes['status'] = 'DRAINING'
      // Re-registering restarts a custom health check at AWS_INIT_HEALTH_STATUS (default HEALTHY): keep an UNHEALTHY one.
      if (i.health === 'UNHEALTHY') attributes['AWS_INIT_HEALTH_STATUS'] = 'UNHEALTHY'
      await this.#wait((await this.#c.send(new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: i.id, Attributes: attributes }))).OperationId)
      changed++
    }
    return changed
  }

  async #counts(dep: string): Promise<InstanceCounts | undefined> {
    if ((await this.#serviceId(dep)) === undefined) return undefined
    const list = await this.#instances(dep)
    return {
      total: list.length,
      healthy: list.filter((i) => i.health !== 'UNHEALTHY').length,
      unhealthy: list.filter((i) => i.health === 'UNHEALTHY').length,
      draining: list.filter((i) => isDrainingAttr(i.attributes)).length,
    }
  }

  /** Every instance of a deployment with its health and attributes (DiscoverInstances, HealthStatus ALL). */
  async #instances(service: string): Promise<Instance[]> {
    const out = await this.#c.send(new DiscoverInstancesCommand({ NamespaceName: this.#o.namespace, ServiceName: service, HealthStatus: 'ALL', MaxResults: 1000 }))
    return (out.Instances ?? []).flatMap((i): Instance[] => {
      if (typeof i.InstanceId !== 'string') return []
      const attributes: Record<string, string> = {}
      for (const [k, v] of Object.entries(i.Attributes ?? {})) if (typeof v === 'string') attributes[k] = v
      return [{ id: i.InstanceId, health: i.HealthStatus ?? 'UNKNOWN', attributes }]
    })
  }

  async #listInstances(serviceId: string): Promise<Array<{ id: string }>> {
    const out: Array<{ id: string }> = []
    let token: string | undefined
    do {
      const page = await this.#c.send(new ListInstancesCommand({ ServiceId: serviceId, NextToken: token }))
      for (const i of page.Instances ?? []) if (typeof i.Id === 'string') out.push({ id: i.Id })
      token = page.NextToken
    } while (token !== undefined)
    return out
  }

  /** Destroy the SDK client it was given (its owner is done with it). */
  close(): void {
    this.#c.destroy()
  }

  async #nsId(): Promise<string> {
    if (this.#namespaceId !== undefined) return this.#namespaceId
    const want = this.#o.namespace.toLowerCase()
    let token: string | undefined
    do {
      const page = await this.#c.send(new ListNamespacesCommand({ NextToken: token }))
      const ns = page.Namespaces?.find((n) => n.Name?.toLowerCase() === want && n.Type !== 'HTTP')
      if (ns?.Id !== undefined) return (this.#namespaceId = ns.Id)
      token = page.NextToken
    } while (token !== undefined)
    throw new DeploymentsError(`no DNS namespace named ${this.#o.namespace}`, 'NOT_FOUND')
  }

  async #serviceId(name: string): Promise<string | undefined> {
    const nsId = await this.#nsId()
    const want = name.toLowerCase()
    let token: string | undefined
    do {
      const page = await this.#c.send(new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [nsId], Condition: 'EQ' }], NextToken: token }))
      const s = page.Services?.find((x) => x.Name?.toLowerCase() === want)
      if (s?.Id !== undefined) return s.Id
      token = page.NextToken
    } while (token !== undefined)
    return undefined
  }

  async #ensureRegistry(name: string): Promise<string> {
    const existing = await this.#serviceId(name)
    if (existing !== undefined) return existing
    try {
      const { Service } = await this.#c.send(
        new CreateServiceCommand({
          Name: name,
          NamespaceId: await this.#nsId(),
          Description: 'blue/green registry: marker InstanceIds name the deployments and the current one (docs/blue-green.md)',
          DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'SRV', TTL: this.#o.ttlSeconds ?? 5 }] },
          Tags: [{ Key: REGISTRY_TAG, Value: this.#o.namespace.toLowerCase() }],
        }),
      )
      if (Service?.Id === undefined) throw new DeploymentsError('CreateService returned no id')
      return Service.Id
    } catch (err) {
      if (err instanceof ServiceAlreadyExists && err.ServiceId !== undefined) return err.ServiceId
      throw err
    }
  }

  async #register(serviceId: string, id: string): Promise<void> {
    const out = await this.#c.send(
      new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: id, Attributes: { AWS_INSTANCE_IPV4: MARKER_IPV4, AWS_INSTANCE_PORT: String(MARKER_PORT) } }),
    )
    await this.#wait(out.OperationId)
  }

  async #deregister(serviceId: string, id: string): Promise<void> {
    try {
      await this.#wait((await this.#c.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: id }))).OperationId)
    } catch (err) {
      if (!(err instanceof InstanceNotFound)) throw err
    }
  }

  /** Cloud Map operations are asynchronous: wait for SUCCESS so the order of writes holds. */
  async #wait(operationId: string | undefined): Promise<void> {
    if (operationId === undefined) return
    const budget = this.#o.operationTimeoutMs ?? OPERATION_TIMEOUT_MS
    for (let i = 0, waited = 0; waited <= budget; i++) {
      const { Operation } = await this.#c.send(new GetOperationCommand({ OperationId: operationId }))
      if (Operation?.Status === 'SUCCESS') return
      if (Operation?.Status === 'FAIL') throw new DeploymentsError(`operation ${operationId} failed: ${Operation.ErrorMessage ?? 'unknown'}`)
      const pause = Math.min(1000, 50 * 2 ** Math.min(i, 5))
      waited += pause
      await this.#sleep(pause)
    }
    throw new DeploymentsError(`operation ${operationId} did not finish within ${Math.round(budget / 1000)} s`)
  }
}

function isDrainingAttr(attributes: Readonly<Record<string, string>>): boolean {
  return attributes['status']?.toUpperCase() === 'DRAINING'
}

function checkApp(app: string): string {
  if (!isDnsLabel(app.toLowerCase())) throw new DeploymentsError(`app ${JSON.stringify(app)} must be a DNS label`, 'INVALID')
  return app
}

function checkDeployment(id: string): string {
  const dep = id.toLowerCase()
  if (!isDnsLabel(dep)) throw new DeploymentsError(`deployment ${JSON.stringify(id)} must be a DNS label (letters, digits, '-')`, 'INVALID')
  if (dep.length > MAX_DEPLOYMENT_ID) throw new DeploymentsError(`deployment ids may have at most ${MAX_DEPLOYMENT_ID} characters (marker InstanceIds are at most 64)`, 'INVALID')
  return dep
}

/** The parsed state, for callers that only need the pointer. */
export function stateOf(listing: AppListing): AppState {
  return appStateFrom(listing.markers)
}
