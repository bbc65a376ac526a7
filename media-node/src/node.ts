// The media node's life cycle: listen, register in Cloud Map (STARTING →
// ACTIVE), serve, and on close deregister, close every socket with 1001 and
// stop. DRAINING (refuse new upgrades with 503 + Retry-After, keep the
// existing ones) is a state the later drain work builds on.

import { once } from 'node:events'
import { isIPv4 } from 'node:net'
import { ConfigError } from './errors.js'
import { silentLogger } from './log.js'
import type { Logger } from './log.js'
import { DNS_LABEL_RULE, isDnsLabel } from './node-id.js'
import { Registrar, checkAdvertise, checkAttributes } from './registration.js'
import type { RegistrationOptions } from './registration.js'
import { createMediaServer } from './server.js'
import type { NodeStatus, StatusBody } from './server.js'
import { SessionHub } from './sessions.js'

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
  /** How long a server-initiated close handshake may take before the socket is destroyed. Default 5 s. */
  closeTimeoutMs?: number
  /** Retry-After (seconds) sent with 503 while STARTING or DRAINING. Default 5. */
  retryAfterSeconds?: number
  /** Cloud Map registration. Absent or false: no registration, the node is ACTIVE once listening. */
  registration?: RegistrationOptions | false
  /** Structured log sink. Default: discard. */
  log?: (e: Record<string, unknown>) => void
}

export interface MediaNode {
  /** The port the node listens on. */
  readonly port: number
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
  /** Deregisters if registered, closes every connection with 1001 and stops listening. Idempotent. */
  close(): Promise<void>
}

const DEFAULTS = {
  host: '0.0.0.0',
  port: 8080,
  maxPayloadBytes: 1024 * 1024 + 64 * 1024,
  sendBufferLimitBytes: 4 * 1024 * 1024,
  heartbeatIntervalMs: 30_000,
  closeTimeoutMs: 5_000,
  retryAfterSeconds: 5,
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
  const hub = new SessionHub({
    sendBufferLimitBytes: settings.sendBufferLimitBytes,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    closeTimeoutMs: settings.closeTimeoutMs,
    log,
  })
  let registrar: Registrar | undefined
  const status = (): StatusBody => ({
    nodeId: options.nodeId,
    status: state,
    activeConnections: hub.activeConnections,
    sessions: hub.sessions,
    startedAt,
    ...(registrar !== undefined ? { registration: registrar.report() } : {}),
  })
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

  const abort = new AbortController()
  let active: Promise<void>
  if (registration === undefined) {
    active = Promise.resolve()
  } else {
    const ipv4 = registration.advertiseIpv4 ?? host
    const advertisePort = registration.advertisePort ?? port
    const problem = checkAdvertise(ipv4, advertisePort)
    if (problem !== undefined) {
      server.close()
      hub.stop()
      throw new ConfigError(`registration: ${problem}`)
    }
    const r = new Registrar(registration, log)
    registrar = r
    active = r
      .registerWithRetry(
        { instanceId: options.nodeId, ipv4, port: advertisePort, attributes: { ...registration.attributes, status: 'ACTIVE' } },
        abort.signal,
      )
      .then(() => {
        if (state === 'STARTING') state = 'ACTIVE'
        log({ level: 'info', msg: 'media node active', nodeId: options.nodeId })
      })
    active.catch(() => {})
  }

  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    abort.abort(new Error('media node closed'))
    state = 'DRAINING'
    let deregisterError: unknown
    try {
      await registrar?.deregister()
    } catch (err) {
      deregisterError = err
      log({ level: 'error', msg: 'deregistration failed', error: err instanceof Error ? err.message : String(err) })
    }
    registrar?.destroy()
    hub.closeAll(1001, 'node shutting down')
    const deadline = Date.now() + settings.closeTimeoutMs + 1000
    while (hub.activeConnections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    hub.terminateAll()
    const closed = once(server, 'close')
    server.close()
    server.closeAllConnections()
    await closed
    log({ level: 'info', msg: 'media node closed', nodeId: options.nodeId })
    if (deregisterError !== undefined) throw deregisterError
  }

  return {
    port,
    nodeId: options.nodeId,
    status,
    closeAll: (code, reason) => hub.closeAll(code, reason),
    whenActive: () => active,
    startDraining: async () => {
      if (state === 'DRAINING') return
      state = 'DRAINING'
      abort.abort(new Error('media node draining'))
      try {
        await registrar?.updateAttributes({ status: 'DRAINING' })
      } catch (err) {
        log({ level: 'warn', msg: 'could not mark instance DRAINING in Cloud Map', error: err instanceof Error ? err.message : String(err) })
      }
    },
    close: () => (closing ??= close()),
  }
}

function integer(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${value}`)
  }
  return value
}
