// Runs the bench in its smoke configuration (BENCH_SMOKE=1: 1 round, 2 s,
// 10 connections, 50 WebSockets) for the targets that need no apt packages —
// direct, the http-proxy and undici baselines, and our router when built —
// and checks the JSON result has numbers for every measured target. No speed
// is asserted; only that each figure was measured.

import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const routerBuilt = existsSync(join(root, 'dist', 'router', 'src', 'main.js'))

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

/** Reads obj.a.b.c without casts; undefined when any step is missing. */
function path(obj: unknown, ...keys: (string | number)[]): unknown {
  let cur: unknown = obj
  for (const k of keys) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = Reflect.get(cur, k)
  }
  return cur
}

// The smoke run takes ≈ 30 s on a quiet machine; on a loaded one (npm run test:busy,
// other jobs) the same work takes several times longer. The budget (with tap's
// per-file timeout in package.json) is for a hung run, not a speed check.
t.test('bench smoke run writes a complete JSON result', { timeout: 360_000 }, async (t) => {
  const outDir = t.testdir({})
  const targets = ['direct', 'http-proxy', 'undici', 'node-floor', 'router']
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'loadtest', 'src', 'bench', 'main.ts'), '--targets', targets.join(',')], {
    cwd: root,
    env: { ...process.env, BENCH_SMOKE: '1', BENCH_OUT_DIR: outDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.equal(code, 0, 'bench exits 0', { output: output.slice(-3000) })

  const files = readdirSync(outDir)
  const json = files.find((f) => /^bench-.*\.json$/.test(f))
  t.ok(json !== undefined, 'a bench-<timestamp>.json was written')
  t.ok(files.some((f) => f.endsWith('.svg')), 'an SVG chart was written')
  if (json === undefined) return
  const svg = readFileSync(join(outDir, json.replace(/\.json$/, '.svg')), 'utf8')
  t.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/, 'the chart is an SVG document')
  const result: unknown = JSON.parse(readFileSync(join(outDir, json), 'utf8'))

  const measured = path(result, 'measured')
  const expected = routerBuilt ? targets : targets.filter((x) => x !== 'router')
  t.same(measured, expected, 'measured the targets available here')
  if (!routerBuilt) t.match(output, /router build not found/, 'says why the router was skipped')
  t.equal(path(result, 'options', 'rounds'), 1, 'smoke: 1 round')
  t.same(path(result, 'options', 'connections'), [10], 'smoke: 10 connections')
  t.equal(path(result, 'options', 'wsCount'), 50, 'smoke: 50 WebSockets')

  const summary = path(result, 'summary')
  t.ok(Array.isArray(summary), 'summary is a list')
  for (const name of expected) {
    const s = Array.isArray(summary) ? summary.find((x: unknown) => path(x, 'target') === name) : undefined
    t.ok(s !== undefined, `${name} has a summary`)
    t.equal(path(s, 'failedRounds'), 0, `${name}: no failed round`)
    for (const fig of ['rps', 'p50', 'p99', 'errors']) t.ok(isNum(path(s, 'http', 0, fig, 'median')), `${name}: http ${fig} is a number`)
    t.equal(path(s, 'ws', 'held', 'median'), 50, `${name}: every WebSocket of both opening steps held`)
    t.ok(isNum(path(s, 'ws', 'p99', 'median')), `${name}: ws echo p99 is a number`)
    if (name === 'direct') {
      t.equal(path(s, 'http', 0, 'cpuUsPerReq'), null, 'direct has no proxy CPU figure')
    } else {
      t.ok(isNum(path(s, 'http', 0, 'cpuUsPerReq', 'median')), `${name}: proxy CPU per request is a number`)
      t.ok(isNum(path(s, 'ws', 'rssPerConnKb', 'median')), `${name}: proxy RSS per connection is a number`)
      t.ok(isNum(path(s, 'ws', 'rssTotalPerConnKb', 'median')), `${name}: RSS including process growth is a number`)
    }
  }
})
