// Pure parts of the bench: /proc parsers, option parsing, aggregation into
// medians with ranges and ratios, the tables, the SVG chart and the generated
// nginx/HAProxy configurations (validated by the real binaries when present).

import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseStatTicks, parseVmRssKb } from '../../loadtest/src/bench/procfs.js'
import { benchRaw, parseBenchOptions } from '../../loadtest/src/bench/options.js'
import { aggregate, buildTables, cell, ratio, renderMarkdown, renderText, type TargetRound } from '../../loadtest/src/bench/report.js'
import { benchPanels, renderSvg } from '../../loadtest/src/bench/chart.js'
import { findBinary, haproxyConfig, nginxConfig } from '../../loadtest/src/bench/targets.js'
import { rotate } from '../../loadtest/src/bench/main.js'
import type { HttpRun, WsRun } from '../../loadtest/src/bench/measure.js'

t.test('procfs parsers', async (t) => {
  // comm with spaces and parentheses must not shift the fields.
  const stat = '1234 (node (worker) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 100 0 0'
  t.equal(parseStatTicks(stat), 325, 'utime 250 + stime 75')
  t.throws(() => parseStatTicks('garbage'), /no "\)"/)
  t.equal(parseVmRssKb('Name:\tnode\nVmPeak:\t  9000 kB\nVmRSS:\t   51234 kB\nThreads: 7\n'), 51234)
  t.throws(() => parseVmRssKb('Name: x\n'), /VmRSS/)
})

t.test('bench options', async (t) => {
  const full = parseBenchOptions(benchRaw({}, []))
  t.equal(full.rounds, 3)
  t.same(full.connections, [50, 200])
  t.equal(full.wsCount, 9000)
  t.equal(full.wsProcs, 2)
  t.equal(full.install, true)
  t.same(full.targets, ['direct', 'router', 'nginx', 'haproxy', 'http-proxy', 'undici', 'node-floor'])
  const smoke = parseBenchOptions(benchRaw({ BENCH_SMOKE: '1' }, []))
  t.same([smoke.rounds, smoke.durationMs, smoke.connections, smoke.wsCount, smoke.install], [1, 2000, [10], 50, false])
  const flags = parseBenchOptions(benchRaw({ BENCH_ROUNDS: '5' }, ['--rounds', '2', '--targets=direct,nginx', '--connections', '10,20']))
  t.equal(flags.rounds, 2, 'flags override env')
  t.same(flags.targets, ['direct', 'nginx'])
  t.same(flags.connections, [10, 20])
  t.throws(() => parseBenchOptions(benchRaw({}, ['--ws-count', '9600'])), /between 0 and 9500/)
  t.throws(() => parseBenchOptions(benchRaw({}, ['--targets', 'envoy'])), /unknown "envoy"/)
  t.throws(() => benchRaw({}, ['--colour', 'red']), /unknown flag --colour/)
  t.throws(() => parseBenchOptions(benchRaw({ BENCH_DURATION: 'soon' }, [])), /DURATION must be a duration/)
})

t.test('rotate', async (t) => {
  t.same(rotate(['a', 'b', 'c'], 0), ['a', 'b', 'c'])
  t.same(rotate(['a', 'b', 'c'], 1), ['b', 'c', 'a'])
  t.same(rotate(['a', 'b', 'c'], 4), ['b', 'c', 'a'])
  t.same(rotate([], 3), [])
})

function http(connections: number, rps: number, p99: number, cpu: number | null): HttpRun {
  return { connections, responses: rps * 10, errors: 0, badStatus: 0, rps, p50: p99 / 4, p99, cpuUsPerReq: cpu }
}
function ws(p99: number, rss: number | null): WsRun {
  return { count: 100, opened: 100, failed: 0, held: 100, echoes: 300, lost: 0, p50: p99 / 2, p99, rssBeforeKb: rss === null ? null : 1000, rssMidKb: rss === null ? null : 1000 + rss * 30, rssAfterKb: rss === null ? null : 1000 + rss * 100, rssPerConnKb: rss, rssTotalPerConnKb: rss === null ? null : rss * 1.5, errors: [] }
}

const runs: TargetRound[] = [
  { target: 'direct', round: 0, http: [http(50, 1000, 4, null)], ws: ws(2, null) },
  { target: 'direct', round: 1, http: [http(50, 1200, 6, null)], ws: ws(4, null) },
  { target: 'direct', round: 2, http: [http(50, 1100, 5, null)], ws: ws(3, null) },
  { target: 'nginx', round: 0, http: [http(50, 500, 10, 20)], ws: ws(6, 10) },
  { target: 'nginx', round: 1, http: [http(50, 550, 12, 30)], ws: ws(8, 12) },
  { target: 'nginx', round: 2, http: [], ws: null, error: 'start failed: boom' },
  { target: 'router', round: 0, http: [http(50, 275, 20, 60)], ws: ws(9, 5) },
]

t.test('aggregate: medians, ranges, failed rounds excluded', async (t) => {
  const [direct, nginx, router] = aggregate(runs, ['direct', 'nginx', 'router'], [50])
  t.same(direct?.http[0]?.rps, { median: 1100, min: 1000, max: 1200, n: 3 })
  t.equal(direct?.http[0]?.cpuUsPerReq, null, 'no proxy, no CPU figure')
  t.equal(nginx?.rounds, 3)
  t.equal(nginx?.failedRounds, 1)
  t.same(nginx?.http[0]?.rps, { median: 525, min: 500, max: 550, n: 2 }, 'the failed round is left out')
  t.same(nginx?.ws?.rssPerConnKb, { median: 11, min: 10, max: 12, n: 2 })
  t.same(nginx?.ws?.rssTotalPerConnKb, { median: 16.5, min: 15, max: 18, n: 2 })
  t.same(router?.http[0]?.cpuUsPerReq, { median: 60, min: 60, max: 60, n: 1 })
})

t.test('cells and ratios', async (t) => {
  t.equal(cell(null), '—')
  t.equal(cell({ median: 1100, min: 1000, max: 1200, n: 3 }), '1100 (1000–1200)')
  t.equal(cell({ median: 5, min: 5, max: 5, n: 3 }), '5.00')
  t.equal(ratio({ median: 60, min: 0, max: 0, n: 1 }, { median: 25, min: 0, max: 0, n: 1 }), '×2.40')
  t.equal(ratio(null, { median: 1, min: 1, max: 1, n: 1 }), '—')
  t.equal(ratio({ median: 1, min: 1, max: 1, n: 1 }, { median: 0, min: 0, max: 0, n: 1 }), '—')
})

t.test('tables', async (t) => {
  const summaries = aggregate(runs, ['direct', 'nginx', 'router'], [50])
  const tables = buildTables(summaries, [50])
  t.equal(tables.length, 2, 'one HTTP table per connection count + the WebSocket table')
  const text = renderText(tables)
  t.match(text, /HTTP keep-alive, 50 connections/)
  t.match(text, /router\s+275\s+×0\.25\s+×0\.52\s+5\.00\s+20\.0\s+0\s+60\.0\s+×2\.40/, 'router row: rps, vs direct, vs nginx, p50, p99, errors, CPU, CPU vs nginx')
  t.match(text, /nginx \(1 failed\)/)
  t.match(text, /WebSockets, 100 concurrent/)
  t.match(text, /router\s+100\/100\s+4\.50\s+9\.00\s+×3\.00\s+0\s+5\.00\s+×0\.45/)
  const md = renderMarkdown(tables)
  t.match(md, /^\*\*HTTP keep-alive, 50 connections/)
  t.match(md, /\| target \| req\/s \|/)
})

t.test('svg chart', async (t) => {
  const summaries = aggregate(runs, ['direct', 'nginx', 'router'], [50])
  const svg = renderSvg('Bench <test>', 'sub & title', benchPanels(summaries, [50]))
  t.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/)
  t.match(svg, /<\/svg>\n$/)
  t.match(svg, /Bench &lt;test&gt;/, 'text is escaped')
  t.match(svg, /sub &amp; title/)
  for (const title of ['HTTP throughput', 'HTTP p99 latency', 'Proxy CPU per request', 'WebSocket echo p99', 'Proxy memory per WebSocket']) t.match(svg, title)
  t.match(svg, /class="whisker"/, 'min–max whiskers drawn where rounds differ')
  const opens = (svg.match(/<(rect|text|path|line)\b/g) ?? []).length
  const closes = (svg.match(/<\/(rect|text)>|\/>/g) ?? []).length
  t.equal(opens, closes, 'every element is closed')
})

t.test('nginx config', async (t) => {
  const conf = nginxConfig('/tmp/x', 8080, { httpPort: 1111, wsPort: 2222 }, 9000)
  t.match(conf, /worker_processes 1;/)
  t.match(conf, /master_process off;/)
  t.match(conf, /worker_rlimit_nofile 20000;/)
  t.match(conf, /worker_connections 19500;/, '2 per WebSocket + 1/16 headroom, capped within the fd limit')
  t.match(nginxConfig('/tmp/x', 1, { httpPort: 1, wsPort: 2 }, 200), /worker_connections 1024;/, 'at least 1024')
  t.match(nginxConfig('/tmp/x', 1, { httpPort: 1, wsPort: 2 }, 3000), /worker_connections 6900;/, '2·3000·16/15 + 500')
  t.match(conf, /keepalive 256;/)
  t.match(conf, /proxy_set_header Upgrade \$http_upgrade;/)
  t.match(conf, /server 127\.0\.0\.1:1111;/)
  t.match(conf, /server 127\.0\.0\.1:2222;/)
  const bin = findBinary('nginx')
  if (bin === undefined) {
    t.comment('nginx not installed: config not validated by nginx -t')
    return
  }
  const dir = t.testdir({})
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d), { recursive: true })
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, 8080, { httpPort: 1111, wsPort: 2222 }, 100))
  const r = spawnSync(bin, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'err.log')], { encoding: 'utf8' })
  t.equal(r.status, 0, `nginx -t accepts it: ${r.stderr}`)
})

t.test('haproxy config', async (t) => {
  const cfg = haproxyConfig(8080, { httpPort: 1111, wsPort: 2222 }, 9000)
  t.match(cfg, /nbthread 1/)
  t.match(cfg, /maxconn 9200/)
  t.match(cfg, /timeout tunnel 1h/)
  t.match(cfg, /replace-path \/services\/bench\(\/\.\*\) \\1/)
  t.match(cfg, /server u1 127\.0\.0\.1:1111/)
  t.match(cfg, /server u1 127\.0\.0\.1:2222/)
  const bin = findBinary('haproxy')
  if (bin === undefined) {
    t.comment('haproxy not installed: config not validated by haproxy -c')
    return
  }
  const dir = t.testdir({ 'haproxy.cfg': cfg })
  const r = spawnSync(bin, ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' })
  t.equal(r.status, 0, `haproxy -c accepts it: ${r.stderr}${r.stdout}`)
})
