// The embedded local stack behind `npm start` and `npm run loadtest`: the Cloud
// Map emulator, demo deployments and media nodes that register themselves
// through the AWS SDK, and a router resolving them through the emulator's DNS.
// No route configuration anywhere: the router only knows the namespace.

import { startEmulator, type Emulator } from './emulator/index.js'
import { emulatorClient, ensurePrivateDnsNamespace, ensureService } from './emulator/sdk-setup.js'
import { startDemoBackend, type DemoBackend } from './demo-backend.js'
import { startMediaNode, type MediaNode } from '../../../media-node/src/index.js'
import { loadConfig } from '../../../router/src/config.js'
import { createRouter, type Router } from '../../../router/src/router.js'
import { createLogger } from '../../../router/src/log.js'

export interface DevStackOptions {
  /** Router main port (default 8080; 0 = ephemeral). */
  readonly routerPort?: number
  /** Router admin port (default 9090; 0 = ephemeral). */
  readonly adminPort?: number
  readonly adminToken?: string
  /** Emulator ports (default ephemeral). */
  readonly emulatorApiPort?: number
  readonly emulatorDnsPort?: number
  readonly namespace?: string
  /** Instances per demo deployment. */
  readonly deployments?: Readonly<Record<string, number>>
  readonly mediaNodes?: readonly string[]
  /** Suppress component logs (the load runner wants a clean terminal). */
  readonly quiet?: boolean
  /** Extra router environment (e.g. ACCESS_LOG=false). */
  readonly routerEnv?: Readonly<Record<string, string>>
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
  /** Start draining a media node (DRAINING in Cloud Map; existing sockets stay). */
  drainNode(nodeId: string): Promise<void>
  close(): Promise<void>
}

export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  const namespace = options.namespace ?? 'ecs.internal'
  const quiet = options.quiet ?? false
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

    const backends: DemoBackend[] = []
    for (const [deployment, count] of Object.entries(options.deployments ?? { hello: 2, echo: 1 })) {
      for (let i = 1; i <= count; i++) {
        const b = await startDemoBackend({ client, namespace, deployment, instanceId: `${deployment}-${i}` })
        backends.push(b)
        cleanups.push(() => b.close())
      }
    }
    const adminToken = options.adminToken ?? 'local-admin-token-change-me'
    const nodes: MediaNode[] = []
    for (const nodeId of options.mediaNodes ?? ['node-1', 'node-2']) {
      const node = await startMediaNode({
        nodeId,
        host: '127.0.0.1',
        port: 0,
        registration: { endpoint: emulator.apiEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, namespaceName: namespace, serviceName: 'media', advertiseIpv4: '127.0.0.1' },
        admin: { port: 0, host: '127.0.0.1', token: adminToken },
        log: (e) => print({ component: 'media-node', ...e }),
      })
      nodes.push(node)
      cleanups.push(() => node.close())
    }
    await Promise.all(nodes.map((n) => n.whenActive()))

    const config = loadConfig({
      HOST: '127.0.0.1',
      ADMIN_HOST: '127.0.0.1',
      PORT: String(options.routerPort ?? 8080),
      ADMIN_PORT: String(options.adminPort ?? 9090),
      ADMIN_TOKEN: adminToken,
      CLOUDMAP_NAMESPACE: namespace,
      DISCOVERY_MODE: 'dns',
      DNS_SERVERS: `${emulator.dns.host}:${emulator.dns.port}`,
      DRAIN_DELAY_MS: '0',
      ...(options.routerEnv ?? {}),
    })
    const logger = quiet ? createLogger({ write: () => undefined }) : createLogger({ base: { component: 'router' } })
    const router = createRouter(config, { logger })
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
