// Child processes for the bench: node scripts (with an IPC channel) or other
// binaries, optionally pinned to a CPU with taskset, always killed on cleanup.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'

/** CPU layout: load generators + upstream on one core, the proxy on another. */
export interface Pinning {
  loadCpu: string | undefined
  proxyCpu: string | undefined
}

/** Pins when taskset exists and there are at least 2 CPUs; otherwise no pinning. */
export function detectPinning(enabled: boolean): Pinning {
  if (!enabled || availableParallelism() < 2) return { loadCpu: undefined, proxyCpu: undefined }
  const r = spawnSync('taskset', ['-c', '0', 'true'])
  if (r.status !== 0) return { loadCpu: undefined, proxyCpu: undefined }
  return { loadCpu: '0', proxyCpu: '1' }
}

/**
 * Path of a sibling bench script, with the extension this module runs with
 * (.js from dist, .ts under tsx), so children start the same way we did.
 */
export function siblingScript(relative: string): string {
  const self = fileURLToPath(import.meta.url)
  const ext = self.endsWith('.ts') ? '.ts' : '.js'
  return fileURLToPath(new URL(relative.replace(/\.js$/, ext), import.meta.url))
}

function wrap(cmd: string, args: readonly string[], cpu: string | undefined, launcher: readonly string[] = []): [string, string[]] {
  const full = [...launcher, cmd, ...args]
  const first = full[0] ?? cmd
  return cpu === undefined ? [first, full.slice(1)] : ['taskset', ['-c', cpu, ...full]]
}

export interface SpawnOptions {
  cpu: string | undefined
  env?: Record<string, string>
  /** Prefix for forwarded stderr lines; stderr is kept (last 4 kB) either way. */
  label: string
  verbose?: boolean
  /** Command that runs the child (e.g. valgrind and its flags); it must exec in place so the pid stays the child's. */
  launcher?: readonly string[]
}

/** Every child still running, so an interrupted bench leaves no proxy behind. */
const live = new Set<Child>()

/** Kills every child still running (SIGKILL; synchronous, safe in an exit handler). */
export function killAllChildren(): void {
  for (const c of live) {
    if (!c.exited) c.proc.kill('SIGKILL')
  }
  live.clear()
}

/** A started child: its pid (the real process — taskset execs in place) and a stop(). */
export class Child {
  readonly proc: ChildProcess
  readonly label: string
  #stderr = ''
  #exited = false

  constructor(proc: ChildProcess, label: string, verbose: boolean) {
    this.proc = proc
    this.label = label
    proc.stderr?.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-4096)
      if (verbose) process.stderr.write(`[${label}] ${d.toString()}`)
    })
    proc.stdout?.on('data', (d: Buffer) => {
      if (verbose) process.stderr.write(`[${label}] ${d.toString()}`)
    })
    live.add(this)
    proc.once('exit', () => {
      this.#exited = true
      live.delete(this)
    })
  }

  get pid(): number {
    if (this.proc.pid === undefined) throw new Error(`${this.label}: not started`)
    return this.proc.pid
  }

  get exited(): boolean {
    return this.#exited || this.proc.exitCode !== null || this.proc.signalCode !== null
  }

  get stderrTail(): string {
    return this.#stderr
  }

  /** Waits for the next IPC message that satisfies `accept`, or fails on exit/timeout. */
  async message<T>(accept: (m: unknown) => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`${this.label}: no answer within ${timeoutMs} ms. stderr: ${this.#stderr.slice(-500)}`)), timeoutMs)
      const onMessage = (m: unknown): void => {
        const v = accept(m)
        if (v !== undefined) finish(undefined, v)
      }
      const onExit = (code: number | null, signal: string | null): void =>
        finish(new Error(`${this.label}: exited (${code ?? signal}) before answering. stderr: ${this.#stderr.slice(-800)}`))
      const finish = (err: Error | undefined, v?: T): void => {
        clearTimeout(timer)
        this.proc.off('message', onMessage)
        this.proc.off('exit', onExit)
        if (err !== undefined) reject(err)
        else if (v !== undefined) resolve(v)
      }
      this.proc.on('message', onMessage)
      this.proc.once('exit', onExit)
      if (this.exited) onExit(this.proc.exitCode, this.proc.signalCode)
    })
  }

  send(message: Record<string, unknown>): void {
    if (this.proc.connected) this.proc.send(message)
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited) return
    const exited = once(this.proc, 'exit')
    this.proc.kill('SIGTERM')
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
}

/** Starts a bench node script (same loader flags as this process) with IPC. */
export function spawnNodeScript(script: string, opts: SpawnOptions): Child {
  const [cmd, args] = wrap(process.execPath, [...process.execArgv, script], opts.cpu, opts.launcher)
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ...opts.env } })
  return new Child(proc, opts.label, opts.verbose ?? false)
}

/** Starts a non-node binary (nginx, haproxy, or our router's main via node). */
export function spawnBinary(cmd: string, args: readonly string[], opts: SpawnOptions): Child {
  const [c, a] = wrap(cmd, args, opts.cpu, opts.launcher)
  const proc = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } })
  return new Child(proc, opts.label, opts.verbose ?? false)
}
