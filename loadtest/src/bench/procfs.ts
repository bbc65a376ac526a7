// Reads a process's CPU time and resident memory from /proc (Linux): utime +
// stime from /proc/<pid>/stat, VmRSS from /proc/<pid>/status. Parsers are pure.

import { readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'

/** utime + stime in clock ticks from the text of /proc/<pid>/stat. */
export function parseStatTicks(text: string): number {
  // Field 2 (comm) is in parentheses and may contain spaces: split after the last ')'.
  const close = text.lastIndexOf(')')
  if (close < 0) throw new Error('unexpected /proc/<pid>/stat format: no ")"')
  const rest = text.slice(close + 2).trim().split(/\s+/)
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(rest[14 - 3])
  const stime = Number(rest[15 - 3])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unexpected /proc/<pid>/stat format: utime/stime not numbers')
  return utime + stime
}

/** VmRSS in kB from the text of /proc/<pid>/status. */
export function parseVmRssKb(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text)
  if (m === null) throw new Error('no VmRSS line in /proc/<pid>/status')
  return Number(m[1])
}

/** Clock ticks per second (getconf CLK_TCK), 100 when it cannot be read. */
export function clockTicksPerSecond(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
  const n = Number(r.stdout?.trim())
  return r.status === 0 && Number.isInteger(n) && n > 0 ? n : 100
}

/** CPU time (user + system) of `pid` in microseconds. */
export function cpuMicros(pid: number, ticksPerSecond: number): number {
  return (parseStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1e6) / ticksPerSecond
}

/** Resident set size of `pid` in kB. */
export function rssKb(pid: number): number {
  return parseVmRssKb(readFileSync(`/proc/${pid}/status`, 'utf8'))
}
