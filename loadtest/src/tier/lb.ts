// The ALB stand-in's runtime API (HAProxy's stats socket, a Unix socket in
// the run directory, reachable from any namespace): put a router slot in or
// out of the backend, as ECS registers and deregisters targets, and read each
// server's state (UP, DOWN, MAINT, …) from `show stat`.

import { connect } from 'node:net'

export const BACKEND = 'routers'

/** Sends one command, resolves with HAProxy's whole answer. */
export function lbCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath)
    let out = ''
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`haproxy runtime API: no answer to "${command}" within ${timeoutMs} ms`))
    }, timeoutMs)
    sock.setEncoding('utf8')
    sock.on('connect', () => sock.end(`${command}\n`))
    sock.on('data', (d: string) => (out += d))
    sock.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    sock.on('close', () => {
      clearTimeout(timer)
      resolve(out)
    })
  })
}

/**
 * Server name → status ("UP", "DOWN", "MAINT", "UP 1/2", "no check", …) for
 * one backend, from `show stat` CSV (header `# pxname,svname,…,status,…`).
 */
export function parseServerStates(csv: string, backend: string): Map<string, string> {
  const lines = csv.split('\n').filter((l) => l.trim() !== '')
  const header = lines[0]?.replace(/^#\s*/, '').split(',') ?? []
  const px = header.indexOf('pxname')
  const sv = header.indexOf('svname')
  const st = header.indexOf('status')
  const out = new Map<string, string>()
  if (px < 0 || sv < 0 || st < 0) return out
  for (const line of lines.slice(1)) {
    const f = line.split(',')
    const name = f[sv]
    if (f[px] !== backend || name === undefined || name === 'BACKEND' || name === 'FRONTEND') continue
    out.set(name, f[st] ?? '')
  }
  return out
}

export class LbControl {
  readonly #socket: string

  constructor(socketPath: string) {
    this.#socket = socketPath
  }

  async states(): Promise<Map<string, string>> {
    return parseServerStates(await lbCommand(this.#socket, 'show stat'), BACKEND)
  }

  /** Register the slot's target (out of maintenance; health checks decide when it takes traffic). */
  async register(server: string): Promise<void> {
    await this.#set(server, 'ready')
  }

  /** Deregister the slot's target. */
  async deregister(server: string): Promise<void> {
    await this.#set(server, 'maint')
  }

  async #set(server: string, state: 'ready' | 'maint'): Promise<void> {
    const answer = await lbCommand(this.#socket, `set server ${BACKEND}/${server} state ${state}`)
    if (answer.trim() !== '') throw new Error(`haproxy: set server ${server} state ${state}: ${answer.trim()}`)
  }

  /** Resolves with the ms it took until `server`'s status matches `pattern`; throws after `timeoutMs`. */
  async waitFor(server: string, pattern: RegExp, timeoutMs: number): Promise<number> {
    const start = Date.now()
    for (;;) {
      const s = (await this.states()).get(server)
      if (s !== undefined && pattern.test(s)) return Date.now() - start
      if (Date.now() - start > timeoutMs) throw new Error(`haproxy: ${server} is "${s ?? 'missing'}", not ${String(pattern)}, after ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}
