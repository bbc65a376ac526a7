// Every process the scale test starts, in one registry, so none outlives it:
// on any exit path (normal, error, SIGINT/SIGTERM) each one still alive gets
// SIGKILL, including router workers found under the router primary. Children
// are started non-detached; node children also exit when their IPC channel
// to us closes.

import { Child, spawnBinary, spawnNodeScript } from '../bench/child.js'
import { childPids } from './procfs.js'

export class ChildRegistry {
  readonly #children = new Set<Child>()
  /** Pids we did not spawn ourselves (router workers), killed too. */
  readonly #extraPids = new Set<number>()
  #installed = false

  /** Kills everything left on process exit and turns SIGINT/SIGTERM into an exit. */
  install(): void {
    if (this.#installed) return
    this.#installed = true
    process.on('exit', () => this.killAllNow())
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.on(sig, () => {
        process.stderr.write(`ws-scale: ${sig}, killing children\n`)
        process.exit(130)
      })
    }
  }

  /** Starts a node script of this folder (sibling path resolved by the caller) with IPC. */
  node(script: string, label: string, env: Record<string, string>, verbose: boolean): Child {
    const c = spawnNodeScript(script, { cpu: undefined, label, env, verbose })
    this.#children.add(c)
    return c
  }

  /** Starts another program (the router) without IPC. */
  binary(cmd: string, args: readonly string[], label: string, env: Record<string, string>, verbose: boolean): Child {
    const c = spawnBinary(cmd, args, { cpu: undefined, label, env, verbose })
    this.#children.add(c)
    return c
  }

  /** Remembers pids to SIGKILL on exit (e.g. router workers). */
  adopt(pids: readonly number[]): void {
    for (const p of pids) this.#extraPids.add(p)
  }

  /** SIGTERM then SIGKILL after `graceMs`, for every child still running, in parallel. */
  async stopAll(children: readonly Child[], graceMs: number): Promise<void> {
    await Promise.all(children.map((c) => c.stop(graceMs)))
  }

  /** Synchronous last resort: SIGKILL every child (and its children) still alive. */
  killAllNow(): void {
    const pids = new Set<number>(this.#extraPids)
    for (const c of this.#children) {
      if (c.exited || c.proc.pid === undefined) continue
      pids.add(c.proc.pid)
      try {
        for (const p of childPids(c.proc.pid)) pids.add(p)
      } catch {
        // /proc unreadable: the direct children are still killed below.
      }
    }
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  }
}
