// Linux /proc readers for the scale test: child pids of a process (scanning
// /proc/*/stat, since /proc/<pid>/task/*/children is not always compiled in),
// the open-files limit, the number of open fds, and VmRSS (bench's parser).
// Parsers are pure; readers return undefined when the process is gone.

import { readFileSync, readdirSync } from 'node:fs'
import { parseVmRssKb } from '../bench/procfs.js'

/** Parent pid from the text of /proc/<pid>/stat (field 4, after the parenthesised comm). */
export function parsePpid(statText: string): number | undefined {
  const close = statText.lastIndexOf(')')
  if (close < 0) return undefined
  const rest = statText.slice(close + 2).split(' ')
  const ppid = Number(rest[1])
  return Number.isInteger(ppid) ? ppid : undefined
}

/** Soft "Max open files" from the text of /proc/<pid>/limits; -1 when absent or unlimited. */
export function parseFdLimit(limitsText: string): number {
  const m = /^Max open files\s+(\d+)\s/m.exec(limitsText)
  return m?.[1] !== undefined ? Number(m[1]) : -1
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** Pids whose parent is `ppid` (one bounded pass over /proc). */
export function childPids(ppid: number): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const text = read(`/proc/${name}/stat`)
    if (text !== undefined && parsePpid(text) === ppid) out.push(Number(name))
  }
  return out.sort((a, b) => a - b)
}

/** Soft open-files limit of `pid` ("self" for this process); -1 when unreadable. */
export function fdLimit(pid: number | 'self'): number {
  const text = read(`/proc/${pid}/limits`)
  return text === undefined ? -1 : parseFdLimit(text)
}

/** Open fds of `pid`, or undefined when the process is gone. */
export function fdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return undefined
  }
}

/** VmRSS of `pid` in kB, or undefined when the process is gone. */
export function rssKbOf(pid: number): number | undefined {
  const text = read(`/proc/${pid}/status`)
  if (text === undefined) return undefined
  try {
    return parseVmRssKb(text)
  } catch {
    return undefined
  }
}
