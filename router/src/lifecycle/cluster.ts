// Cluster mode (ROUTER_WORKERS > 1): the primary forks workers that share the
// main port (node:cluster hands out connections), serves the admin port itself
// with metrics aggregated across workers (prom-client AggregatorRegistry) and
// the workers' snapshots (/admin/routes, and the admin dashboard, which merges
// them), and turns SIGTERM into a drain of every worker.

import cluster, { type Worker } from 'node:cluster'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AggregatorRegistry } from 'prom-client'
import type { RouterConfig } from '../config.js'
import type { Logger } from '../log.js'
import type { Router } from '../router.js'
import { createAdminServer } from '../admin/server.js'
import { parseSnapshot, type RouterSnapshot } from '../admin/snapshot.js'
import { createDeploymentControl } from '../deployments/sdk-control.js'

type ToWorker = { readonly type: 'router:drain' } | { readonly type: 'router:routes'; readonly id: number; readonly lookUpMedia: boolean }
type ToPrimary = { readonly type: 'router:listening'; readonly port: number } | { readonly type: 'router:routes'; readonly id: number; readonly view: unknown }

function isToPrimary(m: unknown): m is ToPrimary {
  return typeof m === 'object' && m !== null && 'type' in m && (m.type === 'router:listening' || m.type === 'router:routes')
}
function isToWorker(m: unknown): m is ToWorker {
  return typeof m === 'object' && m !== null && 'type' in m && (m.type === 'router:drain' || m.type === 'router:routes')
}

/** In a worker: report the port, answer snapshot requests (/admin/routes, the dashboard), drain on the primary's word. */
export function serveAsWorker(router: Router, drain: () => void, view: (lookUpMedia: boolean) => Promise<unknown>): void {
  process.send?.({ type: 'router:listening', port: router.port() } satisfies ToPrimary)
  process.on('message', (m: unknown) => {
    if (!isToWorker(m)) return
    if (m.type === 'router:drain') drain()
    else
      void view(m.lookUpMedia === true).then(
        (v) => process.send?.({ type: 'router:routes', id: m.id, view: v } satisfies ToPrimary),
        () => process.send?.({ type: 'router:routes', id: m.id, view: null } satisfies ToPrimary),
      )
  })
}

/** In the primary: fork, supervise, aggregate, drain. Resolves when serving. */
export async function runPrimary(config: RouterConfig, logger: Logger): Promise<void> {
  const aggregator = new AggregatorRegistry()
  const workers = new Set<Worker>()
  let stopping = false
  let port = 0
  const pending = new Map<number, { views: unknown[]; left: number; done: (v: unknown[]) => void }>()
  let nextId = 1

  const fork = (): Promise<void> =>
    new Promise((resolve) => {
      const w = cluster.fork({ ROUTER_WORKER: '1' })
      workers.add(w)
      w.on('message', (m: unknown) => {
        if (!isToPrimary(m)) return
        if (m.type === 'router:listening') {
          port = m.port
          resolve()
        } else {
          const p = pending.get(m.id)
          if (p !== undefined) {
            p.views.push(m.view)
            if (--p.left === 0) p.done(p.views)
          }
        }
      })
      w.on('exit', (code) => {
        workers.delete(w)
        if (!stopping) {
          logger.log('error', 'worker exited; starting another', { pid: w.process.pid, code })
          void fork()
        }
      })
    })

  await Promise.all(Array.from({ length: config.workers }, () => fork()))

  const routesViews = (lookUpMedia: boolean): Promise<unknown[]> =>
    new Promise((resolve) => {
      const id = nextId++
      const live = [...workers]
      if (live.length === 0) return resolve([])
      const timer = setTimeout(() => {
        const p = pending.get(id)
        pending.delete(id)
        resolve(p?.views ?? [])
      }, 2000)
      pending.set(id, { views: [], left: live.length, done: (v) => { clearTimeout(timer); pending.delete(id); resolve(v) } })
      for (const w of live) w.send({ type: 'router:routes', id, lookUpMedia } satisfies ToWorker)
    })

  const adminServer = createAdminServer({
    token: config.adminToken,
    renderMetrics: () => aggregator.clusterMetrics(),
    metricsContentType: aggregator.contentType,
    routesView: async () => ({ workers: await routesViews(false) }),
    // The dashboard sees what every worker knows (merged there); node probes and drains go from here.
    snapshots: async () => (await routesViews(true)).map(parseSnapshot).filter((s): s is RouterSnapshot => s !== undefined),
    mediaAdminToken: config.mediaAdminToken,
    ...(config.deploymentControl ? { deploymentControl: createDeploymentControl(config, logger) } : {}),
    logger,
    health: () => ({ status: stopping ? 503 : 200, body: { status: stopping ? 'draining' : 'ok', workers: workers.size } }),
  })
  const admin: Server = adminServer.server
  await new Promise<void>((resolve) => admin.listen(config.adminPort, config.adminHost, () => resolve()))
  logger.log('info', 'router listening', { port, adminPort: (admin.address() as AddressInfo).port, workers: config.workers, discovery: config.discoveryMode, namespace: config.namespace })

  const stop = (signal: string): void => {
    if (stopping) {
      logger.log('warn', 'second signal: stopping workers now', { signal })
      logger.flush()
      for (const w of workers) w.process.kill('SIGKILL')
      process.exit(1)
    }
    stopping = true
    logger.log('info', 'draining workers', { signal, workers: workers.size })
    for (const w of workers) w.send({ type: 'router:drain' } satisfies ToWorker)
    const check = setInterval(() => {
      if (workers.size > 0) return
      clearInterval(check)
      admin.close()
      logger.log('info', 'all workers drained', {})
      logger.flush()
      process.exit(0)
    }, 100)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

export const isClusterWorker = (): boolean => cluster.isWorker && process.env.ROUTER_WORKER === '1'
export const isClusterPrimary = (config: RouterConfig): boolean => config.workers > 1 && cluster.isPrimary
