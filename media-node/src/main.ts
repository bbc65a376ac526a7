// Process entry: environment → config, ECS metadata → identity, start the
// node, and on SIGTERM/SIGINT deregister and close (exit 0; exit 1 if that
// fails or takes longer than SHUTDOWN_TIMEOUT_MS). Wiring only.

import { hostname } from 'node:os'
import { loadConfig, resolveIdentity } from './config.js'
import type { MediaNodeConfig } from './config.js'
import { readEcsMetadata } from './ecs-metadata.js'
import type { EcsTaskInfo } from './ecs-metadata.js'
import { jsonLineLogger } from './log.js'
import type { Logger } from './log.js'
import { startMediaNode } from './node.js'
import type { MediaNode } from './node.js'
import type { RegistrationOptions } from './registration.js'

async function main(): Promise<void> {
  let log: Logger = jsonLineLogger('info')
  let node: MediaNode
  let config: MediaNodeConfig
  try {
    config = loadConfig(process.env)
    log = jsonLineLogger(config.logLevel)
    let meta: EcsTaskInfo | undefined
    if (config.ecsMetadataUri !== undefined) {
      meta = await readEcsMetadata(config.ecsMetadataUri, { containerPort: config.port })
      log({ level: 'info', msg: 'ECS task metadata read', taskArn: meta.taskArn, networkMode: meta.networkMode, ipv4: meta.ipv4, hostPort: meta.hostPort })
    }
    const identity = resolveIdentity(config, meta, hostname())
    let registration: RegistrationOptions | false = false
    if (config.register) {
      if (identity.advertiseIpv4 === undefined) {
        throw new Error(
          `ADVERTISE_IPV4 is required: ${meta === undefined ? 'not running on ECS' : `ECS network mode ${meta.networkMode ?? 'unknown'} gives no routable task address`} (or set CLOUDMAP_REGISTER=false)`,
        )
      }
      const region = identity.region ?? (config.endpointOverridden ? 'us-east-1' : undefined)
      registration = {
        ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
        ...(region !== undefined ? { region } : {}),
        ...(config.endpointOverridden && !config.credentialsInEnv ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
        ...(config.serviceId !== undefined ? { serviceId: config.serviceId } : {}),
        namespaceName: config.namespaceName,
        serviceName: config.serviceName,
        advertiseIpv4: identity.advertiseIpv4,
        ...(identity.advertisePort !== undefined ? { advertisePort: identity.advertisePort } : {}),
        initialRetryDelayMs: config.registerRetryInitialMs,
        maxRetryDelayMs: config.registerRetryMaxMs,
      }
    }
    node = await startMediaNode({
      nodeId: identity.nodeId,
      host: config.host,
      port: config.port,
      maxPayloadBytes: config.maxPayloadBytes,
      sendBufferLimitBytes: config.sendBufferLimitBytes,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      closeTimeoutMs: config.closeTimeoutMs,
      retryAfterSeconds: config.retryAfterSeconds,
      registration,
      log,
    })
    log({ level: 'info', msg: 'media node started', nodeId: node.nodeId, nodeIdSource: identity.nodeIdSource, port: node.port, register: config.register })
  } catch (err) {
    log({ level: 'error', msg: 'media node failed to start', error: err instanceof Error ? err.message : String(err) })
    process.exit(1)
  }

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log({ level: 'warn', msg: 'second signal, exiting now', signal })
      process.exit(1)
    }
    stopping = true
    log({ level: 'info', msg: 'shutting down', signal })
    const timer = setTimeout(() => {
      log({ level: 'error', msg: 'shutdown timed out', timeoutMs: config.shutdownTimeoutMs })
      process.exit(1)
    }, config.shutdownTimeoutMs)
    timer.unref()
    node.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log({ level: 'error', msg: 'shutdown failed', error: err instanceof Error ? err.message : String(err) })
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

void main()
