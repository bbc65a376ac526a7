// npm run bench:routes — does matching cost grow with the number of routes?
// Route tables of 10, 1,000 and 10,000 fixed-prefix routes (`/api/svc-<i>/v1/*`,
// plus as many exact-host routes and a default `/*`) are built the way
// ROUTES_FILE builds them; then matchRoute() runs over a fixed mix of request
// targets (hits at depth 4-6, host hits, misses that fall to `/*`) back to back
// for DURATION per round. Reported per table size: median matches/s over the
// rounds (min–max), ns per match, trie nodes visited per match, build time.
// With --callgrind: user-space instructions per match at 10 and 10,000 routes,
// which a loaded machine does not move: this script runs itself under
// callgrind twice per size (build + K1 matches, build + K2 matches) and the
// difference of the totals over K2 − K1 is the cost of one match.
// Measured, never asserted.

import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { haveCallgrind } from './callgrind.js'
import { parseRouteFile } from '../../../router/src/routing/route-file.js'
import { matchRoute, tableFromFile, type MatchStatus, type RouteTable } from '../../../router/src/routing/routes.js'
import { OptionError, mergeOptions, parseFlags, readDurationMs, readInt, type RawOptions } from '../lib/options.js'

const KNOWN = ['DURATION', 'ROUNDS', 'CALLGRIND', 'CHILD_SIZE', 'CHILD_MATCHES']
/** Matches counted per callgrind run: the difference between the two is what is measured. */
const CALLGRIND_MATCHES: readonly [number, number] = [20_000, 220_000]
const SIZES = [10, 1_000, 10_000]

function log(line: string): void {
  process.stdout.write(line + '\n')
}

function buildTable(n: number): { table: RouteTable; buildMs: number } {
  const doc = {
    routes: [
      ...Array.from({ length: n }, (_, i) => ({ name: `svc-${i}`, path: `/api/svc-${i}/v1/*`, service: `svc-${i}` })),
      ...Array.from({ length: n }, (_, i) => ({ name: `host-${i}`, host: `h${i}.example.com`, path: '/*', service: `host-${i}` })),
      { name: 'web', path: '/*', service: 'web' },
    ],
  }
  const text = JSON.stringify(doc)
  const started = performance.now()
  const table = tableFromFile(parseRouteFile(text), { mediaService: 'media', stripPrefix: true, servicesBalancer: 'p2c' })
  return { table, buildMs: performance.now() - started }
}

/** The same 1,000 requests for every size: indexes taken modulo the smallest table so every size sees hits. */
function requests(): Array<[url: string, host: string]> {
  const out: Array<[string, string]> = []
  for (let i = 0; i < 1000; i++) {
    const k = (i * 7) % 10
    switch (i % 4) {
      case 0:
        out.push([`/api/svc-${k}/v1/items/${i}?page=2`, 'edge.example.com'])
        break
      case 1:
        out.push([`/api/svc-${k}/v1/a/b/c`, 'edge.example.com'])
        break
      case 2:
        out.push([`/static/app-${i}.js`, `h${k}.example.com`])
        break
      default:
        out.push([`/index.html`, 'edge.example.com'])
    }
  }
  return out
}

function round(table: RouteTable, reqs: ReadonlyArray<[string, string]>, durationMs: number): number {
  let n = 0
  let sink = 0
  const until = performance.now() + durationMs
  while (performance.now() < until) {
    for (const [url, host] of reqs) sink += matchRoute(table, url, host).upstreamPath.length
    n += reqs.length
  }
  if (sink === 0) log('(impossible)')
  return n / (durationMs / 1000)
}

/** Under callgrind: build a table of `size` routes and run `matches` matches, then exit. */
function child(size: number, matches: number): void {
  const { table } = buildTable(size)
  const reqs = requests()
  let sink = 0
  for (let done = 0; done < matches; done += reqs.length) for (const [url, host] of reqs) sink += matchRoute(table, url, host).upstreamPath.length
  if (sink === 0) log('(impossible)')
}

/** Instructions callgrind counted for one child run. */
function countedInstructions(size: number, matches: number): number {
  const script = fileURLToPath(import.meta.url)
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, script, '--child-size', String(size), '--child-matches', String(matches)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
  const m = /Collected : (\d+)/.exec(r.stderr)
  if (r.status !== 0 || m?.[1] === undefined) throw new Error(`callgrind run failed (status ${r.status}): ${r.stderr.slice(-2000)}`)
  return Number(m[1])
}

function callgrindReport(): void {
  if (!haveCallgrind()) {
    log('valgrind/callgrind_control not found: install valgrind (npm run bench:instr installs it)')
    process.exit(2)
  }
  const [k1, k2] = CALLGRIND_MATCHES
  log(`bench:routes --callgrind — instructions per match = (Ir(build + ${k2.toLocaleString('en-US')} matches) − Ir(build + ${k1.toLocaleString('en-US')} matches)) / ${(k2 - k1).toLocaleString('en-US')}, node ${process.version}`)
  log('')
  log('| routes in table | Ir, build + K1 | Ir, build + K2 | instructions per match |')
  log('|---:|---:|---:|---:|')
  for (const n of [10, 10_000]) {
    const a = countedInstructions(n, k1)
    const b = countedInstructions(n, k2)
    log(`| ${(2 * n + 3).toLocaleString('en-US')} | ${a.toLocaleString('en-US')} | ${b.toLocaleString('en-US')} | ${Math.round((b - a) / (k2 - k1)).toLocaleString('en-US')} |`)
  }
}

function main(): void {
  let durationMs: number
  let rounds: number
  try {
    const opts: RawOptions = mergeOptions(process.env, parseFlags(process.argv.slice(2)), KNOWN)
    if (opts.CHILD_SIZE !== undefined) {
      child(readInt(opts, 'CHILD_SIZE', 10, 1, 1_000_000), readInt(opts, 'CHILD_MATCHES', 1000, 1, 100_000_000))
      return
    }
    if (opts.CALLGRIND !== undefined) {
      callgrindReport()
      return
    }
    durationMs = readDurationMs(opts, 'DURATION', 2000, 100)
    rounds = readInt(opts, 'ROUNDS', 5, 1, 50)
  } catch (err) {
    if (err instanceof OptionError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  const reqs = requests()
  log(`bench:routes — ${reqs.length} request targets, ${rounds} rounds of ${durationMs} ms per table, node ${process.version}`)
  log('')
  log('| routes in table | build ms | matches/s (median, min–max) | ns/match | trie nodes per match |')
  log('|---:|---:|---:|---:|---:|')
  const tables = SIZES.map((n) => ({ n, ...buildTable(n) }))
  // Warm-up on every table so the JIT has seen each before measuring.
  for (const t of tables) round(t.table, reqs, 300)
  const results = new Map<number, number[]>()
  for (let r = 0; r < rounds; r++) {
    // Rotate the order so no size always runs first.
    for (let i = 0; i < tables.length; i++) {
      const t = tables[(i + r) % tables.length]
      if (t === undefined) continue
      const list = results.get(t.n) ?? []
      list.push(round(t.table, reqs, durationMs))
      results.set(t.n, list)
    }
  }
  for (const t of tables) {
    const rates = (results.get(t.n) ?? []).sort((a, b) => a - b)
    const median = rates[Math.floor(rates.length / 2)] ?? 0
    const status: MatchStatus = { nodes: 0 }
    for (const [url, host] of reqs) matchRoute(t.table, url, host, status)
    log(
      `| ${t.table.routes.length.toLocaleString('en-US')} | ${t.buildMs.toFixed(1)} | ${Math.round(median).toLocaleString('en-US')} (${Math.round(rates[0] ?? 0).toLocaleString('en-US')}–${Math.round(rates.at(-1) ?? 0).toLocaleString('en-US')}) | ${(1e9 / median).toFixed(0)} | ${(status.nodes / reqs.length).toFixed(2)} |`,
    )
  }
}

main()
