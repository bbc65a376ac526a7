// Process entry point: config from the environment, start the router (or, with
// ROUTER_WORKERS > 1, a cluster primary and its workers), and drain on
// SIGTERM/SIGINT (lifecycle/drain.ts). A second signal, or the hard limit (sum
// of the drain timeouts plus a margin), exits at once. Log lines still buffered
// when the process exits, however it exits, are written on the way out.

import { AggregatorRegistry } from 'prom-client'
import { ConfigError, loadConfig } from './config.js'
import { createRouter } from './router.js'
import { createLogger, flushOnExit, parseLogLevel } from './log.js'
import { drainHardLimitMs, drainRouter } from './lifecycle/drain.js'
import { isClusterPrimary, isClusterWorker, runPrimary, serveAsWorker } from './lifecycle/cluster.js'

async function main(): Promise<void> {
  let logger = createLogger({ base: { component: 'router' } })
  flushOnExit(() => logger)
  try {
    logger = createLogger({ level: parseLogLevel(process.env.LOG_LEVEL), base: { component: 'router', ...(isClusterWorker() ? { pid: process.pid } : {}) } })
    const config = loadConfig(process.env)
    if (isClusterPrimary(config)) {
      await runPrimary(config, logger)
      return
    }
    const worker = isClusterWorker()
    const router = createRouter(config, { logger, admin: !worker })
    if (worker) {
      // Constructing one installs prom-client's worker-side IPC listener; then point it at our registry.
      new AggregatorRegistry()
      AggregatorRegistry.setRegistries([router.metrics.registry])
    }
    await router.listen()
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) {
        if (signal === 'primary') return
        logger.log('warn', 'second signal: exiting now', { signal })
        logger.flush()
        process.exit(1)
      }
      stopping = true
      logger.log('info', 'shutting down', { signal })
      const d = config.drain
      const hard = setTimeout(() => {
        logger.log('error', 'drain exceeded its hard limit: exiting now', {})
        logger.flush()
        process.exit(1)
      }, drainHardLimitMs(d))
      hard.unref()
      drainRouter(router, { delayMs: d.delayMs, httpTimeoutMs: d.httpTimeoutMs, timeoutMs: d.timeoutMs })
        .then(() => {
          logger.flush()
          process.exit(0)
        })
        .catch((err: unknown) => {
          logger.log('error', 'shutdown failed', { err: String(err) })
          logger.flush()
          process.exit(1)
        })
    }
    if (worker) {
      // The primary decides when to drain; a terminal's Ctrl-C reaches the whole group.
      process.on('SIGINT', () => undefined)
      process.on('SIGTERM', () => stop('SIGTERM'))
      serveAsWorker(router, () => stop('primary'), (lookUpMedia) => router.snapshot(lookUpMedia))
    } else {
      process.on('SIGTERM', () => stop('SIGTERM'))
      process.on('SIGINT', () => stop('SIGINT'))
    }
  } catch (err) {
    const msg = err instanceof ConfigError ? `invalid configuration: ${err.message}` : `start-up failed: ${err instanceof Error ? err.message : String(err)}`
    process.stderr.write(`${msg}\n`)
    logger.flush()
    process.exit(1)
  }
}

void main()
