// Process entry: environment → config, ECS metadata (task metadata v4, and on
// bridge networking the container metadata file) → identity, start the
// node (with its admin port and task protection). SIGTERM/SIGINT (or POST
// /admin/drain) drains; a second signal force-closes (1001 now). The process
// exits 0 once the node closed, 1 if deregistration failed or the hard limit
// (drain timeout + SHUTDOWN_TIMEOUT_MS) passed. Wiring only.

import { hostname } from 'node:os'
import { loadConfig, needsMetadataFile, resolveIdentity } from './config.js'
import type { MediaNodeConfig } from './config.js'
import { readEcsMetadata } from './ecs-metadata.js'
import type { EcsTaskInfo } from './ecs-metadata.js'
import { readEcsMetadataFile } from './ecs-metadata-file.js'
import type { EcsMetadataFileInfo } from './ecs-metadata-file.js'
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
    let file: EcsMetadataFileInfo | undefined
    if (config.ecsMetadataFile !== undefined && needsMetadataFile(config, meta)) {
      const path = config.ecsMetadataFile
      const read = await readEcsMetadataFile(path, {
        containerPort: config.port,
        timeoutMs: config.ecsMetadataFileTimeoutMs,
        onWaiting: (reason) => log({ level: 'info', msg: 'waiting for the ECS container metadata file to be READY', path, reason, timeoutMs: config.ecsMetadataFileTimeoutMs }),
      })
      file = read
      log({ level: 'info', msg: 'ECS container metadata file read', path: config.ecsMetadataFile, hostIpv4: read.hostIpv4, hostPort: read.hostPort, networkMode: read.networkMode, reads: read.reads })
    }
    const identity = resolveIdentity(config, meta, hostname(), file)
    let registration: RegistrationOptions | false = false
    if (config.register) {
      if (identity.advertiseIpv4 === undefined) {
        const why =
          meta === undefined
            ? 'not running on ECS'
            : `ECS network mode ${meta.networkMode ?? 'unknown'} gives no routable task address and ECS_CONTAINER_METADATA_FILE is not set (enable ECS_ENABLE_CONTAINER_METADATA=true on the container instances)`
        throw new Error(`ADVERTISE_IPV4 is required: ${why} (or set CLOUDMAP_REGISTER=false)`)
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
        ...(config.advertiseAdminPort !== undefined ? { advertiseAdminPort: config.advertiseAdminPort } : {}),
        initialRetryDelayMs: config.registerRetryInitialMs,
        maxRetryDelayMs: config.registerRetryMaxMs,
        requestTimeoutMs: config.cloudmapTimeoutMs,
        connectTimeoutMs: config.cloudmapConnectTimeoutMs,
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
      admin: { port: config.adminPort, ...(config.adminHost !== undefined ? { host: config.adminHost } : {}), token: config.adminToken },
      drainTimeoutMs: config.drainTimeoutMs,
      drainPollMs: config.drainPollMs,
      taskProtection: {
        agentUri: config.ecsAgentUri,
        expiresInMinutes: config.taskProtectionMinutes,
        renewAfterMs: config.taskProtectionRenewMs,
        releaseDelayMs: config.taskProtectionReleaseDelayMs,
        retryDelayMs: config.taskProtectionRetryMs,
      },
      log,
    })
    log({
      level: 'info',
      msg: 'media node started',
      nodeId: node.nodeId,
      nodeIdSource: identity.nodeIdSource,
      port: node.port,
      register: config.register,
      ...(config.register ? { advertiseIpv4: identity.advertiseIpv4, advertisePort: identity.advertisePort ?? node.port, addressSource: identity.addressSource } : {}),
    })
  } catch (err) {
    log({ level: 'error', msg: 'media node failed to start', error: err instanceof Error ? err.message : String(err) })
    process.exit(1)
  }

  const running = node
  const cfg = config
  running.whenClosed().then(
    () => {
      log({ level: 'info', msg: 'media node exiting', code: 0 })
      process.exit(0)
    },
    (err: unknown) => {
      log({ level: 'error', msg: 'shutdown failed', error: err instanceof Error ? err.message : String(err) })
      process.exit(1)
    },
  )
  // Hard limit: whatever started the drain, the process is gone by drain timeout + margin.
  void running.whenDraining().then((drain) => {
    const timer = setTimeout(() => hardStop(`drain did not finish within ${drain.timeoutMs} + ${cfg.shutdownTimeoutMs} ms`), drain.timeoutMs + cfg.shutdownTimeoutMs)
    timer.unref()
  })
  const hardStop = (why: string): void => {
    log({ level: 'error', msg: 'shutdown timed out, closing everything with 1001', why })
    running.closeAll(1001, 'Going Away')
    setTimeout(() => process.exit(1), 1000).unref()
  }

  let signals = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++
    if (signals === 1) {
      log({ level: 'info', msg: 'signal: draining', signal, activeConnections: running.status().activeConnections, timeoutMs: cfg.sigtermDrainTimeoutMs })
      void running.drain(cfg.sigtermDrainTimeoutMs).catch(() => {})
      return
    }
    if (signals === 2) {
      log({ level: 'warn', msg: 'second signal: closing every session with 1001 now', signal })
      running.forceClose()
      const timer = setTimeout(() => hardStop('force-close did not finish'), cfg.shutdownTimeoutMs)
      timer.unref()
      return
    }
    log({ level: 'warn', msg: 'third signal, exiting now', signal })
    process.exit(1)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}

void main()
