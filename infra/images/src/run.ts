// Child processes for the image test: run a program to completion and collect
// its exit code and output. Never through a shell: arguments go as they are.
import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** How a finished program ended. */
export interface RunResult {
  /** Exit code; 128 + n for a signal n, as a shell reports it. */
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Options of {@link run}. */
export interface RunOptions {
  readonly cwd?: string
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>
  /** Written to the program's standard input, which is then closed. */
  readonly input?: string
}

const SIGNALS: Readonly<Record<string, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }

/** Run `cmd args…` and resolve when it exits (never rejects for a non-zero exit). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdin = opts.input === undefined ? 'ignore' : 'pipe'
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: [stdin, 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (d: Buffer) => out.push(d))
    child.stderr?.on('data', (d: Buffer) => err.push(d))
    child.once('error', reject)
    child.once('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString()
      const stderr = Buffer.concat(err).toString()
      resolve({ code: code ?? 128 + (SIGNALS[signal ?? ''] ?? 0), stdout, stderr })
    })
    // A program may exit without reading its input: EPIPE is not our error.
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(opts.input)
  })
}

/** A program that exited non-zero; the message carries the end of its output. */
export class CommandError extends Error {
  override readonly name = 'CommandError'
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    super(`${command} exited ${result.code}:\n${lastLines(`${result.stdout}\n${result.stderr}`, 40)}`)
  }
}

/** Run and return standard output; throw {@link CommandError} on a non-zero exit. */
export async function mustRun(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const result = await run(cmd, args, opts)
  if (result.code !== 0) throw new CommandError([cmd, ...args].join(' '), result)
  return result.stdout
}

/** Whether an executable `name` is on PATH. */
export function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, name), constants.X_OK)
      return true
    } catch {
      // not in this directory
    }
  }
  return false
}

/** The last `n` non-empty lines of a text. */
export function lastLines(text: string, n: number): string {
  return text.split('\n').filter((l) => l.trim() !== '').slice(-n).join('\n')
}
