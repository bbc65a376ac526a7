// Scaffolding shared by the one-purpose bench tools (bench:alloc, bench:heap):
// running main() when the module is the process entry, and a scratch
// directory plus the bench upstream that live exactly as long as one run.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { OptionError } from '../lib/options.js'
import { killAllChildren, type Child } from './child.js'
import { startUpstream } from './main.js'
import type { Upstream } from './targets.js'

/**
 * Runs `main(argv)` when `moduleUrl` is the script node was started with.
 * Children are killed on exit; exit code from main, 2 for an option error,
 * 1 for any other failure (reported on stderr under `label`).
 */
export function runAsEntry(moduleUrl: string, label: string, main: (argv: readonly string[]) => Promise<number>): void {
  if (process.argv[1] === undefined || fileURLToPath(moduleUrl) !== process.argv[1]) return
  process.once('exit', killAllChildren)
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${label}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      killAllChildren()
      process.exit(err instanceof OptionError ? 2 : 1)
    },
  )
}

/** Calls `run` with a fresh scratch directory and a started upstream; stops and removes both afterwards. */
export async function withUpstream<T>(prefix: string, cpu: string | undefined, verbose: boolean, run: (workDir: string, upstream: Upstream) => Promise<T>): Promise<T> {
  const workDir = mkdtempSync(join(tmpdir(), prefix))
  let child: Child | undefined
  try {
    const up = await startUpstream(cpu, verbose)
    child = up.child
    return await run(workDir, up.upstream)
  } finally {
    await child?.stop()
    rmSync(workDir, { recursive: true, force: true })
  }
}
