// Processes of the tier: each one started on its host as `ip netns exec
// <netns> <cmd>` (ip execs in place, so the pid is the program's own), with
// stdout and stderr appended to a log file in the run directory. Exit code
// and signal are kept, so a scenario can check that a router or media node
// exited 0. Nothing here outlives the run: the launcher kills every process
// left in the run's namespaces when it tears them down.

import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import type { Host } from './plan.js'

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export class TierProcess {
  readonly label: string
  readonly host: Host
  readonly logFile: string
  readonly startedAt: number
  readonly #proc: ChildProcess
  readonly #exit: Promise<Exit>
  #exited: Exit | undefined

  constructor(host: Host, label: string, cmd: string, args: readonly string[], env: Readonly<Record<string, string>>, runDir: string) {
    this.label = label
    this.host = host
    this.logFile = join(runDir, `${label}.log`)
    const fd = openSync(this.logFile, 'a')
    this.startedAt = Date.now()
    this.#proc = spawn('ip', ['netns', 'exec', host.netns, cmd, ...args], { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } })
    closeSync(fd)
    this.#exit = new Promise((resolve) => {
      this.#proc.once('exit', (code, signal) => {
        this.#exited = { code, signal }
        resolve(this.#exited)
      })
      this.#proc.once('error', () => {
        this.#exited = { code: 127, signal: null }
        resolve(this.#exited)
      })
    })
  }

  get pid(): number | undefined {
    return this.#proc.pid
  }

  /** Undefined while running. */
  get exited(): Exit | undefined {
    return this.#exited
  }

  whenExit(): Promise<Exit> {
    return this.#exit
  }

  /** Sends a signal if the process still runs. */
  signal(sig: NodeJS.Signals): void {
    if (this.#exited === undefined) this.#proc.kill(sig)
  }

  /** Resolves with the exit, or undefined when `ms` passed first. */
  async waitExit(ms: number): Promise<Exit | undefined> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))
    try {
      return await Promise.race([this.#exit, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<Exit> {
    this.signal('SIGTERM')
    const e = await this.waitExit(graceMs)
    if (e !== undefined) return e
    this.signal('SIGKILL')
    return this.#exit
  }
}

/** "exit 0", "exit 1", "SIGKILL". */
export function describeExit(e: Exit | undefined): string {
  if (e === undefined) return 'running'
  return e.signal !== null ? e.signal : `exit ${e.code ?? '?'}`
}
