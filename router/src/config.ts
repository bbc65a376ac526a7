// Environment → typed RouterConfig, parsed once at start-up. A bad value throws
// ConfigError naming the variable; nothing else in the router reads process.env.

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`)
    this.name = 'ConfigError'
  }
}

export type DiscoveryMode = 'dns' | 'cloudmap' | 'static'
export type RecordType = 'A' | 'SRV'

/** How one route template reaches Cloud Map. */
export interface RouteDiscoveryConfig {
  /** SRV gives per-instance ports; A needs `defaultPort`. */
  readonly recordType: RecordType
  /** Port used with A records, or when an SRV answer lacks the instance. */
  readonly defaultPort: number | undefined
}

export interface RouterConfig {
  readonly host: string
  readonly port: number
  readonly adminHost: string
  readonly adminPort: number
  /** Bearer token for /admin/*; undefined disables those endpoints (401). */
  readonly adminToken: string | undefined
  /** Bearer token the admin dashboard sends to media nodes' POST /admin/drain; undefined disables the drain action. */
  readonly mediaAdminToken: string | undefined
  /** The admin dashboard may switch and drain deployments of affinity apps (writes their Cloud Map registries). */
  readonly deploymentControl: boolean
  readonly namespace: string
  readonly discoveryMode: DiscoveryMode
  readonly dns: {
    /** `host` or `host:port` entries; empty = the system resolver's servers. */
    readonly servers: readonly string[]
    readonly timeoutMs: number
    readonly tries: number
  }
  readonly staticFile: string | undefined
  readonly cloudmap: {
    readonly region: string | undefined
    readonly endpoint: string | undefined
    readonly healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'ALL' | 'HEALTHY_OR_ELSE_ALL'
    readonly revisionPollMs: number
    readonly fullRefreshMs: number
    /** TCP connect timeout of one API call. */
    readonly connectTimeoutMs: number
    /** One API call until the response head (and the longest silence in its body). */
    readonly timeoutMs: number
    readonly backoffBaseMs: number
    readonly backoffMaxMs: number
  }
  readonly balancing: {
    /** Strategy for /services (media routes reach one instance). */
    readonly services: 'p2c' | 'round-robin' | 'weighted'
    /** Consecutive connect failures that eject an endpoint; 0 disables ejection. */
    readonly ejectAfterFailures: number
    readonly ejectBaseMs: number
    readonly ejectMaxMs: number
  }
  readonly routes: {
    readonly mediaService: string
    readonly media: RouteDiscoveryConfig
    readonly services: RouteDiscoveryConfig
    readonly stripPrefix: boolean
    /** ROUTES_FILE: more routes (JSON), hot-reloaded; undefined = the built-ins only. */
    readonly file: string | undefined
    /** How often ROUTES_FILE is checked besides fs.watch; 0 = never. */
    readonly pollMs: number
  }
  readonly cache: {
    readonly minTtlMs: number
    readonly maxTtlMs: number
    readonly negativeTtlMs: number
    readonly maxStaleMs: number
    readonly staleRetryMs: number
    readonly maxEntries: number
  }
  readonly upstream: {
    readonly connectTimeoutMs: number
    /** Time for the response head after the request was sent. */
    readonly headersTimeoutMs: number
    /** Max gap between response body chunks; 0 = none (not counted while the client is the slow side). */
    readonly bodyTimeoutMs: number
    /** Idle time of a kept-alive connection; also caps an upstream's Keep-Alive: timeout hint. */
    readonly keepAliveTimeoutMs: number
    /** Connections per origin, and requests in flight to it. */
    readonly connectionsPerOrigin: number
    /** Requests that may wait for a connection per origin (beyond: 503 UPSTREAM_BUSY). */
    readonly queueMax: number
    /** Longest wait for a connection (then 503 UPSTREAM_BUSY). */
    readonly queueTimeoutMs: number
  }
  readonly client: {
    readonly maxHeaderBytes: number
    /** 0 = unlimited. */
    readonly maxBodyBytes: number
    readonly headersTimeoutMs: number
    /** Whole request (headers + body) must arrive within this; 408 otherwise. */
    readonly requestTimeoutMs: number
    /** Longest pause between request body chunks (→ 408); 0 = none. */
    readonly bodyGapTimeoutMs: number
    /** Minimum average request body rate in bytes/s after the first gap's worth of time (→ 408); 0 = none. */
    readonly bodyMinRate: number
    /** Request body bytes read before an upstream connection is taken (whole bodies up to this size). */
    readonly requestBufferBytes: number
    readonly keepAliveTimeoutMs: number
  }
  readonly websocket: {
    readonly handshakeTimeoutMs: number
    /** 0 = established WebSockets never time out for idleness. */
    readonly idleTimeoutMs: number
  }
  /** Worker processes sharing the listener (node:cluster); 1 = single process. */
  readonly workers: number
  readonly retryAfterSeconds: number
  readonly accessLog: boolean
  readonly drain: {
    /** After SIGTERM, keep serving (with /health 503) this long before closing listeners. */
    readonly delayMs: number
    /** Max time to wait for in-flight HTTP requests after listeners close. */
    readonly httpTimeoutMs: number
    /** Max time to keep WebSockets open after listeners close; then close 1001. */
    readonly timeoutMs: number
  }
}

type Env = Readonly<Record<string, string | undefined>>

/** Every variable the router reads, with its default and meaning (README table is generated from the same words). */
export const ENV_DOC: ReadonlyArray<readonly [name: string, def: string, meaning: string]> = [
  ['HOST', '0.0.0.0', 'Address of the main listener.'],
  ['PORT', '8080', 'Port of the main listener (proxy traffic and GET /health).'],
  ['ADMIN_HOST', '0.0.0.0', 'Address of the admin listener.'],
  ['ADMIN_PORT', '9090', 'Port of the admin listener (GET /metrics, /admin/*). Must differ from PORT.'],
  ['ADMIN_TOKEN', '(unset)', 'Bearer token for /admin/*; when unset every /admin/* request gets 401. At least 16 characters.'],
  ['MEDIA_ADMIN_TOKEN', '(unset)', "The media nodes' ADMIN_TOKEN: the admin dashboard's drain action calls a node's POST /admin/drain with it, at the node's address and its `admin_port` attribute; when unset the action answers 503."],
  ['DEPLOYMENT_CONTROL', 'false', "`true`: the admin dashboard's **Make current** and **Drain** buttons of blue/green apps work: the router writes the app's registry in Cloud Map through the API (`CLOUDMAP_REGION`, `CLOUDMAP_ENDPOINT`, `CLOUDMAP_TIMEOUT_MS`; the task role needs the rights `infra/aws` grants with `routerDeploymentControl`), in any `DISCOVERY_MODE` but `static`. Otherwise those actions answer 409 `ACTION_DISABLED`."],
  ['CLOUDMAP_NAMESPACE', 'ecs.internal', 'Cloud Map namespace (DNS name) the targets live in.'],
  ['DISCOVERY_MODE', 'dns', '`dns` (Cloud Map private DNS), `cloudmap` (DiscoverInstances API) or `static` (JSON file).'],
  ['DNS_SERVERS', '(system)', 'Comma-separated `ip` or `ip:port` DNS servers; empty uses the system resolver (the VPC resolver on ECS).'],
  ['DNS_TIMEOUT_MS', '1000', 'Timeout of one DNS try.'],
  ['DNS_TRIES', '2', 'DNS tries per server before failing.'],
  ['STATIC_DISCOVERY_FILE', '(unset)', 'JSON file for DISCOVERY_MODE=static: {"services": {"<name>": [{"id","host","port","attributes"}]}}.'],
  ['CLOUDMAP_REGION', '(SDK default)', 'Region for DISCOVERY_MODE=cloudmap.'],
  ['CLOUDMAP_ENDPOINT', '(SDK default)', 'Endpoint override for the Cloud Map API (the local emulator).'],
  ['CLOUDMAP_HEALTH_STATUS', 'HEALTHY_OR_ELSE_ALL', 'HealthStatus filter for DiscoverInstances (applied to the list fetched with ALL, so an unhealthy node is 503, not 404).'],
  ['CLOUDMAP_REVISION_POLL_MS', '5000', 'DISCOVERY_MODE=cloudmap: how often DiscoverInstancesRevision is checked per service in use; instances are refetched only when it changes.'],
  ['CLOUDMAP_FULL_REFRESH_MS', '30000', 'DISCOVERY_MODE=cloudmap: instances refetched at least this often (health changes do not change the revision).'],
  ['CLOUDMAP_TIMEOUT_MS', '2000', 'Cloud Map API request timeout: a call without a response by then fails (outcome="timeout"), backs off, and the last good list keeps being served.'],
  ['CLOUDMAP_CONNECT_TIMEOUT_MS', '1000', 'Cloud Map API TCP connect timeout.'],
  ['CLOUDMAP_BACKOFF_BASE_MS', '1000', 'First backoff after a throttled/failed Cloud Map call (full jitter, doubling); the last good answer keeps being served.'],
  ['CLOUDMAP_BACKOFF_MAX_MS', '30000', 'Backoff cap.'],
  ['SERVICES_BALANCER', 'p2c', '/services balancing: `p2c` (least outstanding requests, power of two choices, weight-aware), `weighted` (smooth weighted round-robin on the `weight` attribute) or `round-robin`.'],
  ['EJECT_AFTER_FAILURES', '3', 'Connect failures in a row that eject an instance from balancing; 0 disables. The last instance is never ejected.'],
  ['EJECT_BASE_MS', '5000', 'First ejection time; doubles on each repeat ejection.'],
  ['EJECT_MAX_MS', '300000', 'Ejection time cap.'],
  ['MEDIA_SERVICE', 'media', 'Cloud Map service holding the media nodes (/media/<nodeId> is its instance <nodeId>).'],
  ['MEDIA_RECORD_TYPE', 'SRV', 'How a media node\'s port is found: SRV (port from the service SRV answer) or A (MEDIA_DEFAULT_PORT).'],
  ['MEDIA_DEFAULT_PORT', '(unset)', 'Port for media nodes with A records, or when a node is missing from the SRV answer (Cloud Map returns at most 8).'],
  ['SERVICES_RECORD_TYPE', 'SRV', 'How /services/<deploymentId> resolves: SRV (host+port per instance) or A (SERVICES_DEFAULT_PORT).'],
  ['SERVICES_DEFAULT_PORT', '80', 'Port for deployments resolved with A records.'],
  ['STRIP_PREFIX', 'true', 'Strip /media/<id> and /services/<id> before forwarding (sent as X-Forwarded-Prefix); also the default of `stripPrefix` in ROUTES_FILE.'],
  ['ROUTES_FILE', '(unset)', 'JSON route table: fixed prefixes (and hosts) → Cloud Map services, with per-route options; extends the built-in /media and /services routes (see "Route table"). Re-read when it changes; a bad file keeps the last good table.'],
  ['ROUTES_POLL_MS', '2000', 'How often ROUTES_FILE is checked for changes besides fs.watch (which misses symlink swaps and network file systems); 0 = watch only.'],
  ['CACHE_MIN_TTL_MS', '1000', 'Lower clamp of a discovery answer\'s TTL.'],
  ['CACHE_MAX_TTL_MS', '30000', 'Upper clamp of a discovery answer\'s TTL.'],
  ['CACHE_NEGATIVE_TTL_MS', '2000', 'How long "not found" answers are cached.'],
  ['CACHE_MAX_STALE_MS', '300000', 'How long an expired answer may still be served while discovery fails.'],
  ['CACHE_STALE_RETRY_MS', '1000', 'While serving stale, how often discovery is retried.'],
  ['CACHE_MAX_ENTRIES', '10000', 'Max targets cached (LRU).'],
  ['UPSTREAM_CONNECT_TIMEOUT_MS', '2000', 'Upstream TCP connect timeout (→ retry on another instance, else 504).'],
  ['UPSTREAM_HEADERS_TIMEOUT_MS', '30000', 'Time for the upstream to send response headers (→ 504).'],
  ['UPSTREAM_BODY_TIMEOUT_MS', '60000', 'Max gap between upstream body chunks.'],
  ['UPSTREAM_KEEPALIVE_TIMEOUT_MS', '4000', 'How long an idle upstream connection is kept for reuse.'],
  ['UPSTREAM_CONNECTIONS', '256', 'Max connections per upstream origin (and requests in flight to it).'],
  ['UPSTREAM_QUEUE_MAX', '1024', 'Requests that may wait for a free connection per upstream origin; more → 503 UPSTREAM_BUSY at once.'],
  ['UPSTREAM_QUEUE_TIMEOUT_MS', '10000', 'Longest wait for a free upstream connection (→ 503 UPSTREAM_BUSY with Retry-After: 1). Never counts toward outlier ejection.'],
  ['MAX_HEADER_BYTES', '16384', 'Max request header size (→ 431).'],
  ['MAX_BODY_BYTES', '104857600', 'Max request body size (→ 413); 0 = unlimited.'],
  ['CLIENT_HEADERS_TIMEOUT_MS', '10000', 'Time for a client to send request headers (→ 408).'],
  ['CLIENT_REQUEST_TIMEOUT_MS', '300000', 'Time for a client to send the whole request, body included (→ 408).'],
  ['CLIENT_BODY_GAP_TIMEOUT_MS', '10000', 'Longest pause between request body chunks (→ 408 REQUEST_TIMEOUT); 0 = none. Time the router itself holds the client back (backpressure) does not count.'],
  ['CLIENT_BODY_MIN_RATE', '500', 'Minimum average request body rate in bytes/s, after a first CLIENT_BODY_GAP_TIMEOUT_MS of grace (→ 408 REQUEST_TIMEOUT; Apache mod_reqtimeout\'s MinRate); 0 = none.'],
  ['REQUEST_BUFFER_BYTES', '65536', 'Request body bytes read before an upstream connection is taken: bodies up to this size are read whole first (as nginx\'s request buffering), longer ones start streaming after it; 0 = stream from the first byte.'],
  ['CLIENT_KEEPALIVE_TIMEOUT_MS', '65000', 'Idle keep-alive time of client connections; keep it above the ALB idle timeout.'],
  ['WS_HANDSHAKE_TIMEOUT_MS', '10000', 'Time for the upstream to answer a WebSocket upgrade (→ 504).'],
  ['WS_IDLE_TIMEOUT_MS', '0', 'Close established WebSockets idle this long; 0 = never.'],
  ['ROUTER_WORKERS', '1', 'Worker processes sharing the main port (node:cluster; the primary serves the admin port and aggregates metrics). Each process may hold ~20,000 fds, i.e. ~9,990 proxied WebSockets.'],
  ['RETRY_AFTER_SECONDS', '5', 'Retry-After sent with 503 when a target has no healthy instance.'],
  ['ACCESS_LOG', 'true', 'One JSON line per request/connection end on stdout.'],
  ['DRAIN_DELAY_MS', '25000', 'After SIGTERM: keep serving with /health 503 this long, then stop accepting. Cover the ALB health check: interval × unhealthy threshold + timeout (10 s × 2 + 5 s in infra/aws).'],
  ['DRAIN_HTTP_TIMEOUT_MS', '30000', 'After stopping accepting: max wait for in-flight HTTP.'],
  ['DRAIN_TIMEOUT_MS', '55000', 'After in-flight HTTP: max time WebSockets stay up before close 1001. The three drain defaults + 10 s = 120 s, the stop timeout to give the container (ECS stopTimeout, docker run --stop-timeout).'],
]

class Reader {
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name]
    return v === undefined || v.trim() === '' ? undefined : v.trim()
  }

  string(name: string, def: string): string {
    return this.raw(name) ?? def
  }

  int(name: string, def: number, min: number, max: number): number {
    const v = this.raw(name)
    if (v === undefined) return def
    if (!/^\d+$/.test(v)) throw new ConfigError(name, `expected a whole number, got "${v}"`)
    const n = Number(v)
    if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`)
    return n
  }

  optionalInt(name: string, min: number, max: number): number | undefined {
    return this.raw(name) === undefined ? undefined : this.int(name, 0, min, max)
  }

  bool(name: string, def: boolean): boolean {
    const v = this.raw(name)
    if (v === undefined) return def
    if (/^(1|true|yes|on)$/i.test(v)) return true
    if (/^(0|false|no|off)$/i.test(v)) return false
    throw new ConfigError(name, `expected true or false, got "${v}"`)
  }

  oneOf<T extends string>(name: string, def: T, allowed: readonly T[]): T {
    const v = this.raw(name)
    if (v === undefined) return def
    const found = allowed.find((a) => a === v)
    if (found === undefined) throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${v}"`)
    return found
  }
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
const DNS_SERVER = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\])(:\d{1,5})?$/i

/** Parse the environment into a RouterConfig, or throw ConfigError naming the bad variable. */
export function loadConfig(env: Env = process.env): RouterConfig {
  const r = new Reader(env)
  const port = r.int('PORT', 8080, 0, 65535)
  const adminPort = r.int('ADMIN_PORT', 9090, 0, 65535)
  if (port !== 0 && port === adminPort) throw new ConfigError('ADMIN_PORT', 'must differ from PORT')

  const adminToken = r.raw('ADMIN_TOKEN')
  if (adminToken !== undefined && adminToken.length < 16) throw new ConfigError('ADMIN_TOKEN', 'must be at least 16 characters')
  const mediaAdminToken = r.raw('MEDIA_ADMIN_TOKEN')
  if (mediaAdminToken !== undefined && !/^[\x21-\x7e]+$/.test(mediaAdminToken)) throw new ConfigError('MEDIA_ADMIN_TOKEN', 'must be printable ASCII without spaces (it is sent as a bearer token)')

  const namespace = r.string('CLOUDMAP_NAMESPACE', 'ecs.internal').toLowerCase().replace(/\.$/, '')
  if (!DNS_NAME.test(namespace)) throw new ConfigError('CLOUDMAP_NAMESPACE', `not a valid DNS name: "${namespace}"`)

  const servers = (r.raw('DNS_SERVERS') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  for (const s of servers) {
    if (!DNS_SERVER.test(s)) throw new ConfigError('DNS_SERVERS', `"${s}" is not an IP address or ip:port`)
  }

  const discoveryMode = r.oneOf<DiscoveryMode>('DISCOVERY_MODE', 'dns', ['dns', 'cloudmap', 'static'])
  const staticFile = r.raw('STATIC_DISCOVERY_FILE')
  if (discoveryMode === 'static' && staticFile === undefined) throw new ConfigError('STATIC_DISCOVERY_FILE', 'required when DISCOVERY_MODE=static')
  const deploymentControl = r.bool('DEPLOYMENT_CONTROL', false)
  if (deploymentControl && discoveryMode === 'static') throw new ConfigError('DEPLOYMENT_CONTROL', 'needs Cloud Map: with DISCOVERY_MODE=static the router reads no registry it could write')

  const mediaService = r.string('MEDIA_SERVICE', 'media')
  if (!LABEL.test(mediaService)) throw new ConfigError('MEDIA_SERVICE', `not a DNS label: "${mediaService}"`)

  const media: RouteDiscoveryConfig = {
    recordType: r.oneOf<RecordType>('MEDIA_RECORD_TYPE', 'SRV', ['A', 'SRV']),
    defaultPort: r.optionalInt('MEDIA_DEFAULT_PORT', 1, 65535),
  }
  if (media.recordType === 'A' && media.defaultPort === undefined) throw new ConfigError('MEDIA_DEFAULT_PORT', 'required when MEDIA_RECORD_TYPE=A')
  const services: RouteDiscoveryConfig = {
    recordType: r.oneOf<RecordType>('SERVICES_RECORD_TYPE', 'SRV', ['A', 'SRV']),
    defaultPort: r.int('SERVICES_DEFAULT_PORT', 80, 1, 65535),
  }

  const minTtlMs = r.int('CACHE_MIN_TTL_MS', 1000, 0, 86_400_000)
  const maxTtlMs = r.int('CACHE_MAX_TTL_MS', 30_000, 0, 86_400_000)
  if (maxTtlMs < minTtlMs) throw new ConfigError('CACHE_MAX_TTL_MS', `must be >= CACHE_MIN_TTL_MS (${minTtlMs})`)

  return {
    host: r.string('HOST', '0.0.0.0'),
    port,
    adminHost: r.string('ADMIN_HOST', '0.0.0.0'),
    adminPort,
    adminToken,
    mediaAdminToken,
    deploymentControl,
    namespace,
    discoveryMode,
    dns: {
      servers,
      timeoutMs: r.int('DNS_TIMEOUT_MS', 1000, 1, 60_000),
      tries: r.int('DNS_TRIES', 2, 1, 10),
    },
    staticFile,
    cloudmap: {
      region: r.raw('CLOUDMAP_REGION'),
      endpoint: r.raw('CLOUDMAP_ENDPOINT'),
      healthStatus: r.oneOf('CLOUDMAP_HEALTH_STATUS', 'HEALTHY_OR_ELSE_ALL', ['HEALTHY', 'UNHEALTHY', 'ALL', 'HEALTHY_OR_ELSE_ALL'] as const),
      revisionPollMs: r.int('CLOUDMAP_REVISION_POLL_MS', 5000, 1, 3_600_000),
      fullRefreshMs: r.int('CLOUDMAP_FULL_REFRESH_MS', 30_000, 1, 86_400_000),
      connectTimeoutMs: r.int('CLOUDMAP_CONNECT_TIMEOUT_MS', 1000, 1, 60_000),
      timeoutMs: r.int('CLOUDMAP_TIMEOUT_MS', 2000, 1, 60_000),
      backoffBaseMs: r.int('CLOUDMAP_BACKOFF_BASE_MS', 1000, 1, 3_600_000),
      backoffMaxMs: r.int('CLOUDMAP_BACKOFF_MAX_MS', 30_000, 1, 3_600_000),
    },
    balancing: {
      services: r.oneOf('SERVICES_BALANCER', 'p2c', ['p2c', 'round-robin', 'weighted'] as const),
      ejectAfterFailures: r.int('EJECT_AFTER_FAILURES', 3, 0, 1000),
      ejectBaseMs: r.int('EJECT_BASE_MS', 5000, 1, 86_400_000),
      ejectMaxMs: r.int('EJECT_MAX_MS', 300_000, 1, 86_400_000),
    },
    routes: {
      mediaService,
      media,
      services,
      stripPrefix: r.bool('STRIP_PREFIX', true),
      file: r.raw('ROUTES_FILE'),
      pollMs: r.int('ROUTES_POLL_MS', 2000, 0, 3_600_000),
    },
    cache: {
      minTtlMs,
      maxTtlMs,
      negativeTtlMs: r.int('CACHE_NEGATIVE_TTL_MS', 2000, 0, 3_600_000),
      maxStaleMs: r.int('CACHE_MAX_STALE_MS', 300_000, 0, 86_400_000),
      staleRetryMs: r.int('CACHE_STALE_RETRY_MS', 1000, 1, 3_600_000),
      maxEntries: r.int('CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    },
    upstream: {
      connectTimeoutMs: r.int('UPSTREAM_CONNECT_TIMEOUT_MS', 2000, 1, 600_000),
      headersTimeoutMs: r.int('UPSTREAM_HEADERS_TIMEOUT_MS', 30_000, 1, 3_600_000),
      bodyTimeoutMs: r.int('UPSTREAM_BODY_TIMEOUT_MS', 60_000, 0, 3_600_000),
      keepAliveTimeoutMs: r.int('UPSTREAM_KEEPALIVE_TIMEOUT_MS', 4000, 1, 3_600_000),
      connectionsPerOrigin: r.int('UPSTREAM_CONNECTIONS', 256, 1, 100_000),
      queueMax: r.int('UPSTREAM_QUEUE_MAX', 1024, 0, 1_000_000),
      queueTimeoutMs: r.int('UPSTREAM_QUEUE_TIMEOUT_MS', 10_000, 1, 3_600_000),
    },
    client: {
      maxHeaderBytes: r.int('MAX_HEADER_BYTES', 16_384, 1024, 1_048_576),
      maxBodyBytes: r.int('MAX_BODY_BYTES', 104_857_600, 0, Number.MAX_SAFE_INTEGER),
      headersTimeoutMs: r.int('CLIENT_HEADERS_TIMEOUT_MS', 10_000, 1, 3_600_000),
      requestTimeoutMs: r.int('CLIENT_REQUEST_TIMEOUT_MS', 300_000, 0, 86_400_000),
      bodyGapTimeoutMs: r.int('CLIENT_BODY_GAP_TIMEOUT_MS', 10_000, 0, 3_600_000),
      bodyMinRate: r.int('CLIENT_BODY_MIN_RATE', 500, 0, 1_000_000_000),
      requestBufferBytes: r.int('REQUEST_BUFFER_BYTES', 65_536, 0, 64 * 1024 * 1024),
      keepAliveTimeoutMs: r.int('CLIENT_KEEPALIVE_TIMEOUT_MS', 65_000, 1, 86_400_000),
    },
    websocket: {
      handshakeTimeoutMs: r.int('WS_HANDSHAKE_TIMEOUT_MS', 10_000, 1, 600_000),
      idleTimeoutMs: r.int('WS_IDLE_TIMEOUT_MS', 0, 0, 86_400_000),
    },
    workers: r.int('ROUTER_WORKERS', 1, 1, 64),
    retryAfterSeconds: r.int('RETRY_AFTER_SECONDS', 5, 0, 86_400),
    accessLog: r.bool('ACCESS_LOG', true),
    drain: {
      delayMs: r.int('DRAIN_DELAY_MS', 25_000, 0, 3_600_000),
      httpTimeoutMs: r.int('DRAIN_HTTP_TIMEOUT_MS', 30_000, 0, 3_600_000),
      timeoutMs: r.int('DRAIN_TIMEOUT_MS', 55_000, 0, 172_800_000),
    },
  }
}
