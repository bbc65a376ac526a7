// The run's network, from the root namespace: build the topology (plan.ts
// says what), remove it, and find and remove what a previous run left (a
// SIGKILLed launcher cannot clean up after itself). Removal kills every
// process still inside one of our namespaces, then deletes the namespaces;
// deleting the bridge namespace deletes every veth with it. Only names with
// the run's prefix are ever touched.

import { spawnSync } from 'node:child_process'
import { NET_NS, ownNamespaces, topologyCommands, type Host } from './plan.js'

function ip(args: readonly string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 })
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '').trim() || (r.error?.message ?? '') }
}

/** Our namespaces that exist now. */
export function existingNamespaces(): string[] {
  const r = ip(['netns', 'list'])
  return r.ok ? ownNamespaces(r.out) : []
}

/** Pids of processes in namespace `ns` (`ip netns pids`). */
export function pidsIn(ns: string): number[] {
  const r = ip(['netns', 'pids', ns])
  return r.ok ? r.out.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number) : []
}

/** SIGKILL everything inside `namespaces`, wait (bounded) until it is gone, delete them. Returns what it removed. */
export function removeNamespaces(namespaces: readonly string[]): { namespaces: number; killed: number } {
  let killed = 0
  for (let round = 0; round < 20; round++) {
    const pids = namespaces.flatMap(pidsIn).filter((p) => p !== process.pid)
    if (pids.length === 0) break
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL')
        if (round === 0) killed++
      } catch {
        // already gone
      }
    }
    spawnSync('sleep', ['0.1'])
  }
  // Hosts first, the bridge namespace last (its veth ends go with it).
  const ordered = [...namespaces.filter((n) => n !== NET_NS), ...namespaces.filter((n) => n === NET_NS)]
  let removed = 0
  for (const ns of ordered) if (ip(['netns', 'del', ns]).ok) removed++
  return { namespaces: removed, killed }
}

/** Builds the topology; throws with the failing command on error (the caller tears down). */
export function createTopology(hosts: readonly Host[]): void {
  for (const args of topologyCommands(hosts)) {
    const r = ip(args)
    if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.err}`)
  }
}

/** Whether this machine lets us make a network namespace; the reason when not. */
export function canMakeNamespaces(): { ok: true } | { ok: false; reason: string } {
  const probe = `${NET_NS.replace(/net$/, '')}probe`
  const add = ip(['netns', 'add', probe])
  if (!add.ok) return { ok: false, reason: `cannot create a network namespace (ip netns add: ${add.err || 'failed'})` }
  const veth = ip(['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1'])
  ip(['netns', 'del', probe])
  if (!veth.ok) return { ok: false, reason: `cannot create a veth pair in a namespace (${veth.err || 'failed'})` }
  return { ok: true }
}
