// Environment → typed configuration. Parsed once at start-up; a bad value
// fails start-up with a message naming the variable. `resolveIdentity` then
// combines the config with ECS task metadata and the hostname (pure).
//
// Variables (default — meaning):
//   NODE_ID                  (ECS task id, else hostname) — this node's id; a DNS label
//                            (a-z, 0-9, '-', 1-63, no '-' at either end); Cloud Map InstanceId.
//   HOST                     (0.0.0.0) — listen address.
//   PORT                     (8080) — listen port.
//   ADVERTISE_IPV4           (task IPv4 from ECS metadata on awsvpc; on bridge, HostPrivateIPv4Address from
//                            the ECS container metadata file) — AWS_INSTANCE_IPV4 to register. Required when
//                            registering without either (bridge without the metadata file, local).
//   ADVERTISE_PORT           (HostPort mapped to PORT in the ECS metadata file or task metadata, else PORT)
//                            — AWS_INSTANCE_PORT.
//   ADVERTISE_ADMIN_PORT     (ADMIN_PORT's bound port) — the `admin_port` attribute registered in Cloud Map:
//                            where routers call POST /admin/drain at ADVERTISE_IPV4 (set it when the
//                            admin port is mapped to another host port, e.g. bridge mode).
//   CLOUDMAP_REGISTER        (true) — register in Cloud Map at start, deregister on SIGTERM.
//   CLOUDMAP_NAMESPACE       (ecs.internal) — namespace name, for looking the service up.
//   CLOUDMAP_SERVICE         (media) — service name, for looking the service up.
//   CLOUDMAP_SERVICE_ID      (none) — service id (srv-...); skips the ListNamespaces/ListServices look-up.
//   CLOUDMAP_ENDPOINT        (none) — Cloud Map API endpoint override (local emulator). The SDK's own
//                            AWS_ENDPOINT_URL_SERVICEDISCOVERY / AWS_ENDPOINT_URL work as well. With an
//                            override and no AWS_ACCESS_KEY_ID/AWS_PROFILE, dummy credentials are used
//                            (an emulator does not check them) so the SDK never probes instance metadata.
//   CLOUDMAP_TIMEOUT_MS      (2000) — timeout of each Cloud Map API call until its response; a timed-out
//                            registration attempt is retried with backoff (REGISTER_RETRY_*).
//   CLOUDMAP_CONNECT_TIMEOUT_MS (1000) — TCP connect timeout of each Cloud Map API call.
//   AWS_REGION               (AWS_DEFAULT_REGION, else region of the task ARN, else us-east-1 with an
//                            endpoint override) — region of the Cloud Map client.
//   ECS_CONTAINER_METADATA_URI_V4 (set by ECS) — task metadata endpoint: task id, IPv4, host port.
//   ECS_CONTAINER_METADATA_FILE (set by the ECS agent with ECS_ENABLE_CONTAINER_METADATA=true) — container
//                            metadata file; read when ADVERTISE_IPV4 is unset and task metadata gave no
//                            routable address (bridge): HostPrivateIPv4Address and the HostPort of PORT.
//   ECS_METADATA_FILE_TIMEOUT_MS (10000) — how long start-up waits for that file's MetadataFileStatus READY.
//   MAX_PAYLOAD_BYTES        (1114112 = 1 MiB + 64 KiB) — largest message; bigger closes with 1009.
//   SEND_BUFFER_LIMIT_BYTES  (4194304) — per-connection send-buffer bound; past it the consumer is closed with 1013.
//   HEARTBEAT_INTERVAL_MS    (30000) — ping interval; a peer that missed one ping is dropped. 0 disables.
//   CLOSE_TIMEOUT_MS         (5000) — time a server-initiated close handshake may take before the socket is destroyed.
//   RETRY_AFTER_SECONDS      (5) — Retry-After sent with 503 while starting or draining.
//   REGISTER_RETRY_INITIAL_MS (500) — first delay between registration attempts (doubles, with jitter).
//   REGISTER_RETRY_MAX_MS    (30000) — cap of the registration retry delay.
//   ADMIN_PORT               (8081) — admin listener (GET /status, POST /admin/drain, POST /admin/force-close);
//                            must differ from PORT. 0 picks a free port.
//   ADMIN_HOST               (HOST) — admin listen address.
//   ADMIN_TOKEN              (none) — bearer token for /admin/*; without it /admin/* answers 401.
//   DRAIN_TIMEOUT_MS         (7200000 = 2 h) — how long a drain waits for clients to close their sockets;
//                            the rest then get 1001 "Going Away". At most 172800000 (48 h).
//   SIGTERM_DRAIN_TIMEOUT_MS (DRAIN_TIMEOUT_MS) — the same for a drain started by SIGTERM; set it below the
//                            container's stopTimeout so clients get 1001 before SIGKILL.
//   DRAIN_POLL_MS            (1000) — how often a drain looks at the connection count.
//   SHUTDOWN_TIMEOUT_MS      (30000) — margin after the drain timeout (or after force-close) for 1001 close
//                            handshakes, task-protection release and deregistration; past it the process
//                            closes everything with 1001 and exits 1.
//   ECS_AGENT_URI            (set by ECS) — container agent; enables task scale-in protection. Unset: skipped.
//   TASK_PROTECTION_MINUTES  (60) — ExpiresInMinutes of each protection request, 1-2880.
//   TASK_PROTECTION_RENEW_MS (half the period) — renew protection this often while sessions exist.
//   TASK_PROTECTION_RELEASE_DELAY_MS (30000) — release protection once connections stayed at 0 this long.
//   TASK_PROTECTION_RETRY_MS (5000) — first retry delay after a failed agent request (doubles, cap 60 s); at most 60000.
//   LOG_LEVEL                (info) — debug, info, warn or error.

import { isIPv4 } from 'node:net'
import { MAX_PROTECTION_MINUTES } from './ecs-agent.js'
import type { EcsTaskInfo } from './ecs-metadata.js'
import type { EcsMetadataFileInfo } from './ecs-metadata-file.js'
import { ConfigError } from './errors.js'
import { isLogLevel } from './log.js'
import type { LogLevel } from './log.js'
import { DNS_LABEL_RULE, isDnsLabel, nodeIdFromHostname } from './node-id.js'

export interface MediaNodeConfig {
  nodeId: string | undefined
  host: string
  port: number
  advertiseIpv4: string | undefined
  advertisePort: number | undefined
  advertiseAdminPort: number | undefined
  register: boolean
  namespaceName: string
  serviceName: string
  serviceId: string | undefined
  endpoint: string | undefined
  /** True when some endpoint override (ours or the SDK's variables) is set. */
  endpointOverridden: boolean
  /** True when AWS credentials are configured through the environment. */
  credentialsInEnv: boolean
  region: string | undefined
  ecsMetadataUri: string | undefined
  /** Path of the ECS container metadata file (`ECS_CONTAINER_METADATA_FILE`). */
  ecsMetadataFile: string | undefined
  ecsMetadataFileTimeoutMs: number
  maxPayloadBytes: number
  sendBufferLimitBytes: number
  heartbeatIntervalMs: number
  closeTimeoutMs: number
  retryAfterSeconds: number
  registerRetryInitialMs: number
  registerRetryMaxMs: number
  cloudmapTimeoutMs: number
  cloudmapConnectTimeoutMs: number
  shutdownTimeoutMs: number
  adminPort: number
  adminHost: string | undefined
  adminToken: string | undefined
  drainTimeoutMs: number
  sigtermDrainTimeoutMs: number
  drainPollMs: number
  ecsAgentUri: string | undefined
  taskProtectionMinutes: number
  taskProtectionRenewMs: number
  taskProtectionReleaseDelayMs: number
  taskProtectionRetryMs: number
  logLevel: LogLevel
}

type Env = Readonly<Record<string, string | undefined>>

/** Longest drain: 48 h, as long as ECS task protection can last. */
const MAX_DRAIN_MS = MAX_PROTECTION_MINUTES * 60_000
/** Longest delay a Node timer takes (2^31 - 1 ms); longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Parses the environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env): MediaNodeConfig {
  const nodeId = str(env, 'NODE_ID')
  if (nodeId !== undefined && !isDnsLabel(nodeId)) throw new ConfigError(`NODE_ID ${JSON.stringify(nodeId)} must be a DNS label: ${DNS_LABEL_RULE}`)
  const advertiseIpv4 = str(env, 'ADVERTISE_IPV4')
  if (advertiseIpv4 !== undefined && !isIPv4(advertiseIpv4)) throw new ConfigError(`ADVERTISE_IPV4 ${JSON.stringify(advertiseIpv4)} is not an IPv4 address`)
  const endpoint = str(env, 'CLOUDMAP_ENDPOINT')
  if (endpoint !== undefined && !isHttpUrl(endpoint)) throw new ConfigError(`CLOUDMAP_ENDPOINT ${JSON.stringify(endpoint)} is not an http(s) URL`)
  const serviceId = str(env, 'CLOUDMAP_SERVICE_ID')
  if (serviceId !== undefined && !/^srv-[a-z0-9]+$/i.test(serviceId)) throw new ConfigError(`CLOUDMAP_SERVICE_ID ${JSON.stringify(serviceId)} is not a Cloud Map service id (srv-...)`)
  const ecsMetadataUri = str(env, 'ECS_CONTAINER_METADATA_URI_V4')
  if (ecsMetadataUri !== undefined && !isHttpUrl(ecsMetadataUri)) throw new ConfigError(`ECS_CONTAINER_METADATA_URI_V4 ${JSON.stringify(ecsMetadataUri)} is not an http URL`)
  const logLevel = str(env, 'LOG_LEVEL') ?? 'info'
  if (!isLogLevel(logLevel)) throw new ConfigError(`LOG_LEVEL ${JSON.stringify(logLevel)} must be one of debug, info, warn, error`)
  const registerRetryInitialMs = int(env, 'REGISTER_RETRY_INITIAL_MS', 500, 1)
  const registerRetryMaxMs = int(env, 'REGISTER_RETRY_MAX_MS', 30_000, 1)
  if (registerRetryMaxMs < registerRetryInitialMs) throw new ConfigError('REGISTER_RETRY_MAX_MS must not be less than REGISTER_RETRY_INITIAL_MS')
  const port = int(env, 'PORT', 8080, 0, 65535)
  const adminPort = int(env, 'ADMIN_PORT', 8081, 0, 65535)
  if (adminPort !== 0 && adminPort === port) throw new ConfigError(`ADMIN_PORT must differ from PORT (${port})`)
  const ecsAgentUri = str(env, 'ECS_AGENT_URI')
  if (ecsAgentUri !== undefined && !isHttpUrl(ecsAgentUri)) throw new ConfigError(`ECS_AGENT_URI ${JSON.stringify(ecsAgentUri)} is not an http URL`)
  const drainTimeoutMs = int(env, 'DRAIN_TIMEOUT_MS', 2 * 60 * 60 * 1000, 0, MAX_DRAIN_MS)
  const taskProtectionMinutes = int(env, 'TASK_PROTECTION_MINUTES', 60, 1, MAX_PROTECTION_MINUTES)
  const periodMs = taskProtectionMinutes * 60_000
  const taskProtectionRenewMs = int(env, 'TASK_PROTECTION_RENEW_MS', periodMs / 2, 1)
  if (taskProtectionRenewMs >= periodMs) throw new ConfigError(`TASK_PROTECTION_RENEW_MS must be below TASK_PROTECTION_MINUTES (${periodMs} ms)`)
  return {
    nodeId,
    host: str(env, 'HOST') ?? '0.0.0.0',
    port,
    advertiseIpv4,
    advertisePort: optionalInt(env, 'ADVERTISE_PORT', 1, 65535),
    advertiseAdminPort: optionalInt(env, 'ADVERTISE_ADMIN_PORT', 1, 65535),
    register: bool(env, 'CLOUDMAP_REGISTER', true),
    namespaceName: str(env, 'CLOUDMAP_NAMESPACE') ?? 'ecs.internal',
    serviceName: str(env, 'CLOUDMAP_SERVICE') ?? 'media',
    serviceId,
    endpoint,
    endpointOverridden: endpoint !== undefined || str(env, 'AWS_ENDPOINT_URL_SERVICEDISCOVERY') !== undefined || str(env, 'AWS_ENDPOINT_URL') !== undefined,
    credentialsInEnv: str(env, 'AWS_ACCESS_KEY_ID') !== undefined || str(env, 'AWS_PROFILE') !== undefined,
    region: str(env, 'AWS_REGION') ?? str(env, 'AWS_DEFAULT_REGION'),
    ecsMetadataUri,
    ecsMetadataFile: str(env, 'ECS_CONTAINER_METADATA_FILE'),
    ecsMetadataFileTimeoutMs: int(env, 'ECS_METADATA_FILE_TIMEOUT_MS', 10_000, 0, 120_000),
    maxPayloadBytes: int(env, 'MAX_PAYLOAD_BYTES', 1024 * 1024 + 64 * 1024, 1),
    sendBufferLimitBytes: int(env, 'SEND_BUFFER_LIMIT_BYTES', 4 * 1024 * 1024, 1),
    heartbeatIntervalMs: int(env, 'HEARTBEAT_INTERVAL_MS', 30_000, 0),
    closeTimeoutMs: int(env, 'CLOSE_TIMEOUT_MS', 5_000, 0),
    retryAfterSeconds: int(env, 'RETRY_AFTER_SECONDS', 5, 0),
    registerRetryInitialMs,
    registerRetryMaxMs,
    cloudmapTimeoutMs: int(env, 'CLOUDMAP_TIMEOUT_MS', 2000, 1, 60_000),
    cloudmapConnectTimeoutMs: int(env, 'CLOUDMAP_CONNECT_TIMEOUT_MS', 1000, 1, 60_000),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 30_000, 1, MAX_TIMER_MS - MAX_DRAIN_MS),
    adminPort,
    adminHost: str(env, 'ADMIN_HOST'),
    adminToken: str(env, 'ADMIN_TOKEN'),
    drainTimeoutMs,
    sigtermDrainTimeoutMs: int(env, 'SIGTERM_DRAIN_TIMEOUT_MS', drainTimeoutMs, 0, MAX_DRAIN_MS),
    drainPollMs: int(env, 'DRAIN_POLL_MS', 1000, 1),
    ecsAgentUri,
    taskProtectionMinutes,
    taskProtectionRenewMs,
    taskProtectionReleaseDelayMs: int(env, 'TASK_PROTECTION_RELEASE_DELAY_MS', 30_000, 0, MAX_TIMER_MS),
    taskProtectionRetryMs: int(env, 'TASK_PROTECTION_RETRY_MS', 5_000, 1, 60_000),
    logLevel,
  }
}

/** Who this node is and how others reach it. */
export interface NodeIdentity {
  nodeId: string
  /** Undefined when neither config nor metadata gives a routable address. */
  advertiseIpv4: string | undefined
  /** Undefined means "the port the node listens on". */
  advertisePort: number | undefined
  region: string | undefined
  /** Where the node id came from, for the start-up log. */
  nodeIdSource: 'NODE_ID' | 'ecs-task' | 'hostname'
  /** Where the advertised address came from, for the start-up log. */
  addressSource: 'ADVERTISE_IPV4' | 'ecs-task' | 'ecs-metadata-file' | 'none'
}

/**
 * True when start-up should read the ECS container metadata file: the file is
 * there, ADVERTISE_IPV4 is not set and task metadata gave no routable address
 * (bridge networking). On awsvpc the task address is used as before.
 */
export function needsMetadataFile(config: MediaNodeConfig, meta: EcsTaskInfo | undefined): boolean {
  return config.register && config.ecsMetadataFile !== undefined && config.advertiseIpv4 === undefined && meta?.ipv4 === undefined
}

/**
 * Combines config, ECS task metadata (when running on ECS), the ECS container
 * metadata file (bridge networking) and the hostname. Config wins; then task
 * metadata; then the metadata file; the node id falls back to the hostname,
 * sanitized to a DNS label. An address taken from the metadata file needs a
 * port too: without ADVERTISE_PORT and a HostPort for PORT this throws.
 */
export function resolveIdentity(config: MediaNodeConfig, meta: EcsTaskInfo | undefined, hostname: string, file?: EcsMetadataFileInfo): NodeIdentity {
  let nodeId = config.nodeId
  let nodeIdSource: NodeIdentity['nodeIdSource'] = 'NODE_ID'
  if (nodeId === undefined && meta !== undefined) {
    nodeId = meta.taskId
    nodeIdSource = 'ecs-task'
  }
  if (nodeId === undefined) {
    nodeId = nodeIdFromHostname(hostname)
    nodeIdSource = 'hostname'
  }
  if (nodeId === undefined) throw new ConfigError(`NODE_ID is not set and hostname ${JSON.stringify(hostname)} gives no DNS label`)
  let advertiseIpv4 = config.advertiseIpv4
  let addressSource: NodeIdentity['addressSource'] = 'ADVERTISE_IPV4'
  let advertisePort = config.advertisePort ?? meta?.hostPort
  if (advertiseIpv4 === undefined && meta?.ipv4 !== undefined) {
    advertiseIpv4 = meta.ipv4
    addressSource = 'ecs-task'
  } else if (advertiseIpv4 === undefined && file !== undefined) {
    advertiseIpv4 = file.hostIpv4
    addressSource = 'ecs-metadata-file'
    // The host address only helps with the host port mapped to PORT.
    advertisePort = config.advertisePort ?? file.hostPort ?? meta?.hostPort
    if (advertisePort === undefined) {
      throw new ConfigError(
        `ECS container metadata file has no tcp PortMappings entry for PORT ${config.port}, so the host port to register is unknown (map PORT in the task definition, or set ADVERTISE_PORT)`,
      )
    }
  } else if (advertiseIpv4 === undefined) {
    addressSource = 'none'
  }
  return {
    nodeId,
    nodeIdSource,
    advertiseIpv4,
    advertisePort,
    region: config.region ?? meta?.region,
    addressSource,
  }
}

function str(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return optionalInt(env, name, min, max) ?? fallback
}

function optionalInt(env: Env, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = str(env, name)
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} ${JSON.stringify(raw)} is not a whole number`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(`${name} must be from ${min} to ${max}, got ${value}`)
  return value
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name)?.toLowerCase()
  if (raw === undefined) return fallback
  if (raw === 'true' || raw === '1' || raw === 'yes') return true
  if (raw === 'false' || raw === '0' || raw === 'no') return false
  throw new ConfigError(`${name} ${JSON.stringify(raw)} must be true or false`)
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}
