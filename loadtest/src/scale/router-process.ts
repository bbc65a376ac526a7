// Starts the router under test: one `node dist/router/src/main.js` process with
// ROUTER_WORKERS=W and static discovery of the media nodes, waits for its
// "router listening" log line (parsed with a guard), then finds the worker
// pids as the primary's children.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Child } from '../bench/child.js'
import type { ChildRegistry } from './children.js'
import { childPids } from './procfs.js'

export interface MediaEndpoint {
  id: string
  port: number
}

export interface RunningRouter {
  child: Child
  port: number
  adminPort: number
  primaryPid: number
  workerPids: number[]
}

/** The static discovery document: `/media/<id>` goes to the entry with that id. */
export function discoveryDocument(nodes: readonly MediaEndpoint[]): string {
  return JSON.stringify({ services: { media: nodes.map((n) => ({ id: n.id, host: '127.0.0.1', port: n.port, attributes: {} })) } }, null, 2)
}

/** Ports from a `{"msg":"router listening","port":..,"adminPort":..}` line; undefined for any other line. */
export function parseListening(line: string): { port: number; adminPort: number } | undefined {
  let v: unknown
  try {
    v = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const msg: unknown = Reflect.get(v, 'msg')
  const port: unknown = Reflect.get(v, 'port')
  const adminPort: unknown = Reflect.get(v, 'adminPort')
  if (msg !== 'router listening' || typeof port !== 'number' || typeof adminPort !== 'number') return undefined
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !Number.isInteger(adminPort) || adminPort < 1 || adminPort > 65535) return undefined
  return { port, adminPort }
}

export interface RouterStart {
  registry: ChildRegistry
  mainJs: string
  workDir: string
  workers: number
  nodes: readonly MediaEndpoint[]
  verbose: boolean
  timeoutMs: number
}

/** Starts the router and resolves once it listens and all its workers are found. */
export async function startRouter(o: RouterStart): Promise<RunningRouter> {
  const file = join(o.workDir, 'discovery.json')
  writeFileSync(file, discoveryDocument(o.nodes))
  const child = o.registry.binary(process.execPath, [o.mainJs], 'router', {
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_HOST: '127.0.0.1',
    ADMIN_PORT: '0',
    DISCOVERY_MODE: 'static',
    STATIC_DISCOVERY_FILE: file,
    ACCESS_LOG: 'false',
    DRAIN_DELAY_MS: '0',
    ROUTER_WORKERS: String(o.workers),
    NODE_ENV: 'production',
  }, o.verbose)
  const ports = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => done(new Error(`router did not log "router listening" within ${o.timeoutMs} ms. stderr: ${child.stderrTail.slice(-800)}`)), o.timeoutMs)
    const onData = (d: Buffer): void => {
      buf += d.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const p = parseListening(buf.slice(0, nl))
        buf = buf.slice(nl + 1)
        if (p !== undefined) return done(undefined, p)
      }
      if (buf.length > 65_536) buf = buf.slice(-4096)
    }
    const onExit = (code: number | null): void => done(new Error(`router exited (${code}) before listening. stderr: ${child.stderrTail.slice(-800)}`))
    const done = (err: Error | undefined, p?: { port: number; adminPort: number }): void => {
      clearTimeout(timer)
      child.proc.stdout?.off('data', onData)
      child.proc.off('exit', onExit)
      if (err !== undefined) reject(err)
      else if (p !== undefined) resolve(p)
    }
    child.proc.stdout?.on('data', onData)
    child.proc.once('exit', onExit)
  })
  // Keep draining stdout so the router never blocks on a full pipe.
  child.proc.stdout?.on('data', () => undefined)
  // Workers have all reported by the time the primary logs; look them up, bounded.
  let workerPids: number[] = []
  const until = Date.now() + 10_000
  while ((workerPids = childPids(child.pid)).length < o.workers && Date.now() < until) await new Promise((r) => setTimeout(r, 100))
  o.registry.adopt(workerPids)
  if (workerPids.length !== o.workers) throw new Error(`expected ${o.workers} router workers under pid ${child.pid}, found ${workerPids.length}`)
  return { child, port: ports.port, adminPort: ports.adminPort, primaryPid: child.pid, workerPids }
}
