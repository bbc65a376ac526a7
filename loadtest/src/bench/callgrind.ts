// Callgrind for npm run bench:instr: the valgrind command a target runs under,
// switching instrumentation on and dumping through callgrind_control, and the
// pure part — reading the event totals of a callgrind output file
// (https://valgrind.org/docs/manual/cl-format.html) and the per-request figures.

import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/**
 * valgrind running callgrind with instrumentation off until switched on (so the
 * start-up and warm-up run fast and are not counted). Node's JIT writes code into
 * anonymous memory, hence --smc-check=all-non-file. `%p` becomes the pid. The
 * vgdb FIFOs (how callgrind_control talks to it) go next to the output.
 */
export function callgrindLauncher(outFileBase: string): string[] {
  return ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', '--dump-line=no', `--vgdb-prefix=${vgdbPrefix(outFileBase)}`, `--callgrind-out-file=${outFileBase}.%p`]
}

function vgdbPrefix(outFileBase: string): string {
  return `${outFileBase}.vgdb`
}

/**
 * vgdb names its FIFOs after $USER and $HOST as the valgrind process saw them,
 * and the router's HOST is its listen address; callgrind_control must run with
 * the same two values or it finds no FIFO (and still prints "OK").
 */
function vgdbEnv(pid: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env['USER']
  delete env['HOST']
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')) {
    const eq = entry.indexOf('=')
    const name = entry.slice(0, eq)
    if (name === 'USER' || name === 'HOST') env[name] = entry.slice(eq + 1)
  }
  return env
}

/** Totals per event name (`Ir` = instructions executed) of one callgrind output file. */
export function callgrindTotals(text: string): Map<string, bigint> {
  let events: string[] | undefined
  let totals: string | undefined
  let summary: string | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('events:')) events ??= line.slice(7).trim().split(/\s+/)
    else if (line.startsWith('totals:')) totals = line.slice(7)
    else if (line.startsWith('summary:')) summary = line.slice(8)
  }
  if (events === undefined || events.length === 0 || events[0] === '') throw new Error('not a callgrind output file: no "events:" line')
  // "summary:" is what callgrind counted (and what callgrind_annotate reports as
  // PROGRAM TOTALS); "totals:", written at the end, sums the cost lines and can be
  // a few instructions lower. The format allows a file to carry either.
  const values = summary ?? totals
  if (values === undefined) throw new Error('callgrind output has no "totals:" or "summary:" line (dump not finished?)')
  const numbers = values.trim().split(/\s+/)
  const out = new Map<string, bigint>()
  events.forEach((name, i) => {
    const v = numbers[i]
    // Trailing events may be left out when zero.
    if (v !== undefined && !/^\d+$/.test(v)) throw new Error(`callgrind totals: "${v}" for ${name} is not a count`)
    out.set(name, v === undefined ? 0n : BigInt(v))
  })
  return out
}

/** Instructions (`Ir`) of one callgrind output file. */
export function instructionsOf(text: string): bigint {
  const ir = callgrindTotals(text).get('Ir')
  if (ir === undefined) throw new Error('callgrind output counts no "Ir" event')
  return ir
}

/** Instructions per request, rounded to whole instructions. */
export function perRequest(instructions: bigint, requests: number): number {
  if (!Number.isInteger(requests) || requests <= 0) throw new Error(`requests must be a positive integer, got ${requests}`)
  return Math.round(Number(instructions) / requests)
}

/** min, median and max of a non-empty list, and the spread (max − min) / median. */
export function spread(values: readonly number[]): { min: number; median: number; max: number; spread: number } {
  if (values.length === 0) throw new Error('no values')
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  const median = s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
  const min = s[0] ?? 0
  const max = s[s.length - 1] ?? 0
  return { min, median, max, spread: median === 0 ? 0 : (max - min) / median }
}

/**
 * One callgrind_control command. valgrind creates the vgdb FIFOs a little after
 * its banner, so "not detected" is retried for up to `waitMs`.
 */
function control(pid: number, outFileBase: string, args: readonly string[], waitMs = 30_000): void {
  const deadline = Date.now() + waitMs
  for (;;) {
    const r = spawnSync('callgrind_control', [`--vgdb-prefix=${vgdbPrefix(outFileBase)}`, ...args, String(pid)], { encoding: 'utf8', timeout: 120_000, env: vgdbEnv(pid) })
    if (r.status === 0 && /OK\./.test(r.stdout) && !/error opening/.test(r.stderr)) return
    const why = (r.stderr || r.stdout || String(r.error)).trim()
    if (!/not detected/.test(why) || Date.now() > deadline) throw new Error(`callgrind_control ${args.join(' ')} ${pid} failed: ${why}`)
    spawnSync('sleep', ['0.2'])
  }
}

/** Switches instrumentation on: from here instructions are counted. */
export function instrumentationOn(pid: number, outFileBase: string): void {
  control(pid, outFileBase, ['--instr=on'])
}

/** Zeroes the counters. */
export function zeroCounts(pid: number, outFileBase: string): void {
  control(pid, outFileBase, ['--zero'])
}

/**
 * Dumps the counters since the last zeroCounts() and returns the dump's text.
 * callgrind writes the dump when the process next runs, after callgrind_control
 * has returned, so this waits for a new part file with its closing totals line.
 */
export async function dumpCounts(pid: number, outFileBase: string, timeoutMs = 120_000): Promise<string> {
  const dir = dirname(outFileBase)
  const prefix = `${basename(outFileBase)}.${pid}.`
  const isPart = (f: string): boolean => f.startsWith(prefix) && /^\d+$/.test(f.slice(prefix.length))
  const partsBefore = new Set(readdirSync(dir).filter(isPart))
  control(pid, outFileBase, ['--dump=bench-instr'])
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const fresh = readdirSync(dir).filter((f) => isPart(f) && !partsBefore.has(f))
    if (fresh.length > 1) throw new Error(`expected one new callgrind dump for pid ${pid} in ${dir}, found ${fresh.join(', ')}`)
    const file = fresh[0]
    if (file !== undefined) {
      const text = readFileSync(join(dir, file), 'utf8')
      if (/^totals:/m.test(text)) return text
    }
    if (Date.now() > deadline) throw new Error(`no complete callgrind dump for pid ${pid} in ${dir} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** True when valgrind and callgrind_control are on PATH. */
export function haveCallgrind(): boolean {
  return ['valgrind', 'callgrind_control'].every((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0)
}
