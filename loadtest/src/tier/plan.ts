// The tier's layout as data (pure): which hosts exist, their network
// namespaces, veth names and addresses, the HAProxy configuration of the ALB
// stand-in, and the load and phase sizes of the short and the full run.
// Everything machine-global carries the PREFIX, so a run only ever touches
// (and a stale-run cleanup only ever removes) what a tier run made.

/** Prefix of every namespace this tool creates; nothing else is touched. */
export const PREFIX = 'er-tier-'
/** The namespace holding the bridge every host's veth is plugged into. */
export const NET_NS = `${PREFIX}net`
/** The bridge inside NET_NS. */
export const BRIDGE = 'br0'
/** The subnet of the run: only ever inside namespaces the run made. */
export const SUBNET = '10.77.0.0/24'
const NET = '10.77.0.'

export type Role = 'cloudmap' | 'lb' | 'router' | 'media' | 'app' | 'client'

export interface Host {
  /** e.g. `router-2`; also the namespace suffix. */
  readonly name: string
  readonly role: Role
  readonly ipv4: string
  /** The network namespace (`er-tier-<name>`). */
  readonly netns: string
  /** The veth end in NET_NS (plugged into the bridge); the host's end is `eth0`. */
  readonly veth: string
}

/** Router slots: 3 run at a time; a rolling deploy starts the new task on a free slot, like ECS giving a new task a new address. */
export const ROUTER_SLOTS = 6
export const ROUTERS_RUNNING = 3
export const MEDIA_HOSTS = 4
export const APP_HOSTS = 2
/** The two deployments of the demo service; each app host runs one instance of each. */
export const DEPLOYMENTS = ['alpha', 'beta'] as const

export const PORTS = {
  router: 8080,
  routerAdmin: 9090,
  media: 8080,
  mediaAdmin: 8081,
  cloudmapApi: 9600,
  dns: 53,
  lb: 80,
  /** First instance port of the demo deployments on an app host (alpha 8001, beta 8002). */
  app: 8001,
  /** The app host's fault switch (slow answers). */
  appControl: 8100,
} as const

function host(name: string, role: Role, last: number): Host {
  return { name, role, ipv4: `${NET}${last}`, netns: `${PREFIX}${name}`, veth: `v-${name}` }
}

/** Every host of the tier, in start order. */
export function tierHosts(): Host[] {
  const hosts = [host('cloudmap', 'cloudmap', 2), host('lb', 'lb', 10)]
  for (let i = 1; i <= ROUTER_SLOTS; i++) hosts.push(host(`router-${i}`, 'router', 20 + i))
  for (let i = 1; i <= MEDIA_HOSTS; i++) hosts.push(host(`media-${i}`, 'media', 30 + i))
  for (let i = 1; i <= APP_HOSTS; i++) hosts.push(host(`app-${i}`, 'app', 40 + i))
  hosts.push(host('client', 'client', 50))
  return hosts
}

/** The one host named `name`; throws when the plan has none. */
export function hostNamed(hosts: readonly Host[], name: string): Host {
  const h = hosts.find((x) => x.name === name)
  if (h === undefined) throw new Error(`no host ${name} in the tier plan`)
  return h
}

/** Hosts of one role, in order. */
export function hostsOf(hosts: readonly Host[], role: Role): Host[] {
  return hosts.filter((h) => h.role === role)
}

/** Linux interface names are at most 15 bytes (IFNAMSIZ - 1). */
export function checkInterfaceNames(hosts: readonly Host[]): void {
  for (const h of hosts) if (h.veth.length > 15) throw new Error(`interface name ${h.veth} is longer than 15 characters`)
}

/** Namespaces of ours in an `ip netns list` output (a previous run's, when found at start). */
export function ownNamespaces(ipNetnsList: string): string[] {
  const out: string[] = []
  for (const line of ipNetnsList.split('\n')) {
    const name = line.trim().split(/\s+/)[0]
    if (name !== undefined && name.startsWith(PREFIX) && /^[a-z0-9-]+$/.test(name)) out.push(name)
  }
  return out
}

/** The `ip` invocations (argument lists) that build the topology: one bridge, one veth pair per host. */
export function topologyCommands(hosts: readonly Host[]): string[][] {
  const cmds: string[][] = [
    ['netns', 'add', NET_NS],
    ['-n', NET_NS, 'link', 'set', 'lo', 'up'],
    ['-n', NET_NS, 'link', 'add', BRIDGE, 'type', 'bridge'],
    ['-n', NET_NS, 'link', 'set', BRIDGE, 'up'],
  ]
  for (const h of hosts) {
    cmds.push(
      ['netns', 'add', h.netns],
      ['-n', h.netns, 'link', 'set', 'lo', 'up'],
      ['-n', NET_NS, 'link', 'add', h.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns],
      ['-n', NET_NS, 'link', 'set', h.veth, 'master', BRIDGE, 'up'],
      ['-n', h.netns, 'addr', 'add', `${h.ipv4}/24`, 'dev', 'eth0'],
      ['-n', h.netns, 'link', 'set', 'eth0', 'up'],
    )
  }
  return cmds
}

/** `ip` arguments that cut (down) or restore (up) a host's link: its veth port on the bridge. */
export function linkCommand(h: Host, state: 'up' | 'down'): string[] {
  return ['-n', NET_NS, 'link', 'set', h.veth, state]
}

/** HAProxy's name for the server of a router slot. */
export function lbServerName(h: Host): string {
  return h.name
}

/**
 * The ALB stand-in: HTTP mode (requests are balanced, WebSocket upgrades
 * become tunnels), round-robin, `GET /health` every 1 s (2 fails → out, 2
 * passes → in; a check may take 2 s, the ALB's shortest timeout), 60 s idle timeout like the ALB's default, and a connection
 * that fails to connect is re-sent to another router (the ALB does not
 * send new requests to a target that refuses). Router slots without a task
 * start in maintenance; the runtime API puts them in and out, as ECS
 * registers and deregisters targets.
 */
export function haproxyConfig(hosts: readonly Host[], socketPath: string, running: ReadonlySet<string>): string {
  const lb = hostNamed(hosts, 'lb')
  const servers = hostsOf(hosts, 'router').map((h) => `  server ${lbServerName(h)} ${h.ipv4}:${PORTS.router}${running.has(h.name) ? '' : ' disabled'}`)
  return [
    'global',
    '  maxconn 8000',
    `  stats socket ${socketPath} mode 600 level admin`,
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout check 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout tunnel 60s',
    '  timeout http-request 10s',
    '  timeout http-keep-alive 60s',
    '  retries 2',
    '  option redispatch 1',
    '  option forwardfor',
    '',
    'frontend alb',
    `  bind ${lb.ipv4}:${PORTS.lb}`,
    '  default_backend routers',
    '',
    'backend routers',
    '  balance roundrobin',
    '  option httpchk GET /health',
    '  http-check expect status 200',
    '  default-server check inter 1s fall 2 rise 2',
    ...servers,
    '',
  ].join('\n')
}

/** Sizes of one run. */
export interface TierSizes {
  readonly full: boolean
  /** HTTP requests/s over both deployments. */
  readonly httpRps: number
  /** Concurrent WebSocket sessions. */
  readonly wsSessions: number
  /** Messages/s each session sends (echoed back). */
  readonly wsMsgRate: number
  /** Each session lasts a random time in [holdMinMs, holdMaxMs], then its owner closes it and allocates a new one. */
  readonly holdMinMs: number
  readonly holdMaxMs: number
  /** Steady load before and after each fault. */
  readonly settleMs: number
  /** How long an outage (DNS, API, partition, slow deployment) lasts. */
  readonly outageMs: number
  /** Media node drain timeout: sessions still open then get 1001. */
  readonly mediaDrainTimeoutMs: number
  /** Router: WebSockets kept this long after it stopped accepting, then 1001. */
  readonly routerWsDrainMs: number
  /** Router: /health is 503 this long before it stops accepting (the LB notices in 2 checks of 1 s). */
  readonly routerDrainDelayMs: number
  /** The demo deployment's slow answers in the blast-radius scenario. */
  readonly slowMs: number
}

export const SHORT: TierSizes = {
  full: false,
  httpRps: 80,
  wsSessions: 120,
  wsMsgRate: 1,
  holdMinMs: 8_000,
  holdMaxMs: 25_000,
  settleMs: 4_000,
  outageMs: 12_000,
  mediaDrainTimeoutMs: 12_000,
  routerWsDrainMs: 1_000,
  routerDrainDelayMs: 3_000,
  slowMs: 5_000,
}

export const FULL: TierSizes = {
  full: true,
  httpRps: 300,
  wsSessions: 1_000,
  wsMsgRate: 1,
  holdMinMs: 20_000,
  holdMaxMs: 90_000,
  settleMs: 10_000,
  outageMs: 30_000,
  mediaDrainTimeoutMs: 30_000,
  routerWsDrainMs: 2_000,
  routerDrainDelayMs: 3_000,
  slowMs: 5_000,
}
