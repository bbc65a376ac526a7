// The ways the bench serves the one upstream: direct, our router, nginx,
// HAProxy, two minimal Node proxies (http-proxy, undici) and the Node floor
// (node:net only, see proxies/net-floor-proxy.ts). Each target
// knows whether it can run here, how to start, its URLs and its pid.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { request } from 'undici'
import { Child, siblingScript, spawnBinary, spawnNodeScript } from './child.js'
import { asReady } from './protocol.js'

export const TARGET_NAMES = ['direct', 'router', 'router-before', 'nginx', 'haproxy', 'http-proxy', 'undici', 'node-floor'] as const
export type TargetName = (typeof TARGET_NAMES)[number]
/** Drops `router-before` from a default target list unless ROUTER_BEFORE names a checkout. */
export function withoutUnsetBefore<T extends TargetName>(names: readonly T[]): T[] {
  return names.filter((t) => t !== 'router-before' || routerBeforeRoot() !== undefined)
}

/**
 * `router-before`: a second router build measured in the same run as the
 * current one, for before/after figures. ROUTER_BEFORE names the root of
 * another checkout that has been built (`git worktree add /tmp/before <commit>
 * && cd /tmp/before && npm ci && npm run build`).
 */
export function routerBeforeRoot(): string | undefined {
  const v = process.env['ROUTER_BEFORE']
  return v === undefined || v === '' ? undefined : v
}

export interface Upstream {
  httpPort: number
  wsPort: number
}

export interface TargetContext {
  upstream: Upstream
  /** CPU the proxy is pinned to, if any. */
  cpu: string | undefined
  /** Scratch directory for config files. */
  workDir: string
  repoRoot: string
  /** Most client connections the proxy must hold at once (WS count or HTTP connections). */
  maxConnections: number
  verbose: boolean
  /** Extra environment for the Node targets only (npm run bench:alloc preloads its sampler). */
  nodeEnv?: Readonly<Record<string, string>>
  /** Command the Node targets run under (npm run bench:instr: valgrind); they exec in place. */
  nodeLauncher?: readonly string[]
  /** How long a target may take to start (default 20 s; much longer under valgrind). */
  startTimeoutMs?: number
}

export interface RunningTarget {
  /** URL of the small HTTP resource through this target. */
  httpUrl: string
  /** WebSocket URL of the echo upstream through this target. */
  wsUrl: string
  /** The proxy process measured for CPU and RSS; undefined for direct. */
  pid: number | undefined
  /** The last lines the proxy wrote to stderr (warnings, errors), for the result file. */
  logTail(): string
  stop(): Promise<void>
}

export interface TargetDef {
  name: TargetName
  /** Undefined when the target can run; otherwise why not. */
  unavailable(ctx: Pick<TargetContext, 'repoRoot'>): string | undefined
  start(ctx: TargetContext): Promise<RunningTarget>
}

/** A free TCP port on 127.0.0.1 (bind to 0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (a !== null && typeof a !== 'string' ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}

/** Polls GET url until 200, the child dies, or the deadline passes. */
export async function waitHealthy(url: string, child: Child, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (child.exited) throw new Error(`${child.label} exited during start-up: ${child.stderrTail.slice(-800)}`)
    try {
      const res = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 })
      await res.body.dump()
      if (res.statusCode === 200) return
      last = `HTTP ${res.statusCode}`
    } catch (err) {
      last = err instanceof Error ? err.message : String(err)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${child.label} not healthy within ${timeoutMs} ms (${url}: ${last}); stderr: ${child.stderrTail.slice(-800)}`)
}

/** Absolute path of a system binary, searching PATH and the sbin directories. */
export function findBinary(name: string): string | undefined {
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin']) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name)
  }
  return undefined
}

const PROXIED_HTTP_PATH = '/services/bench/hello'
const PROXIED_WS_PATH = '/media/u1/ws/bench'

function proxiedUrls(port: number): { httpUrl: string; wsUrl: string } {
  return { httpUrl: `http://127.0.0.1:${port}${PROXIED_HTTP_PATH}`, wsUrl: `ws://127.0.0.1:${port}${PROXIED_WS_PATH}` }
}

const direct: TargetDef = {
  name: 'direct',
  unavailable: () => undefined,
  async start({ upstream }) {
    return { httpUrl: `http://127.0.0.1:${upstream.httpPort}/hello`, wsUrl: `ws://127.0.0.1:${upstream.wsPort}/ws/bench`, pid: undefined, logTail: () => '', stop: async () => {} }
  },
}

/** Our router, run from the build: node dist/router/src/main.js with static discovery. */
export function routerMain(repoRoot: string): string {
  return join(repoRoot, 'dist', 'router', 'src', 'main.js')
}

/** The router built in `rootOf(ctx)`; `router` is this checkout, `router-before` ROUTER_BEFORE's. */
function routerTarget(name: 'router' | 'router-before', rootOf: (repoRoot: string) => string | undefined): TargetDef {
  return {
    name,
    unavailable: ({ repoRoot }) => {
      const root = rootOf(repoRoot)
      if (root === undefined) return 'ROUTER_BEFORE is not set (the root of another, built checkout)'
      return existsSync(routerMain(root)) ? undefined : `router build not found (${routerMain(root)}); run npm run build there`
    },
    async start(ctx) {
      const root = rootOf(ctx.repoRoot) ?? ctx.repoRoot
      const port = await freePort()
      const adminPort = await freePort()
      const file = join(ctx.workDir, 'router-discovery.json')
      const instance = (p: number): object => ({ id: 'u1', host: '127.0.0.1', port: p, attributes: {} })
      writeFileSync(file, JSON.stringify({ services: { bench: [instance(ctx.upstream.httpPort)], media: [instance(ctx.upstream.wsPort)] } }, null, 2))
      const child = spawnBinary(process.execPath, [routerMain(root)], {
        cpu: ctx.cpu,
        label: name,
        verbose: ctx.verbose,
        ...(ctx.nodeLauncher !== undefined ? { launcher: ctx.nodeLauncher } : {}),
        env: {
          HOST: '127.0.0.1',
          PORT: String(port),
          ADMIN_HOST: '127.0.0.1',
          ADMIN_PORT: String(adminPort),
          // The router asks for at least 16 characters.
          ADMIN_TOKEN: 'bench-admin-token-not-secret',
          DISCOVERY_MODE: 'static',
          STATIC_DISCOVERY_FILE: file,
          NODE_ENV: 'production',
          // The router is measured as it ships: routing, metrics and the JSON access log on
          // (one line per request to a pipe, as under the ECS awslogs driver).
          ACCESS_LOG: 'true',
          ...ctx.nodeEnv,
        },
      })
      try {
        await waitHealthy(`http://127.0.0.1:${port}/health`, child, ctx.startTimeoutMs)
      } catch (err) {
        await child.stop()
        throw err
      }
      return { ...proxiedUrls(port), pid: child.pid, logTail: () => child.stderrTail.slice(-1000), stop: () => child.stop() }
    },
  }
}

const router = routerTarget('router', (repoRoot) => repoRoot)
const routerBefore = routerTarget('router-before', () => routerBeforeRoot())

/** nginx.conf: one process (master_process off), upstream keepalive, WebSocket headers. */
export function nginxConfig(dir: string, port: number, up: Upstream, maxConnections: number): string {
  // Each proxied connection takes 2 slots (client + upstream). nginx starts closing
  // "reusable" connections — including fresh ones still waiting for their request
  // line — once fewer than 1/16 of the slots are free, so keep 2N below 15/16 of
  // worker_connections, within the 20,000 fds a process may have here.
  const workerConnections = Math.max(1024, Math.min(19_500, Math.ceil((2 * maxConnections * 16) / 15) + 500))
  return `# generated by loadtest/src/bench — one worker, keep-alive upstream, WebSocket upgrade
worker_processes 1;
master_process off;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
worker_rlimit_nofile 20000;
events {
  worker_connections ${workerConnections};
  multi_accept on;
}
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  upstream bench_http {
    server 127.0.0.1:${up.httpPort};
    keepalive 256;
    keepalive_requests 1000000;
    # Idle upstream connections go soon after the HTTP load, so they do not
    # hold slots during the WebSocket test.
    keepalive_timeout 2s;
  }
  upstream bench_ws {
    server 127.0.0.1:${up.wsPort};
  }
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /health { return 200 "ok\\n"; }
    location /services/bench/ {
      proxy_pass http://bench_http/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location /media/u1/ {
      proxy_pass http://bench_ws/;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }
}
`
}

const nginx: TargetDef = {
  name: 'nginx',
  unavailable: () => (findBinary('nginx') === undefined ? 'nginx not installed (loadtest/scripts/install-bench-deps.sh)' : undefined),
  async start(ctx) {
    const bin = findBinary('nginx')
    if (bin === undefined) throw new Error('nginx not installed')
    const dir = join(ctx.workDir, 'nginx')
    mkdirSync(dir, { recursive: true })
    const port = await freePort()
    const conf = join(dir, 'nginx.conf')
    writeFileSync(conf, nginxConfig(dir, port, ctx.upstream, ctx.maxConnections))
    const child = spawnBinary(bin, ['-p', dir, '-c', conf, '-e', join(dir, 'nginx-error.log')], { cpu: ctx.cpu, label: 'nginx', verbose: ctx.verbose })
    try {
      await waitHealthy(`http://127.0.0.1:${port}/health`, child)
    } catch (err) {
      await child.stop()
      throw err
    }
    return { ...proxiedUrls(port), pid: child.pid, logTail: () => child.stderrTail.slice(-1000), stop: () => child.stop() }
  },
}

/** haproxy.cfg: one thread, keep-alive both sides, prefix stripped, WebSocket tunnel. */
export function haproxyConfig(port: number, up: Upstream, maxConnections: number): string {
  const maxconn = Math.min(9_700, maxConnections + 200)
  return `# generated by loadtest/src/bench — one thread, keep-alive, WebSocket tunnel
global
  nbthread 1
  maxconn ${maxconn}
  log stderr format raw local0 err

defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 65s
  timeout server 65s
  timeout tunnel 1h
  timeout http-keep-alive 65s
  maxconn ${maxconn}

frontend bench
  bind 127.0.0.1:${port}
  http-request return status 200 content-type text/plain string "ok" if { path /health }
  use_backend media if { path_beg /media/u1/ }
  default_backend services

backend services
  http-reuse always
  http-request replace-path /services/bench(/.*) \\1
  server u1 127.0.0.1:${up.httpPort}

backend media
  http-request replace-path /media/u1(/.*) \\1
  server u1 127.0.0.1:${up.wsPort}
`
}

const haproxy: TargetDef = {
  name: 'haproxy',
  unavailable: () => (findBinary('haproxy') === undefined ? 'haproxy not installed (loadtest/scripts/install-bench-deps.sh)' : undefined),
  async start(ctx) {
    const bin = findBinary('haproxy')
    if (bin === undefined) throw new Error('haproxy not installed')
    const port = await freePort()
    const cfg = join(ctx.workDir, 'haproxy.cfg')
    writeFileSync(cfg, haproxyConfig(port, ctx.upstream, ctx.maxConnections))
    const check = spawnSync(bin, ['-c', '-f', cfg], { encoding: 'utf8' })
    if (check.status !== 0) throw new Error(`haproxy rejected its config: ${check.stderr || check.stdout}`)
    const child = spawnBinary(bin, ['-db', '-f', cfg], { cpu: ctx.cpu, label: 'haproxy', verbose: ctx.verbose })
    try {
      await waitHealthy(`http://127.0.0.1:${port}/health`, child)
    } catch (err) {
      await child.stop()
      throw err
    }
    return { ...proxiedUrls(port), pid: child.pid, logTail: () => child.stderrTail.slice(-1000), stop: () => child.stop() }
  },
}

function nodeProxy(name: 'http-proxy' | 'undici' | 'node-floor', script: string): TargetDef {
  return {
    name,
    unavailable: () => undefined,
    async start(ctx) {
      const child = spawnNodeScript(siblingScript(script), {
        cpu: ctx.cpu,
        label: name,
        verbose: ctx.verbose,
        ...(ctx.nodeLauncher !== undefined ? { launcher: ctx.nodeLauncher } : {}),
        env: { UPSTREAM_HTTP_PORT: String(ctx.upstream.httpPort), UPSTREAM_WS_PORT: String(ctx.upstream.wsPort), ...ctx.nodeEnv },
      })
      let port: number
      try {
        const ready = await child.message(asReady, ctx.startTimeoutMs ?? 20_000)
        const p = ready.ports['port']
        if (p === undefined) throw new Error(`${name}: ready message without a port`)
        port = p
      } catch (err) {
        await child.stop()
        throw err
      }
      return { ...proxiedUrls(port), pid: child.pid, logTail: () => child.stderrTail.slice(-1000), stop: () => child.stop() }
    },
  }
}

export const TARGETS: Readonly<Record<TargetName, TargetDef>> = {
  direct,
  router,
  'router-before': routerBefore,
  nginx,
  haproxy,
  'http-proxy': nodeProxy('http-proxy', './proxies/http-proxy.js'),
  undici: nodeProxy('undici', './proxies/undici-proxy.js'),
  'node-floor': nodeProxy('node-floor', './proxies/net-floor-proxy.js'),
}
