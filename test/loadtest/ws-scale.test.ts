// Runs the WebSocket scale test (loadtest/src/scale/ws-scale.ts, from the
// build) in a tiny configuration — 600 connections, 2 router workers, 2 media
// nodes, 2 generators, 1 s hold — and checks its JSON result: every connection
// opened and echoed, none failed, the router's aggregated active gauge matched
// while open and returned to 0, and the memory figures are present. No speed
// is asserted. Also table-tests the script's pure parts: /proc and Prometheus
// parsers, the router's ready line, IPC guards and option sizing.

import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { parseFdLimit, parsePpid } from '../../loadtest/src/scale/procfs.js'
import { parseWsActive } from '../../loadtest/src/scale/metrics.js'
import { parseListening, discoveryDocument } from '../../loadtest/src/scale/router-process.js'
import { asGenOpened, asMediaReady, asToGenerator } from '../../loadtest/src/scale/messages.js'
import { parseScaleOptions, shares } from '../../loadtest/src/scale/options.js'

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

t.test('parsers: /proc stat and limits, Prometheus gauge, router ready line', async (t) => {
  t.equal(parsePpid('123 (node (x) y) S 77 123 123 0 -1'), 77, 'ppid after a comm with spaces and parentheses')
  t.equal(parsePpid('garbage'), undefined, 'no ")" → undefined')
  t.equal(parseFdLimit('Max processes             unlimited            unlimited            processes\nMax open files            20000                20000                files     \n'), 20000)
  t.equal(parseFdLimit('Max open files            unlimited            unlimited            files\n'), -1, 'unlimited → -1')
  const prom = [
    '# HELP router_websockets_active Proxied WebSockets open now.',
    'router_websockets_active{route="other"} 5',
    'router_websockets_active{route="media"} 50000',
  ].join('\n')
  t.equal(parseWsActive(prom, 'media'), 50000, 'picks the media series')
  t.equal(parseWsActive('router_websockets_active{route="other"} 5', 'media'), 0, 'absent series → 0')
  t.same(parseListening('{"level":"info","msg":"router listening","port":8080,"adminPort":9090}'), { port: 8080, adminPort: 9090 })
  t.equal(parseListening('{"msg":"router listening","port":"8080","adminPort":9090}'), undefined, 'string port refused')
  t.equal(parseListening('not json'), undefined)
  const doc: unknown = JSON.parse(discoveryDocument([{ id: 'node-1', port: 1234 }]))
  t.same(doc, { services: { media: [{ id: 'node-1', host: '127.0.0.1', port: 1234, attributes: {} }] } }, 'static discovery document')
})

t.test('IPC guards accept well-formed messages only', async (t) => {
  t.same(asMediaReady({ type: 'media-ready', port: 4000, fdLimit: 20000 }), { type: 'media-ready', port: 4000, fdLimit: 20000 })
  t.equal(asMediaReady({ type: 'media-ready', port: 70000, fdLimit: 1 }), undefined, 'port out of range')
  t.same(asGenOpened({ type: 'gen-opened', opened: 3, failed: 1, reasons: { ECONNRESET: 1 }, openMs: 12.5 })?.reasons, { ECONNRESET: 1 })
  t.equal(asGenOpened({ type: 'gen-opened', opened: 3, failed: 1, reasons: { x: 'one' }, openMs: 1 }), undefined, 'non-numeric reason count')
  t.same(asToGenerator({ cmd: 'close', ratePerS: 0, timeoutMs: 1000 }), { cmd: 'close', ratePerS: 0, timeoutMs: 1000 })
  t.equal(asToGenerator({ cmd: 'open', baseUrl: 'ws://x', nodeIds: [], offset: 0, count: 1, concurrency: 1, localAddresses: [], handshakeTimeoutMs: 1, deadlineMs: 1 }), undefined, 'open without nodes')
  t.equal(asToGenerator({ cmd: 'exit' }), undefined)
})

t.test('options: process counts sized from --connections, caps enforced', async (t) => {
  const o = parseScaleOptions(['--connections', '50000'], '/tmp/out')
  t.same([o.workers, o.nodes, o.generators], [7, 5, 5], '50k → 7 workers, 5 nodes, 5 generators')
  t.same(o.sourceAddresses, ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'])
  t.throws(() => parseScaleOptions(['--connections', '50000', '--workers', '5'], '/tmp/out'), /raise --workers/, 'over 9,000 tunnels per worker')
  t.throws(() => parseScaleOptions(['--connections', '50000', '--generators', '4'], '/tmp/out'), /raise --generators/)
  t.throws(() => parseScaleOptions(['--bogus', '1'], '/tmp/out'), /unknown option --bogus/)
  t.same(shares(10, 3), [4, 3, 3], 'shares differ by at most one')
})
