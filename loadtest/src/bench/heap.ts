// npm run bench:heap — what one proxied WebSocket keeps on the router's heap,
// by object type, from two heap snapshots. The router (as the bench runs it)
// starts with --heapsnapshot-signal; this process opens a base set of
// WebSockets through it (one echo each), takes a snapshot, opens N more, takes
// another, and divides the difference by N. RSS per connection is measured by
// `npm run bench` (a snapshot itself moves RSS by tens of MB, so not here).

import { mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { WebSocket } from 'ws'
import { mergeOptions, parseFlags, readBool, readInt } from '../lib/options.js'
import { detectPinning } from './child.js'
import { runAsEntry, withUpstream } from './bench-tool.js'
import { perUnitGrowth, summarizeHeapSnapshot } from './heap-snapshot.js'
import { findRepoRoot } from './main.js'
import { TARGETS, type RunningTarget } from './targets.js'

const KNOWN = ['CONNECTIONS', 'BASE', 'TOP', 'PIN', 'VERBOSE']

function log(line: string): void {
  process.stdout.write(line + '\n')
}

/** Opens `count` WebSockets to `url`, at most 100 handshakes at a time, each answering one echo. */
async function openSockets(url: string, count: number, into: WebSocket[]): Promise<void> {
  for (let done = 0; done < count; ) {
    const batch = Math.min(100, count - done)
    await Promise.all(Array.from({ length: batch }, () => echoOnce(url, into)))
    done += batch
  }
}

function echoOnce(url: string, into: WebSocket[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error(`no echo from ${url} within 10 s`))
    }, 10_000)
    ws.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    ws.once('open', () => {
      into.push(ws)
      ws.once('message', () => {
        clearTimeout(timer)
        resolve()
      })
      ws.send('ping')
    })
  })
}

/** One echo on an open socket: proof that the proxy's event loop ran since. */
function roundTrip(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo within 120 s')), 120_000)
    ws.once('message', () => {
      clearTimeout(timer)
      resolve()
    })
    ws.send('after-snapshot')
  })
}

/** Signals the target to write a heap snapshot into `dir` and returns the file once it is complete. */
async function snapshot(target: RunningTarget, dir: string, probe: WebSocket): Promise<string> {
  if (target.pid === undefined) throw new Error('the target has no process')
  const before = new Set(readdirSync(dir))
  process.kill(target.pid, 'SIGUSR2')
  const deadline = Date.now() + 60_000
  for (;;) {
    const fresh = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f))
    if (fresh !== undefined) {
      // The snapshot is written on the proxy's main thread: an echo through it means the file is done.
      await roundTrip(probe)
      return join(dir, fresh)
    }
    if (Date.now() > deadline) throw new Error(`no heap snapshot within 60 s; stderr: ${target.logTail()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const src = mergeOptions({}, parseFlags(argv), KNOWN)
  const connections = readInt(src, 'CONNECTIONS', 2000, 10, 9000)
  const base = readInt(src, 'BASE', 500, 1, 9000)
  const top = readInt(src, 'TOP', 20, 1, 200)
  const verbose = readBool(src, 'VERBOSE', false)
  const pinning = detectPinning(readBool(src, 'PIN', true))
  const root = findRepoRoot()
  const sockets: WebSocket[] = []
  await withUpstream('bench-heap-', pinning.loadCpu, verbose, async (workDir, upstream) => {
    const snapDir = join(workDir, 'snapshots')
    mkdirSync(snapDir)
    const router = await TARGETS.router.start({
      upstream,
      cpu: pinning.proxyCpu,
      workDir,
      repoRoot: root,
      maxConnections: base + connections,
      verbose,
      nodeEnv: { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapDir}` },
    })
    try {
      await openSockets(router.wsUrl, base, sockets)
      const probe = sockets[0]
      if (probe === undefined) throw new Error('no base connection')
      const first = await snapshot(router, snapDir, probe)
      await openSockets(router.wsUrl, connections, sockets)
      const second = await snapshot(router, snapDir, probe)
      const growth = perUnitGrowth(summarizeHeapSnapshot(readFileSync(first, 'utf8')), summarizeHeapSnapshot(readFileSync(second, 'utf8')), connections)
      log(`router, ${base} → ${base + connections} proxied WebSockets (one echo each):`)
      log(`  heap growth per connection: ${(growth.totalBytes / 1024).toFixed(2)} KB (JS objects and the native objects Node reports to V8, after a full GC)`)
      log(`\n| type | per connection | bytes per connection |\n|---|---:|---:|`)
      for (const r of growth.rows.slice(0, top)) log(`| ${r.type.replace(/\|/g, '\\|')} | ${r.count.toFixed(2)} | ${r.bytes.toFixed(0)} |`)
    } finally {
      for (const ws of sockets) ws.terminate()
      await router.stop()
    }
  })
  return 0
}

runAsEntry(import.meta.url, 'bench:heap', main)
