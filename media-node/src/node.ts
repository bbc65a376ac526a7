// The media node's life cycle: listen, register in Cloud Map (STARTING →
// ACTIVE), serve, drain, close.
//   drain():  DRAINING at once (new upgrades 503 + Retry-After); Cloud Map
//             status=DRAINING + custom health UNHEALTHY; existing sockets keep
//             relaying until their clients close them, or until the drain
//             timeout / forceClose() (then 1001 "Going Away"); then close().
//   close():  release task protection, deregister, close every socket with
//             1001, stop listening (also the admin port). Idempotent.
// Task scale-in protection follows the connection count (task-protection.ts).

import { once } from 'node:events'
import { isIPv4 } from 'node:net'
import { ConfigError } from './errors.js'
import { silentLogger } from './log.js'
import type { Logger } from './log.js'
import type { Server } from 'node:http'
import { createAdminServer } from './admin.js'
import { createNodeMetrics } from './metrics.js'
import { Drainer } from './drain.js'
import type { DrainReport } from './drain.js'
import { DNS_LABEL_RULE, isDnsLabel } from './node-id.js'
import { Registrar, checkAdvertise, checkAttributes } from './registration.js'
import type { RegistrationOptions } from './registration.js'
import { createMediaServer } from './server.js'
import type { NodeStatus, StatusBody } from './server.js'
import { SessionHub } from './sessions.js'
import { TaskProtection } from './task-protection.js'
import type { TaskProtectionOptions } from './task-protection.js'
import { errorMessage } from './guards.js'
import type { Timers } from './timers.js'

export interface MediaNodeOptions {
  /** The node's id: a DNS label, registered as the Cloud Map InstanceId. */
  nodeId: string
  /** Listen address. Default `0.0.0.0`. */
  host?: string
  /** Listen port; 0 picks a free one. Default 8080. */
  port?: number
  /** Largest accepted message; bigger ones close the connection with 1009. Default 1 MiB + 64 KiB. */
  maxPayloadBytes?: number
  /** Per-connection send-buffer bound; a consumer past it is closed with 1013. Default 4 MiB. */
  sendBufferLimitBytes?: number
  /** Ping interval; a peer silent for a whole interval is dropped. 0 disables. Default 30 s. */
  heartbeatIntervalMs?: number
  /** Clock of the heartbeat. Default: Node's timers; tests pass a fake clock. */
  timers?: Timers
  /** How long a server-initiated close handshake may take before the socket is destroyed. Default 5 s. */
  closeTimeoutMs?: number
  /** Retry-After (seconds) sent with 503 while STARTING or DRAINING. Default 5. */
  retryAfterSeconds?: number
  /** Cloud Map registration. Absent or false: no registration, the node is ACTIVE once listening. */
  registration?: RegistrationOptions | false
  /** Admin listener (GET /status, POST /admin/drain, POST /admin/force-close). Absent or false: none. */
  admin?: AdminOptions | false
  /** How long drain() waits for clients before sending 1001. Default 2 h. */
  drainTimeoutMs?: number
  /** How often a drain looks at the connection count. Default 1 s. */
  drainPollMs?: number
  /** ECS task scale-in protection. Absent, false or without `agentUri`: skipped. */
  taskProtection?: Omit<TaskProtectionOptions, 'log'> | false
  /** Structured log sink. Default: discard. */
  log?: (e: Record<string, unknown>) => void
}

export interface AdminOptions {
  /** Listen port; 0 picks a free one. Must differ from the WebSocket port. */
  port: number
  /** Listen address. Default: the node's `host`. */
  host?: string
  /** Bearer token for /admin/*. Undefined: /admin/* answers 401. */
  token: string | undefined
}

export interface MediaNode {
  /** The port the node listens on. */
  readonly port: number
  /** The admin port, when the admin listener is on. */
  readonly adminPort: number | undefined
  readonly nodeId: string
  /** The body of GET /status. */
  status(): StatusBody
  /** Sends a close frame with `code` to every connection (e.g. 1001); stragglers are destroyed after `closeTimeoutMs`. */
  closeAll(code: number, reason: string): void
  /** Resolves once the node is ACTIVE (registered, when registration is on). Rejects if it is closed first. */
  whenActive(): Promise<void>
  /**
   * Enters DRAINING: new upgrades get 503 + Retry-After, /health 503, open
   * connections stay. When registered, the Cloud Map `status` attribute is
   * set to DRAINING (best effort, failures are logged).
   */
  startDraining(): Promise<void>
  /**
   * Drains: startDraining(), then waits until every socket was closed by its
   * client, or until `timeoutMs` (default `drainTimeoutMs`) when the rest get
   * 1001 "Going Away"; then close(). Later calls return the same promise.
   * A node with no connections closes at once (no Cloud Map DRAINING step).
   */
  drain(timeoutMs?: number): Promise<void>
  /** Closes every session with 1001 now and finishes the drain (starting one if needed). Returns how many were open. */
  forceClose(): number
  /** Resolves when a drain starts. */
  whenDraining(): Promise<DrainReport>
  /** Settles when close() finished (from any path): resolves, or rejects if deregistration failed. */
  whenClosed(): Promise<void>
  /** Releases task protection, deregisters if registered, closes every connection with 1001 and stops listening. Idempotent. */
  close(): Promise<void>
}

/** Longest drain: 48 h (the longest ECS task protection). */
const MAX_DRAIN_MS = 48 * 60 * 60 * 1000

const DEFAULTS = {
  host: '0.0.0.0',
  port: 8080,
  maxPayloadBytes: 1024 * 1024 + 64 * 1024,
  sendBufferLimitBytes: 4 * 1024 * 1024,
  heartbeatIntervalMs: 30_000,
  closeTimeoutMs: 5_000,
  retryAfterSeconds: 5,
  drainTimeoutMs: 2 * 60 * 60 * 1000,
  drainPollMs: 1000,
} as const

/** Starts a media node; resolves once it listens (it may still be STARTING until registered). */
export async function startMediaNode(options: MediaNodeOptions): Promise<MediaNode> {
  const log: Logger = options.log ?? silentLogger
  if (!isDnsLabel(options.nodeId)) throw new ConfigError(`nodeId ${JSON.stringify(options.nodeId)} must be a DNS label: ${DNS_LABEL_RULE}`)
  const host = options.host ?? DEFAULTS.host
  const settings = {
    port: integer('port', options.port ?? DEFAULTS.port, 0, 65535),
    maxPayloadBytes: integer('maxPayloadBytes', options.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes, 1),
    sendBufferLimitBytes: integer('sendBufferLimitBytes', options.sendBufferLimitBytes ?? DEFAULTS.sendBufferLimitBytes, 1),
    heartbeatIntervalMs: integer('heartbeatIntervalMs', options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs, 0),
    closeTimeoutMs: integer('closeTimeoutMs', options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs, 0),
    retryAfterSeconds: integer('retryAfterSeconds', options.retryAfterSeconds ?? DEFAULTS.retryAfterSeconds, 0),
    drainTimeoutMs: integer('drainTimeoutMs', options.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs, 0, MAX_DRAIN_MS),
    drainPollMs: integer('drainPollMs', options.drainPollMs ?? DEFAULTS.drainPollMs, 1),
  }
  const admin = options.admin === undefined || options.admin === false ? undefined : options.admin
  if (admin !== undefined) {
    integer('admin.port', admin.port, 0, 65535)
    if (admin.port !== 0 && admin.port === settings.port) throw new ConfigError(`admin.port must differ from port (${settings.port})`)
  }
  const registration = options.registration === undefined || options.registration === false ? undefined : options.registration
  if (registration !== undefined) {
    const problem = checkAttributes(registration.attributes ?? {})
    if (problem !== undefined) throw new ConfigError(`registration.attributes: ${problem}`)
    if (registration.advertiseIpv4 === undefined && !(isIPv4(host) && host !== '0.0.0.0')) {
      throw new ConfigError('registration.advertiseIpv4 is required when host is not a specific IPv4 address')
    }
  }

  const startedAt = new Date().toISOString()
  let state: NodeStatus = registration === undefined ? 'ACTIVE' : 'STARTING'
  let protection: TaskProtection
  try {
    protection = new TaskProtection({
      ...(options.taskProtection === undefined || options.taskProtection === false ? { agentUri: undefined } : options.taskProtection),
      log,
    })
  } catch (err) {
    throw new ConfigError(`taskProtection: ${errorMessage(err)}`, { cause: err })
  }
  const hub = new SessionHub({
    sendBufferLimitBytes: settings.sendBufferLimitBytes,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    ...(options.timers !== undefined ? { timers: options.timers } : {}),
    closeTimeoutMs: settings.closeTimeoutMs,
    onConnectionsChanged: (n) => protection.update(n),
    log,
  })
  let registrar: Registrar | undefined
  const drainer = new Drainer(
    {
      activeConnections: () => hub.activeConnections,
      closeAll: (code, reason) => hub.closeAll(code, reason),
      terminateAll: () => hub.terminateAll(),
    },
    { pollMs: settings.drainPollMs, closeTimeoutMs: settings.closeTimeoutMs, log },
  )
  const status = (): StatusBody => {
    const drainReport = drainer.report
    return {
      nodeId: options.nodeId,
      status: state,
      activeConnections: hub.activeConnections,
      sessions: hub.sessions,
      startedAt,
      ...(registrar !== undefined ? { registration: registrar.report() } : {}),
      ...(drainReport !== undefined ? { drain: drainReport } : {}),
      ...(protection.enabled ? { taskProtection: protection.report() } : {}),
    }
  }
  const server = createMediaServer({
    nodeId: options.nodeId,
    hub,
    maxPayloadBytes: settings.maxPayloadBytes,
    retryAfterSeconds: settings.retryAfterSeconds,
    status,
    log,
  })
  server.listen(settings.port, host)
  try {
    await once(server, 'listening')
  } catch (err) {
    hub.stop()
    throw err
  }
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('media node server has no TCP address')
  const port = address.port
  log({ level: 'info', msg: 'media node listening', nodeId: options.nodeId, host, port })

  let adminServer: Server | undefined
  let adminPort: number | undefined
  const stopListening = async (): Promise<void> => {
    const closing = [server, adminServer].filter((s): s is Server => s !== undefined && s.listening).map(async (s) => {
      const closed = once(s, 'close')
      s.close()
      s.closeAllConnections()
      await closed
    })
    await Promise.all(closing)
  }
  if (admin !== undefined) {
    const adminHost = admin.host ?? host
    const a = createAdminServer({
      token: admin.token,
      status,
      metrics: createNodeMetrics(status, () => hub.connectionCounts()),
      drain: () => void drain().catch(() => {}),
      forceClose: () => forceClose(),
      log,
    })
    a.listen(admin.port, adminHost)
    try {
      await once(a, 'listening')
    } catch (err) {
      hub.stop()
      await stopListening()
      throw err
    }
    adminServer = a
    const adminAddress = a.address()
    adminPort = adminAddress !== null && typeof adminAddress !== 'string' ? adminAddress.port : undefined
    log({ level: 'info', msg: 'admin listening', host: adminHost, port: adminPort, tokenConfigured: admin.token !== undefined })
  }

  const abort = new AbortController()
  let active: Promise<void>
  if (registration === undefined) {
    active = Promise.resolve()
  } else {
    const ipv4 = registration.advertiseIpv4 ?? host
    const advertisePort = registration.advertisePort ?? port
    const problem = checkAdvertise(ipv4, advertisePort)
    if (problem !== undefined) {
      hub.stop()
      await stopListening()
      throw new ConfigError(`registration: ${problem}`)
    }
    // Routers read it to call POST /admin/drain (the router's admin dashboard).
    const advertisedAdminPort = adminPort === undefined ? undefined : (registration.advertiseAdminPort ?? adminPort)
    const adminPortAttribute: Record<string, string> = advertisedAdminPort === undefined ? {} : { admin_port: String(advertisedAdminPort) }
    const r = new Registrar(registration, log)
    registrar = r
    active = r
      .registerWithRetry(
        { instanceId: options.nodeId, ipv4, port: advertisePort, attributes: { ...registration.attributes, ...adminPortAttribute, status: 'ACTIVE' } },
        abort.signal,
      )
      .then(() => {
        if (state === 'STARTING') state = 'ACTIVE'
        log({ level: 'info', msg: 'media node active', nodeId: options.nodeId })
      })
    active.catch(() => {})
  }
  protection.start(hub.activeConnections)

  /** Cloud Map: status=DRAINING, then custom health UNHEALTHY (re-registering resets health). Never rejects. */
  let marking: Promise<void> | undefined
  const markDraining = async (): Promise<void> => {
    const r = registrar
    if (r === undefined) return
    try {
      await r.updateAttributes({ status: 'DRAINING' })
    } catch (err) {
      log({ level: 'warn', msg: 'could not mark instance DRAINING in Cloud Map', error: errorMessage(err) })
    }
    try {
      await r.setCustomHealth('UNHEALTHY')
    } catch (err) {
      log({ level: 'warn', msg: 'could not report UNHEALTHY to Cloud Map', error: errorMessage(err) })
    }
  }
  const enterDraining = (): void => {
    if (state !== 'DRAINING') log({ level: 'info', msg: 'media node DRAINING', nodeId: options.nodeId, activeConnections: hub.activeConnections })
    state = 'DRAINING'
    abort.abort(new Error('media node draining'))
  }

  let closing: Promise<void> | undefined
  let resolveClosed: () => void = () => {}
  let rejectClosed: (err: unknown) => void = () => {}
  const closed = new Promise<void>((resolve, reject) => {
    resolveClosed = resolve
    rejectClosed = reject
  })
  closed.catch(() => {})
  const close = async (): Promise<void> => {
    enterDraining()
    abort.abort(new Error('media node closed'))
    // A DRAINING re-registration still in flight would otherwise land after the deregistration.
    await marking
    await protection.release()
    let deregisterError: unknown
    try {
      await registrar?.deregister()
    } catch (err) {
      deregisterError = err
      log({ level: 'error', msg: 'deregistration failed', error: errorMessage(err) })
    }
    registrar?.destroy()
    hub.closeAll(1001, 'node shutting down')
    const deadline = Date.now() + settings.closeTimeoutMs + 1000
    while (hub.activeConnections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    hub.terminateAll()
    await stopListening()
    log({ level: 'info', msg: 'media node closed', nodeId: options.nodeId })
    if (deregisterError !== undefined) throw deregisterError
  }
  const closeOnce = (): Promise<void> => {
    if (closing === undefined) {
      closing = close()
      closing.then(resolveClosed, rejectClosed)
    }
    return closing
  }

  let draining: Promise<void> | undefined
  let resolveDraining: (report: DrainReport) => void = () => {}
  const drainStarted = new Promise<DrainReport>((resolve) => {
    resolveDraining = resolve
  })
  const drain = (timeoutMs: number = settings.drainTimeoutMs): Promise<void> => {
    if (draining !== undefined) return draining
    integer('timeoutMs', timeoutMs, 0, MAX_DRAIN_MS)
    enterDraining()
    // Nothing to wait for: skip the Cloud Map DRAINING step and deregister at once.
    if (hub.activeConnections > 0) marking ??= markDraining()
    const waited = drainer.run(timeoutMs)
    const report = drainer.report
    if (report !== undefined) resolveDraining(report)
    draining = waited.then(closeOnce)
    return draining
  }
  const forceClose = (): number => {
    if (draining === undefined) void drain().catch(() => {})
    return drainer.forceClose()
  }

  return {
    port,
    adminPort,
    nodeId: options.nodeId,
    status,
    closeAll: (code, reason) => hub.closeAll(code, reason),
    whenActive: () => active,
    startDraining: async () => {
      enterDraining()
      marking ??= markDraining()
      await marking
    },
    drain,
    forceClose,
    whenDraining: () => drainStarted,
    whenClosed: () => closed,
    close: closeOnce,
  }
}

function integer(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${value}`)
  }
  return value
}

