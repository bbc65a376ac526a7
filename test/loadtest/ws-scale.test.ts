// Runs the WebSocket scale test (loadtest/src/scale/ws-scale.ts, from the
// build) in a tiny configuration — 600 connections, 2 router workers, 2 media
// nodes, 2 generators, 1 s hold — and checks its JSON result: every connection
// opened and echoed, none failed, the router's aggregated active gauge matched
// while open and returned to 0, and the memory figures are present. No speed
// is asserted.

import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const scaleJs = join(root, 'dist', 'loadtest', 'src', 'scale', 'ws-scale.js')

/** Reads obj.a.b.c without casts; undefined when any step is missing. */
function at(obj: unknown, ...keys: (string | number)[]): unknown {
  let cur: unknown = obj
  for (const k of keys) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = Reflect.get(cur, k)
  }
  return cur
}

function isPositive(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0
}

t.test('ws-scale: 600 proxied WebSockets through 2 router workers', { timeout: 60_000 }, async (t) => {
  t.ok(existsSync(scaleJs), `built script exists (${scaleJs}); npm test builds first`)
  if (!existsSync(scaleJs)) return
  const outDir = t.testdir({})
  const args = ['--connections', '600', '--workers', '2', '--nodes', '2', '--generators', '2', '--hold-ms', '1000', '--out-dir', outDir]
  const child = spawn(process.execPath, [scaleJs, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.equal(code, 0, 'exits 0', { output: output.slice(-3000) })

  const file = readdirSync(outDir).find((f) => /^ws-scale-.*\.json$/.test(f))
  t.ok(file !== undefined, 'a ws-scale-<timestamp>.json was written')
  if (file === undefined) return
  const r: unknown = JSON.parse(readFileSync(join(outDir, file), 'utf8'))

  t.equal(at(r, 'ok'), true, 'result ok', { problems: at(r, 'problems') })
  t.equal(at(r, 'connections', 'requested'), 600, 'requested 600')
  t.equal(at(r, 'connections', 'opened'), 600, 'opened = requested')
  t.equal(at(r, 'connections', 'failed'), 0, 'none failed')
  t.same(at(r, 'connections', 'failureReasons'), {}, 'no failure reasons')
  t.equal(at(r, 'connections', 'closedClean'), 600, 'all closed with 1000')
  t.equal(at(r, 'echo', 'lost'), 0, 'no echo lost')
  t.equal(at(r, 'echo', 'rttMs', 'count'), 600, 'one round trip per connection')
  t.ok(isPositive(at(r, 'echo', 'rttMs', 'p50')) && isPositive(at(r, 'echo', 'rttMs', 'p99')), 'echo p50/p99 present')
  t.equal(at(r, 'gauge', 'whenOpen'), 600, 'router_websockets_active{route="media"} = 600 while open')
  t.equal(at(r, 'gauge', 'afterClose'), 0, 'gauge back to 0 after close')
  t.equal(at(r, 'gauge', 'matched'), true, 'gauge matched')
  const workers = at(r, 'router', 'workers')
  t.ok(Array.isArray(workers) && workers.length === 2, 'RSS sampled for 2 workers')
  t.ok(isPositive(at(r, 'router', 'primary', 'afterKb')), 'primary RSS present')
  t.ok(isPositive(at(r, 'router', 'rssAfterKb')), 'router RSS total present')
  t.equal(typeof at(r, 'router', 'rssPerConnectionBytes'), 'number', 'RSS per connection present')
  t.ok(isPositive(at(r, 'mediaNodes', 0, 'afterKb')) && isPositive(at(r, 'generators', 0, 'afterKb')), 'media node and generator RSS present')
  t.match(output, /router RSS per connection/, 'prints the summary table')
})
