// The running tier, from inside the client host: starts each part on its host
// (cloudmap, app hosts, media nodes, routers, HAProxy) and knows how to
// replace them as ECS would — a router task on a free slot registered in the
// LB, a media task with a new id on the same host. Readiness is always
// checked over the network (health endpoints, the LB's own view).

import { ListInstancesCommand, type ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { emulatorClient, ensurePrivateDnsNamespace, ensureService } from '../../../infra/local/src/emulator/sdk-setup.js'
import { LbControl } from './lb.js'
import { DEPLOYMENTS, PORTS, haproxyConfig, hostNamed, hostsOf, lbServerName, type Host, type TierSizes } from './plan.js'
import { httpCall, waitUntil } from './probe.js'
import { TierProcess, type Exit } from './procs.js'

export const NAMESPACE = 'tier.internal'
export const ADMIN_TOKEN = 'tier-admin-token-0123456789abcdef'
/** TTL of every Cloud Map record of the run (media and deployments). */
export const RECORD_TTL_S = 5
export const UPSTREAM_CONNECT_TIMEOUT_MS = 2000

export type DiscoveryMode = 'dns' | 'cloudmap'

export interface RouterTask {
  readonly slot: Host
  readonly proc: TierProcess
  readonly mode: DiscoveryMode
}

export interface MediaTask {
  readonly host: Host
  readonly nodeId: string
  readonly proc: TierProcess
}

export interface StackOptions {
  readonly hosts: readonly Host[]
  readonly sizes: TierSizes
  readonly runDir: string
  /** The repository's dist/ folder. */
  readonly dist: string
  readonly log: (msg: string) => void
}

export class TierStack {
  readonly o: StackOptions
  readonly lb: LbControl
  readonly routers = new Map<string, RouterTask>()
  readonly media = new Map<string, MediaTask>()
  readonly others: TierProcess[] = []
  /** Every router task that was stopped or killed, with how it ended. */
  readonly routerExits: { router: string; exit: Exit }[] = []
  mode: DiscoveryMode = 'dns'
  #cloudmap: TierProcess | undefined
  #client: ServiceDiscoveryClient | undefined
  #mediaServiceId = ''
  readonly #generation = new Map<string, number>()
  #routerTasks = 0

  constructor(o: StackOptions) {
    this.o = o
    this.lb = new LbControl(join(o.runDir, 'haproxy.sock'))
  }

  host(name: string): Host {
    return hostNamed(this.o.hosts, name)
  }

  get cloudmapHost(): Host {
    return this.host('cloudmap')
  }

  get apiEndpoint(): string {
    return `http://${this.cloudmapHost.ipv4}:${PORTS.cloudmapApi}`
  }

  get lbUrl(): string {
    return `http://${this.host('lb').ipv4}:${PORTS.lb}`
  }

  #node(script: string): [string, string[]] {
    return [process.execPath, [join(this.o.dist, script)]]
  }

  #spawn(host: Host, label: string, script: string, env: Record<string, string>): TierProcess {
    const [cmd, args] = this.#node(script)
    return new TierProcess(host, label, cmd, args, env, this.o.runDir)
  }

  /** Everything, in dependency order; resolves once the LB has routers UP. */
  async start(): Promise<void> {
    const cm = this.cloudmapHost
    this.#cloudmap = this.#spawn(cm, 'cloudmap', 'infra/local/src/emulator/main.js', {
      EMULATOR_HOST: cm.ipv4,
      EMULATOR_API_PORT: String(PORTS.cloudmapApi),
      EMULATOR_DNS_PORT: String(PORTS.dns),
    })
    const cloudmap = this.#cloudmap
    await waitUntil('the Cloud Map emulator', 20_000, async () => {
      if (cloudmap.exited !== undefined) throw new Error(`the Cloud Map emulator exited during start-up (see ${cloudmap.logFile})`)
      return (await httpCall(`${this.apiEndpoint}/emulator/faults`, { timeoutMs: 1000 })).status === 200
    })
    this.#client = emulatorClient(this.apiEndpoint)
    const ns = await ensurePrivateDnsNamespace(this.#client, NAMESPACE)
    this.#mediaServiceId = await ensureService(this.#client, { namespaceId: ns, name: 'media', records: [{ type: 'SRV', ttl: RECORD_TTL_S }, { type: 'A', ttl: RECORD_TTL_S }], customHealth: true })
    this.o.log('cloudmap up; starting app hosts and media nodes')

    const apps = hostsOf(this.o.hosts, 'app').map((h, i) =>
      this.#spawn(h, h.name, 'loadtest/src/tier/hosts/app-host.js', {
        HOST_IP: h.ipv4,
        INSTANCE_SUFFIX: String(i + 1),
        DEPLOYMENTS: DEPLOYMENTS.join(','),
        APP_PORT: String(PORTS.app),
        CONTROL_PORT: String(PORTS.appControl),
        CLOUDMAP_ENDPOINT: this.apiEndpoint,
        CLOUDMAP_NAMESPACE: NAMESPACE,
      }),
    )
    this.others.push(...apps)
    const mediaHosts = hostsOf(this.o.hosts, 'media')
    await Promise.all([...apps.map((p) => this.#waitControl(p)), ...mediaHosts.map((h) => this.startMedia(h))])

    const first = hostsOf(this.o.hosts, 'router').slice(0, 3)
    const running = new Set(first.map((h) => h.name))
    const cfg = join(this.o.runDir, 'haproxy.cfg')
    writeFileSync(cfg, haproxyConfig(this.o.hosts, join(this.o.runDir, 'haproxy.sock'), running))
    const lbHost = this.host('lb')
    const haproxy = new TierProcess(lbHost, 'lb-haproxy', 'haproxy', ['-db', '-f', cfg], {}, this.o.runDir)
    this.others.push(haproxy)
    await Promise.all(first.map((h) => this.#launchRouter(h, 'dns')))
    await waitUntil('HAProxy', 10_000, async () => (await this.lb.states().catch(() => new Map<string, string>())).size > 0)
    for (const h of first) await this.lb.waitFor(lbServerName(h), /^UP/, 15_000)
    this.mode = 'dns'
  }

  async #waitControl(p: TierProcess): Promise<void> {
    await waitUntil(`${p.label} control`, 20_000, async () => {
      if (p.exited !== undefined) throw new Error(`${p.label} exited during start-up (see ${p.logFile})`)
      return (await httpCall(`http://${p.host.ipv4}:${PORTS.appControl}/status`, { timeoutMs: 1000 })).status === 200
    })
  }

  routerEnv(slot: Host, mode: DiscoveryMode): Record<string, string> {
    const s = this.o.sizes
    return {
      HOST: slot.ipv4,
      PORT: String(PORTS.router),
      ADMIN_HOST: slot.ipv4,
      ADMIN_PORT: String(PORTS.routerAdmin),
      ADMIN_TOKEN,
      CLOUDMAP_NAMESPACE: NAMESPACE,
      DISCOVERY_MODE: mode,
      DNS_SERVERS: this.cloudmapHost.ipv4,
      CLOUDMAP_ENDPOINT: this.apiEndpoint,
      CLOUDMAP_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'tier',
      AWS_SECRET_ACCESS_KEY: 'tier',
      UPSTREAM_CONNECT_TIMEOUT_MS: String(UPSTREAM_CONNECT_TIMEOUT_MS),
      DRAIN_DELAY_MS: String(s.routerDrainDelayMs),
      DRAIN_HTTP_TIMEOUT_MS: '5000',
      DRAIN_TIMEOUT_MS: String(s.routerWsDrainMs),
      NODE_ENV: 'production',
    }
  }

  /** Starts a router on `slot` and waits for its /health (not yet in the LB). */
  async #launchRouter(slot: Host, mode: DiscoveryMode): Promise<RouterTask> {
    const proc = this.#spawn(slot, `router-task-${++this.#routerTasks}-on-${slot.name}`, 'router/src/main.js', this.routerEnv(slot, mode))
    const task = { slot, proc, mode }
    this.routers.set(slot.name, task)
    await waitUntil(`router on ${slot.name}`, 20_000, async () => {
      if (proc.exited !== undefined) throw new Error(`router on ${slot.name} exited during start-up (see ${proc.logFile})`)
      return (await httpCall(`http://${slot.ipv4}:${PORTS.router}/health`, { timeoutMs: 1000 })).status === 200
    })
    return task
  }

  /** A free router slot (no task on it and out of the LB). */
  freeSlot(): Host {
    const slot = hostsOf(this.o.hosts, 'router').find((h) => !this.routers.has(h.name))
    if (slot === undefined) throw new Error('no free router slot')
    return slot
  }

  /** ECS starting a router task: on a free slot, registered in the LB, resolves once the LB sends it traffic. */
  async addRouter(mode: DiscoveryMode): Promise<RouterTask> {
    const slot = this.freeSlot()
    const task = await this.#launchRouter(slot, mode)
    await this.lb.register(lbServerName(slot))
    await this.lb.waitFor(lbServerName(slot), /^UP/, 15_000)
    return task
  }

  /** The task ended (SIGTERM drain or kill): record its exit, deregister the slot, free it. */
  async retireRouter(task: RouterTask, exit: Exit): Promise<void> {
    this.routerExits.push({ router: task.slot.name, exit })
    await this.lb.deregister(lbServerName(task.slot))
    this.routers.delete(task.slot.name)
  }

  /** A new media task on `host` with a fresh node id; resolves once it is ACTIVE (registered). */
  async startMedia(host: Host): Promise<MediaTask> {
    const gen = (this.#generation.get(host.name) ?? 0) + 1
    this.#generation.set(host.name, gen)
    const nodeId = `${host.name}${String.fromCharCode(96 + gen)}`
    const s = this.o.sizes
    const proc = this.#spawn(host, nodeId, 'media-node/src/main.js', {
      NODE_ID: nodeId,
      HOST: '0.0.0.0',
      PORT: String(PORTS.media),
      ADVERTISE_IPV4: host.ipv4,
      CLOUDMAP_ENDPOINT: this.apiEndpoint,
      CLOUDMAP_NAMESPACE: NAMESPACE,
      CLOUDMAP_SERVICE: 'media',
      ADMIN_PORT: String(PORTS.mediaAdmin),
      ADMIN_TOKEN,
      DRAIN_TIMEOUT_MS: String(s.mediaDrainTimeoutMs),
      SIGTERM_DRAIN_TIMEOUT_MS: String(s.mediaDrainTimeoutMs),
      DRAIN_POLL_MS: '250',
      SHUTDOWN_TIMEOUT_MS: '10000',
      REGISTER_RETRY_INITIAL_MS: '200',
      REGISTER_RETRY_MAX_MS: '2000',
    })
    const task = { host, nodeId, proc }
    this.media.set(host.name, task)
    await waitUntil(`media node ${nodeId}`, 30_000, async () => {
      if (proc.exited !== undefined) throw new Error(`media node ${nodeId} exited during start-up (see ${proc.logFile})`)
      const r = await httpCall(`http://${host.ipv4}:${PORTS.mediaAdmin}/status`, { timeoutMs: 1000 })
      return r.status === 200 && r.body.includes('"status":"ACTIVE"')
    })
    return task
  }

  /** POST to a media node's admin port. */
  mediaAdmin(task: MediaTask, path: string): Promise<{ status: number; body: string }> {
    return httpCall(`http://${task.host.ipv4}:${PORTS.mediaAdmin}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  }

  /** Instance ids registered in the media service. */
  async mediaInstances(): Promise<string[]> {
    if (this.#client === undefined) return []
    const out = await this.#client.send(new ListInstancesCommand({ ServiceId: this.#mediaServiceId }))
    return (out.Instances ?? []).map((i) => i.Id ?? '')
  }

  /** Sets an app host's fault switch (slow answers of one deployment). */
  async appFault(host: Host, query: string): Promise<void> {
    const r = await httpCall(`http://${host.ipv4}:${PORTS.appControl}/fault?${query}`, { method: 'POST', timeoutMs: 3000 })
    if (r.status !== 200) throw new Error(`fault ${query} on ${host.name}: ${r.status} ${r.body}`)
  }

  /** Changes the emulator's fault switches (`PUT /emulator/faults`, e.g. {"dns":"drop"}); undefined puts every switch back to normal. */
  async cloudmapFault(patch: Record<string, unknown> | undefined): Promise<void> {
    const url = `${this.apiEndpoint}/emulator/faults`
    const r = patch === undefined ? await httpCall(url, { method: 'DELETE', timeoutMs: 3000 }) : await httpCall(url, { method: 'PUT', body: JSON.stringify(patch), timeoutMs: 3000, headers: { 'content-type': 'application/json' } })
    if (r.status !== 200) throw new Error(`emulator faults ${JSON.stringify(patch ?? 'clear')}: ${r.status} ${r.body}`)
  }

  /** Stops everything (SIGTERM, then SIGKILL after a grace); the launcher kills what is left anyway. */
  async stopAll(): Promise<void> {
    const all = [...[...this.routers.values()].map((r) => r.proc), ...[...this.media.values()].map((m) => m.proc), ...this.others]
    if (this.#cloudmap !== undefined) all.push(this.#cloudmap)
    await Promise.all(all.map((p) => p.stop(3000)))
    this.#client?.destroy()
  }
}
