// The embedded local stack behind `npm start` and `npm run loadtest`: the Cloud
// Map emulator, demo deployments and media nodes that register themselves
// through the AWS SDK, and a router resolving them through the emulator's DNS.
// No route configuration anywhere: the router only knows the namespace.
// Extra deployments, media nodes and the user's own services come from a
// stack file (stack-file.ts); the router's environment is composed in
// router-env.ts (every router variable passes through).

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from './emulator/index.js'
import { deregisterInstance, emulatorClient, ensurePrivateDnsNamespace, ensureService, registerInstance } from './emulator/sdk-setup.js'
import { startDemoBackend, type DemoBackend } from './demo-backend.js'
import { startMediaNode, type MediaNode } from '../../../media-node/src/index.js'
import { loadConfig } from '../../../router/src/config.js'
import { createRouter, type Router } from '../../../router/src/router.js'
import { createLogger, parseLogLevel } from '../../../router/src/log.js'
import { SdkCloudMapApi } from '../../../router/src/discovery/cloudmap-api.js'
import { quietSdkNodeNotice, sdkLogger } from '../../../router/src/discovery/sdk-logger.js'
import { createDeploymentControl } from '../../../router/src/deployments/sdk-control.js'
import { composeRouterEnv } from './router-env.js'
import { EMPTY_STACK_FILE, type StackFile, type StackService } from './stack-file.js'

export interface DevStackOptions {
  /** Router main port (default 8080; 0 = ephemeral). */
  readonly routerPort?: number
  /** Router admin port (default 9090; 0 = ephemeral). */
  readonly adminPort?: number
  readonly adminToken?: string
  /** Emulator ports (default ephemeral). */
  readonly emulatorApiPort?: number
  readonly emulatorDnsPort?: number
  /** Default 'ecs.internal'; CLOUDMAP_NAMESPACE in routerEnv wins. */
  readonly namespace?: string
  /** Instances per built-in demo deployment (default hello: 2, echo: 1; `echo` echoes). */
  readonly deployments?: Readonly<Record<string, number>>
  /** Built-in media nodes (default node-1, node-2). */
  readonly mediaNodes?: readonly string[]
  /** Admin listener of the first media node (POST /admin/drain, GET /status); the next node gets the next port. Default 0 (ephemeral). */
  readonly mediaAdminPort?: number
  /** Suppress component logs (the load runner wants a clean terminal). */
  readonly quiet?: boolean
  /**
   * Router variables over the stack's own (router-env.ts): any ENV_DOC name
   * or LOG_LEVEL; others are ignored. DNS_SERVERS and CLOUDMAP_ENDPOINT are
   * the emulator's and may not be set (StackEnvError).
   */
  readonly routerEnv?: Readonly<Record<string, string | undefined>>
  /** Extra deployments, media nodes and services to register (a parsed stack file). */
  readonly stackFile?: StackFile
  /** The media nodes' admin token (default: the router's admin token); the router gets it as MEDIA_ADMIN_TOKEN. */
  readonly nodeAdminToken?: string
}

/** One service of the user's registered by the stack. */
export interface RegisteredService {
  readonly service: string
  readonly id: string
  readonly host: string
  readonly port: number
}

export interface DevStack {
  readonly routerUrl: string
  readonly adminUrl: string
  readonly adminToken: string
  readonly emulator: Emulator
  readonly router: Router
  readonly deployments: string[]
  readonly mediaNodes: string[]
  /** Each media node's admin listener (GET /metrics, /status; /admin/* with adminToken), in mediaNodes order. */
  readonly mediaNodeAdminUrls: string[]
  /** The user's services registered from the stack file (deregistered on close). */
  readonly services: readonly RegisteredService[]
  /** The router's environment as composed (what the stack set plus what was passed through). */
  readonly routerEnv: Readonly<Record<string, string>>
  /** Start draining a media node (DRAINING in Cloud Map; existing sockets stay). */
  drainNode(nodeId: string): Promise<void>
  close(): Promise<void>
}

export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  const callerEnv = options.routerEnv ?? {}
  const namespace = nonEmpty(callerEnv['CLOUDMAP_NAMESPACE']) ?? options.namespace ?? 'ecs.internal'
  const quiet = options.quiet ?? false
  const extra = options.stackFile ?? EMPTY_STACK_FILE
  const logLevel = parseLogLevel(nonEmpty(callerEnv['LOG_LEVEL']))
  // A bad router variable fails here, before anything starts: the real facts are only known later.
  loadConfig(composeRouterEnv({ namespace, dnsServer: '127.0.0.1:53', apiEndpoint: 'http://127.0.0.1:1', routerPort: options.routerPort ?? 8080, adminPort: options.adminPort ?? 9090, adminToken: options.adminToken ?? 'local-admin-token-change-me', staticFile: '/dev/null' }, callerEnv))
  const print = (e: Record<string, unknown>): void => {
    if (!quiet) process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`)
  }
  const emulator = await startEmulator({ apiPort: options.emulatorApiPort ?? 0, dnsPort: options.emulatorDnsPort ?? 0, log: (e) => print({ component: 'emulator', ...e }) })
  const client = emulatorClient(emulator.apiEndpoint)
  const cleanups: Array<() => Promise<void>> = []
  try {
    // What the CDK stack creates in AWS: the namespace and the `media` service (SRV + A).
    const namespaceId = await ensurePrivateDnsNamespace(client, namespace)
    await ensureService(client, { namespaceId, name: 'media', records: [{ type: 'SRV', ttl: 5 }, { type: 'A', ttl: 5 }], customHealth: true })

    // Built-in demo first, then the stack file's deployments (same name: the file's count).
    const plan = new Map<string, { instances: number; echo: boolean; attributes: Readonly<Record<string, string>> }>()
    if (extra.demo) for (const [name, instances] of Object.entries(options.deployments ?? { hello: 2, echo: 1 })) plan.set(name, { instances, echo: name === 'echo', attributes: {} })
    for (const d of extra.deployments) plan.set(d.name, { instances: d.instances, echo: d.echo, attributes: d.attributes })
    const backends: DemoBackend[] = []
    for (const [deployment, d] of plan) {
      for (let i = 1; i <= d.instances; i++) {
        const b = await startDemoBackend({ client, namespace, deployment, instanceId: `${deployment}-${i}`, echo: d.echo, attributes: d.attributes })
        backends.push(b)
        cleanups.push(() => b.close())
      }
    }
    const adminToken = nonEmpty(callerEnv['ADMIN_TOKEN']) ?? options.adminToken ?? 'local-admin-token-change-me'
    // The media nodes' admin token; the router's dashboard drains nodes with it (MEDIA_ADMIN_TOKEN).
    const nodeAdminToken = options.nodeAdminToken ?? adminToken
    const nodes: MediaNode[] = []
    const nodeIds = [...new Set([...(extra.demo ? (options.mediaNodes ?? ['node-1', 'node-2']) : []), ...extra.mediaNodes])]
    const adminBase = options.mediaAdminPort ?? 0
    for (const [i, nodeId] of nodeIds.entries()) {
      const node = await startMediaNode({
        nodeId,
        host: '127.0.0.1',
        port: 0,
        registration: { endpoint: emulator.apiEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, namespaceName: namespace, serviceName: 'media', advertiseIpv4: '127.0.0.1' },
        admin: { port: adminBase === 0 ? 0 : adminBase + i, host: '127.0.0.1', token: nodeAdminToken },
        log: (e) => print({ component: 'media-node', ...e }),
      })
      nodes.push(node)
      cleanups.push(() => node.close())
    }
    await Promise.all(nodes.map((n) => n.whenActive()))

    // The user's own services: registered by host:port, deregistered on close.
    const services: RegisteredService[] = []
    for (const s of extra.services) {
      const serviceId = await ensureService(client, { namespaceId, name: s.service, records: [{ type: 'SRV', ttl: 5 }], customHealth: true })
      await registerInstance(client, { serviceId, instanceId: s.id, ipv4: s.host, port: s.port, attributes: { ...s.attributes } })
      cleanups.push(() => deregisterInstance(client, serviceId, s.id))
      services.push({ service: s.service, id: s.id, host: s.host, port: s.port })
      print({ component: 'local-stack', level: 'info', msg: 'registered a service from the stack file', service: s.service, id: s.id, address: `${s.host}:${s.port}` })
    }

    // DISCOVERY_MODE=static without a file of the caller's: write what the stack started.
    let staticFile: string | undefined
    if (nonEmpty(callerEnv['DISCOVERY_MODE']) === 'static' && nonEmpty(callerEnv['STATIC_DISCOVERY_FILE']) === undefined) {
      const dir = await mkdtemp(join(tmpdir(), 'edge-router-local-'))
      cleanups.push(() => rm(dir, { recursive: true, force: true }))
      staticFile = join(dir, 'static.json')
      await writeFile(staticFile, `${JSON.stringify(staticTable(backends, nodes, extra.services), null, 2)}\n`)
    }

    const routerEnv = composeRouterEnv(
      {
        namespace,
        dnsServer: `${emulator.dns.host}:${emulator.dns.port}`,
        apiEndpoint: emulator.apiEndpoint,
        routerPort: options.routerPort ?? 8080,
        adminPort: options.adminPort ?? 9090,
        adminToken,
        ...(staticFile !== undefined ? { staticFile } : {}),
      },
      callerEnv,
    )
    // Unless the caller set one: the nodes' admin token, for the dashboard's drain action.
    routerEnv['MEDIA_ADMIN_TOKEN'] ??= nodeAdminToken
    const config = loadConfig(routerEnv)
    const logger = quiet ? createLogger({ write: () => undefined }) : createLogger({ level: logLevel, base: { component: 'router' } })
    // DISCOVERY_MODE=cloudmap: the emulator's API with its dummy credentials (no credential chain to search).
    if (config.discoveryMode === 'cloudmap') quietSdkNodeNotice(logger)
    const cloudmapApi =
      config.discoveryMode === 'cloudmap'
        ? new SdkCloudMapApi({ region: 'us-east-1', endpoint: emulator.apiEndpoint, connectTimeoutMs: config.cloudmap.connectTimeoutMs, requestTimeoutMs: config.cloudmap.timeoutMs, logger: sdkLogger(logger), credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
        : undefined
    // DEPLOYMENT_CONTROL: the dashboard's registry writes go to the emulator with the same dummy credentials.
    const deploymentControl = config.deploymentControl ? createDeploymentControl(config, logger, { accessKeyId: 'local', secretAccessKey: 'local' }) : undefined
    const router = createRouter(config, { logger, ...(cloudmapApi !== undefined ? { cloudmapApi } : {}), ...(deploymentControl !== undefined ? { deploymentControl } : {}) })
    await router.listen()
    cleanups.push(() => router.close())
    return {
      routerUrl: `http://127.0.0.1:${router.port()}`,
      adminUrl: `http://127.0.0.1:${router.adminPort()}`,
      adminToken,
      emulator,
      router,
      deployments: [...new Set(backends.map((b) => b.deployment))],
      mediaNodes: nodes.map((n) => n.nodeId),
      mediaNodeAdminUrls: nodes.map((n) => `http://127.0.0.1:${n.adminPort ?? 0}`),
      services,
      routerEnv,
      drainNode: async (nodeId) => {
        const node = nodes.find((n) => n.nodeId === nodeId)
        if (node === undefined) throw new Error(`no media node ${nodeId} in the local stack`)
        await node.startDraining()
      },
      close: async () => {
        // Router first (no new traffic), then backends deregister, then the emulator.
        for (const c of cleanups.reverse()) await c().catch(() => undefined)
        client.destroy()
        await emulator.close()
      },
    }
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => undefined)
    client.destroy()
    await emulator.close()
    throw err
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim()
}

/** The static discovery file (router/src/discovery/static.ts format) for what the stack started. */
function staticTable(backends: readonly DemoBackend[], nodes: readonly MediaNode[], services: readonly StackService[]): { services: Record<string, Array<{ id: string; host: string; port: number; attributes?: Record<string, string> }>> } {
  const table: Record<string, Array<{ id: string; host: string; port: number; attributes?: Record<string, string> }>> = {}
  const add = (service: string, entry: { id: string; host: string; port: number; attributes?: Record<string, string> }): void => {
    ;(table[service] ??= []).push(entry)
  }
  for (const b of backends) add(b.deployment, { id: b.instanceId, host: '127.0.0.1', port: b.port })
  for (const n of nodes) add('media', { id: n.nodeId, host: '127.0.0.1', port: n.port, attributes: { status: 'ACTIVE', ...(n.adminPort !== undefined ? { admin_port: String(n.adminPort) } : {}) } })
  for (const s of services) add(s.service, { id: s.id, host: s.host, port: s.port, attributes: { ...s.attributes } })
  return { services: table }
}
