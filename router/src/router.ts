// Wiring: builds discovery, cache, balancer, metrics, logger and both
// listeners from a RouterConfig. Tests and main.ts both start routers here.

import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import type { RouterConfig } from './config.js'
import type { Discovery, TargetLookup } from './discovery/discovery.js'
import { DnsDiscovery } from './discovery/dns.js'
import { StaticDiscovery } from './discovery/static.js'
import { DiscoveryCache } from './discovery/cache.js'
import { RoundRobinBalancer } from './balancing/round-robin.js'
import { WeightedBalancer } from './balancing/weighted.js'
import { P2cBalancer } from './balancing/p2c.js'
import { LoadTracker } from './balancing/load-tracker.js'
import { OutlierDetector } from './balancing/outlier.js'
import type { Balancer } from './balancing/balancer.js'
import { CloudMapDiscovery } from './discovery/cloudmap.js'
import { SdkCloudMapApi, type CloudMapApi } from './discovery/cloudmap-api.js'
import { quietSdkNodeNotice, sdkLogger } from './discovery/sdk-logger.js'
import { RouterMetrics } from './admin/metrics.js'
import { createAdminServer } from './admin/server.js'
import { buildSnapshot, type RouterSnapshot, type SnapshotSource } from './admin/snapshot.js'
import { createLogger, type Logger } from './log.js'
import type { DeploymentControl } from './deployments/control.js'
import { createDeploymentControl } from './deployments/sdk-control.js'
import { RouteSource } from './routing/route-source.js'
import type { BalancerName, Route } from './routing/route.js'
import { MainServer } from './server.js'

export interface RouterDeps {
  /** Override the discovery backend (tests); default from config.discoveryMode. */
  readonly discovery?: Discovery
  readonly logger?: Logger
  readonly metrics?: RouterMetrics
  /** Override the Cloud Map API client (DISCOVERY_MODE=cloudmap). */
  readonly cloudmapApi?: CloudMapApi
  /** False in cluster workers: the primary serves the admin port. */
  readonly admin?: boolean
  /** Override the route source (tests: a fake clock, no fs.watch). */
  readonly routeSource?: RouteSource
  /** Wall clock, epoch ms (deployment drain deadlines); tests inject one. */
  readonly wallClock?: () => number
  /** Override the registry writer of the dashboard's deployment actions (default: the SDK one when DEPLOYMENT_CONTROL is on). */
  readonly deploymentControl?: DeploymentControl
}

export interface Router {
  readonly config: RouterConfig
  readonly main: MainServer
  readonly admin: Server
  readonly cache: DiscoveryCache
  readonly metrics: RouterMetrics
  readonly logger: Logger
  /** The live route table (ROUTES_FILE reloads). */
  readonly routes: RouteSource
  /** This process's snapshot for /admin/routes and the dashboard (cluster workers send it to the primary). */
  snapshot(lookUpMedia: boolean): Promise<RouterSnapshot>
  /** Bound ports after listen(). */
  port(): number
  adminPort(): number
  listen(): Promise<void>
  /** Mark as draining: /health turns 503. */
  setServing(serving: boolean): void
  close(): Promise<void>
}

export function createDiscovery(config: RouterConfig, logger: Logger, metrics: RouterMetrics, api?: CloudMapApi): Discovery {
  switch (config.discoveryMode) {
    case 'dns':
      return new DnsDiscovery({
        namespace: config.namespace,
        servers: config.dns.servers,
        timeoutMs: config.dns.timeoutMs,
        tries: config.dns.tries,
        recordTypeFor: (service) => (service === config.routes.mediaService ? config.routes.media : config.routes.services),
      })
    case 'static': {
      const file = config.staticFile
      if (file === undefined) throw new Error('STATIC_DISCOVERY_FILE is required for DISCOVERY_MODE=static')
      return new StaticDiscovery({
        file,
        onReload: (r) => (r.ok ? logger.log('info', 'static discovery reloaded', { services: r.services }) : logger.log('error', 'static discovery file rejected; keeping the last good one', { error: r.error })),
      })
    }
    case 'cloudmap': {
      const c = config.cloudmap
      return new CloudMapDiscovery({
        api: api ?? sdkCloudMapApi(config, logger),
        namespace: config.namespace,
        healthStatus: c.healthStatus,
        revisionPollMs: c.revisionPollMs,
        fullRefreshMs: c.fullRefreshMs,
        backoffBaseMs: c.backoffBaseMs,
        backoffMaxMs: c.backoffMaxMs,
        defaultPortFor: (service) => (service === config.routes.mediaService ? config.routes.media.defaultPort : config.routes.services.defaultPort),
        onCall: (operation, outcome) => metrics.cloudmapCalls.labels(operation, outcome).inc(),
      })
    }
  }
}

function sdkCloudMapApi(config: RouterConfig, logger: Logger): CloudMapApi {
  quietSdkNodeNotice(logger)
  const c = config.cloudmap
  return new SdkCloudMapApi({ region: c.region, endpoint: c.endpoint, connectTimeoutMs: c.connectTimeoutMs, requestTimeoutMs: c.timeoutMs, logger: sdkLogger(logger) })
}

/** The route table's blue/green apps: each app once, with the routes serving it (the first one's lookup). */
export function affinityApps(list: readonly Route[]): Array<{ app: string; routes: string[]; lookup: TargetLookup | undefined }> {
  const apps = new Map<string, { app: string; routes: string[]; lookup: TargetLookup | undefined }>()
  for (const r of list) {
    if (r.affinity === undefined) continue
    const had = apps.get(r.affinity.app)
    if (had !== undefined) had.routes.push(r.name)
    else apps.set(r.affinity.app, { app: r.affinity.app, routes: [r.name], lookup: r.lookup })
  }
  return [...apps.values()]
}

export function createRouter(config: RouterConfig, deps: RouterDeps = {}): Router {
  const logger = deps.logger ?? createLogger({ base: { component: 'router' } })
  const metrics = deps.metrics ?? new RouterMetrics()
  // First: a bad ROUTES_FILE stops the start before anything else is opened.
  const routes =
    deps.routeSource ??
    new RouteSource({
      file: config.routes.file,
      builtins: { mediaService: config.routes.mediaService, stripPrefix: config.routes.stripPrefix, servicesBalancer: config.balancing.services },
      pollMs: config.routes.pollMs,
      logger,
    })
  const discovery = deps.discovery ?? createDiscovery(config, logger, metrics, deps.cloudmapApi)
  const cache = new DiscoveryCache(discovery, { ...config.cache, onLookup: (outcome) => metrics.observeLookup(discovery.name, outcome) })
  let serving = true
  const load = new LoadTracker()
  // One instance per strategy, shared by the routes naming it (their state is kept per target key).
  const balancers: Readonly<Record<BalancerName, Balancer>> = { p2c: new P2cBalancer(load), weighted: new WeightedBalancer(), 'round-robin': new RoundRobinBalancer() }
  const outliers = new OutlierDetector({
    consecutiveFailures: config.balancing.ejectAfterFailures === 0 ? Number.POSITIVE_INFINITY : config.balancing.ejectAfterFailures,
    baseEjectionMs: config.balancing.ejectBaseMs,
    maxEjectionMs: config.balancing.ejectMaxMs,
  })
  const main = new MainServer({
    config,
    routes: () => routes.table,
    cache,
    balancerFor: (name) => balancers[name],
    load,
    outliers,
    metrics,
    logger,
    isServing: () => serving,
    ...(deps.wallClock !== undefined ? { wallClock: deps.wallClock } : {}),
  })
  metrics.watchState({ draining: () => !serving, staleTargets: () => cache.staleCount() })
  const snapshotSource: SnapshotSource = {
    namespace: config.namespace,
    mediaService: config.routes.mediaService,
    cache,
    balancerName: config.balancing.services,
    outliers,
    load,
    routes: () => {
      const v = routes.view()
      return { routeFile: { file: v.file, loadedAt: v.loadedAt, lastError: v.lastError }, routes: v.routes }
    },
    apps: () => affinityApps(routes.table.routes),
    serving: () => serving,
  }
  const snapshot = (lookUpMedia: boolean): Promise<RouterSnapshot> => buildSnapshot(snapshotSource, { lookUpMedia })
  const adminServer = createAdminServer({
    token: config.adminToken,
    renderMetrics: () => metrics.registry.metrics(),
    metricsContentType: metrics.registry.contentType,
    routesView: () => snapshot(false),
    snapshots: async () => [await snapshot(true)],
    mediaAdminToken: config.mediaAdminToken,
    // Only the process serving the admin port writes (cluster workers have none).
    ...(deps.admin !== false && config.deploymentControl ? { deploymentControl: deps.deploymentControl ?? createDeploymentControl(config, logger) } : {}),
    logger,
    ...(deps.wallClock !== undefined ? { wallClock: deps.wallClock } : {}),
  })
  const admin = adminServer.server
  const portOf = (s: Server): number => {
    const a = s.address()
    return a !== null && typeof a === 'object' ? (a as AddressInfo).port : 0
  }
  const listenOn = (s: Server, port: number, host: string): Promise<void> =>
    new Promise((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, host, () => {
        s.off('error', reject)
        resolve()
      })
    })
  return {
    config,
    main,
    admin,
    cache,
    metrics,
    logger,
    routes,
    snapshot,
    port: () => portOf(main.server),
    adminPort: () => portOf(admin),
    async listen() {
      await listenOn(main.server, config.port, config.host)
      if (deps.admin === false) {
        logger.log('info', 'worker listening', { port: portOf(main.server), pid: process.pid })
        return
      }
      await listenOn(admin, config.adminPort, config.adminHost)
      logger.log('info', 'router listening', { port: portOf(main.server), adminPort: portOf(admin), discovery: discovery.name, namespace: config.namespace })
    },
    setServing(v) {
      serving = v
    },
    async close() {
      serving = false
      await Promise.all([main.close(), admin.listening ? new Promise<void>((r) => admin.close(() => r())) : Promise.resolve()])
      admin.closeAllConnections()
      routes.close()
      await adminServer.close()
      await cache.close()
      logger.flush()
    },
  }
}

