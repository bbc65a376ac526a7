// JSON-lines logger: every line parses, fields and base merge, levels filter;
// access lines are batched (a full batch or the interval, on an injected
// timer), other lines go out at the end of their event-loop turn with the
// access lines before them, and nothing is lost when the process exits.
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createLogger, parseLogLevel, FLUSH_CHARS, FLUSH_INTERVAL_MS } from '../../router/src/log.js'
import { httpAccessJson, wsAccessEnd, wsAccessHead, wsAccessRefused } from '../../router/src/access-log.js'

t.test('lines parse, batch and filter', async (t) => {
  const writes: string[] = []
  const l = createLogger({ level: 'info', write: (c) => writes.push(c), base: { component: 'router' } })
  l.access({ requestId: 'r"1', status: 200, path: '/a\nb' })
  l.log('debug', 'hidden')
  l.log('warn', 'note', {})
  l.log('error', 'bad "thing"', { code: 'X' })
  await new Promise((r) => setImmediate(r))
  t.equal(writes.length, 1, 'one write for the batch')
  const lines = (writes[0] ?? '').split('\n').filter((x) => x !== '').map((x) => JSON.parse(x) as Record<string, unknown>)
  t.equal(lines.length, 3)
  t.match(lines[0], { level: 'info', msg: 'access', component: 'router', requestId: 'r"1', status: 200, path: '/a\nb' })
  t.match(lines[1], { level: 'warn', msg: 'note', component: 'router' })
  t.match(lines[2], { level: 'error', msg: 'bad "thing"', code: 'X' })
  t.match(String(lines[0]?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.equal(parseLogLevel(undefined), 'info')
  t.throws(() => parseLogLevel('loud'), /LOG_LEVEL/)
})

t.test('access lines from pre-written JSON fields: escaped where a client chose the text', async (t) => {
  const writes: string[] = []
  const l = createLogger({ level: 'info', write: (c) => writes.push(c), base: { component: 'router' } })
  const trace = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01', parentId: '00f067aa0ba902b7', tracestate: undefined }
  const headers = { 'user-agent': 'ua "with" \\ and \u0001 and ü', 'x-amzn-trace-id': 'x'.repeat(300) }
  l.accessJson(httpAccessJson('rid-1', trace, headers, 'GET', '/a"b\\c\nd', 'rou"te', 200, 1.23456, -1, 'h"ost:1', 'i\nd', 2, 'UPSTREAM_ERROR', '10.0.0.1', 10, 20))
  const head = wsAccessHead('rid-2', { ...trace, parentId: undefined }, {}, '/media/n/ws', 'media', 101, '10.0.0.2:80', 'n', '10.0.0.3', 0.5)
  l.accessJson(head + wsAccessEnd('client', 12.5, 3, 4, 1000, 1005))
  l.accessJson(wsAccessHead('rid-3', trace, {}, '/x', 'none', 404, undefined, undefined, '10.0.0.3', -1) + wsAccessRefused('NO_ROUTE', 1))
  l.flush()
  const lines = (writes[0] ?? '').split('\n').filter((x) => x !== '').map((x) => JSON.parse(x) as Record<string, unknown>)
  t.equal(lines.length, 3)
  t.same(Object.keys(lines[0] ?? {}).slice(0, 5), ['time', 'level', 'msg', 'component', 'requestId'])
  t.match(lines[0], {
    msg: 'access',
    requestId: 'rid-1',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: 'b7ad6b7169203331',
    parentId: '00f067aa0ba902b7',
    method: 'GET',
    path: '/a"b\\c\nd',
    route: 'rou"te',
    status: 200,
    durationMs: 1.235,
    upstream: 'h"ost:1',
    instance: 'i\nd',
    attempts: 2,
    retries: 1,
    error: 'UPSTREAM_ERROR',
    client: '10.0.0.1',
    userAgent: 'ua "with" \\ and \u0001 and ü',
    bytesIn: 10,
    bytesOut: 20,
  })
  t.equal(String(lines[0]?.['amznTraceId']).length, 257, 'capped at 256 characters and an ellipsis')
  t.notOk('upstreamTtfbMs' in (lines[0] ?? {}), 'no response head, no time to first byte')
  t.match(lines[1], { requestId: 'rid-2', kind: 'websocket', status: 101, upstreamTtfbMs: 0.5, closedBy: 'client', durationMs: 12.5, bytesFromClient: 3, bytesFromUpstream: 4, clientCloseCode: 1000, upstreamCloseCode: 1005 })
  t.notOk('parentId' in (lines[1] ?? {}))
  t.match(lines[2], { requestId: 'rid-3', status: 404, error: 'NO_ROUTE', durationMs: 1 })
  t.notOk('clientCloseCode' in (lines[2] ?? {}))
})

t.test('the time field is what Date#toISOString gives, across second boundaries and for odd clocks', async (t) => {
  const times = [0, 1, 999, 1000, 1001, 1_764_755_744_123, 1_764_755_744_999, 1_764_755_745_000, 1_764_755_745_001, 1_764_755_744_500, 253_402_300_799_999, 253_402_300_800_000, -1, 1.5]
  let i = 0
  const writes: string[] = []
  const l = createLogger({ level: 'info', write: (c) => writes.push(c), now: () => times[i] ?? 0 })
  for (i = 0; i < times.length; i++) {
    l.accessJson(`,"i":${i}`)
    l.log('info', 'x', { i })
  }
  l.flush()
  const lines = writes.join('').split('\n').filter((x) => x !== '').map((x) => JSON.parse(x) as { time: string; i: number })
  t.equal(lines.length, 2 * times.length)
  for (const line of lines) t.equal(line.time, new Date(times[line.i] ?? 0).toISOString(), `t=${times[line.i]}`)
})

/** Timers a test fires by hand: what the logger armed, and whether it was cleared. */
function fakeTimers(): { timers: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(h: unknown): void }; armed: Array<{ fn: () => void; ms: number; cleared: boolean }>; fire(): void } {
  const armed: Array<{ fn: () => void; ms: number; cleared: boolean }> = []
  return {
    armed,
    timers: {
      setTimeout: (fn, ms) => {
        const h = { fn, ms, cleared: false }
        armed.push(h)
        return h
      },
      clearTimeout: (h) => {
        ;(h as { cleared: boolean }).cleared = true
      },
    },
    fire() {
      const live = armed.filter((h) => !h.cleared)
      for (const h of live) h.cleared = true
      for (const h of live) h.fn()
    },
  }
}

const parse = (chunk: string): Array<Record<string, unknown>> => chunk.split('\n').filter((x) => x !== '').map((x) => JSON.parse(x) as Record<string, unknown>)

t.test('access lines wait for the interval, then go out in one write', async (t) => {
  t.equal(FLUSH_CHARS, 16 * 1024)
  t.ok(FLUSH_INTERVAL_MS > 0 && FLUSH_INTERVAL_MS <= 1000, 'a short interval')
  const writes: string[] = []
  const ft = fakeTimers()
  const l = createLogger({ write: (c) => writes.push(c), timers: ft.timers })
  for (let i = 0; i < 5; i++) l.accessJson(`,"i":${i}`)
  await new Promise((r) => setImmediate(r))
  t.equal(writes.length, 0, 'nothing written at the end of the turn')
  t.equal(ft.armed.length, 1, 'one timer for the batch')
  t.equal(ft.armed[0]?.ms, FLUSH_INTERVAL_MS)
  ft.fire()
  t.equal(writes.length, 1, 'one write')
  t.same(parse(writes[0] ?? '').map((x) => x['i']), [0, 1, 2, 3, 4], 'every line, in order')
  l.accessJson(',"i":5')
  t.equal(ft.armed.length, 2, 'the next line arms the next timer')
  ft.fire()
  t.same(parse(writes[1] ?? '').map((x) => x['i']), [5])
})

t.test('a full batch is written at once', async (t) => {
  const writes: string[] = []
  const ft = fakeTimers()
  const l = createLogger({ write: (c) => writes.push(c), timers: ft.timers, flushChars: 500 })
  // Each line is about 190 characters: two stay under 500, the third passes it.
  const pad = 'x'.repeat(100)
  l.accessJson(`,"i":0,"pad":"${pad}"`)
  l.accessJson(`,"i":1,"pad":"${pad}"`)
  t.equal(writes.length, 0, 'under the size: waiting')
  l.accessJson(`,"i":2,"pad":"${pad}"`)
  t.equal(writes.length, 1, 'over the size: written in the same call')
  t.same(parse(writes[0] ?? '').map((x) => x['i']), [0, 1, 2])
  t.ok(ft.armed[0]?.cleared, 'the interval timer is disarmed')
  t.equal(ft.armed.length, 1)
})

t.test('other lines go out at the end of the turn, after the access lines before them', async (t) => {
  const writes: string[] = []
  const ft = fakeTimers()
  const l = createLogger({ write: (c) => writes.push(c), timers: ft.timers })
  l.accessJson(',"i":0')
  l.log('warn', 'something', { i: 1 })
  l.accessJson(',"i":2')
  t.equal(writes.length, 0, 'not before the end of the turn')
  await new Promise((r) => setImmediate(r))
  t.equal(writes.length, 1, 'one write')
  t.same(parse(writes[0] ?? '').map((x) => [x['msg'], x['i']]), [['access', 0], ['something', 1], ['access', 2]], 'in the order they were logged')
  t.ok(ft.armed.every((h) => h.cleared), 'the access timer is disarmed')
  l.flush()
  t.equal(writes.length, 1, 'flush() with nothing waiting writes nothing')
})

t.test('flush() writes at once', async (t) => {
  const writes: string[] = []
  const ft = fakeTimers()
  const l = createLogger({ write: (c) => writes.push(c), timers: ft.timers })
  l.accessJson(',"i":0')
  l.flush()
  t.equal(writes.length, 1)
  t.ok(ft.armed[0]?.cleared)
})

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Runs `code` (an ES module that may import router/src/log.ts) in a child process; its exit code and stdout. */
function runChild(code: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const childHead = `import { createLogger, flushOnExit } from './router/src/log.ts'
const logger = createLogger({ base: { component: 'router' } })
flushOnExit(() => logger)
for (let i = 0; i < 50; i++) logger.accessJson(',"i":' + i)
`

t.test('no buffered line is lost when the process exits', async (t) => {
  for (const [how, tail, exitCode] of [
    ['uncaught exception', "setTimeout(() => { logger.accessJson(',\"i\":50'); throw new Error('boom') }, 1)", 1],
    ['process.exit()', "logger.accessJson(',\"i\":50'); process.exit(3)", 3],
    ['the event loop running empty', "logger.accessJson(',\"i\":50')", 0],
  ] as const) {
    const r = await runChild(childHead + tail)
    t.equal(r.code, exitCode, `${how}: exit code (stderr: ${r.stderr.slice(0, 300)})`)
    const lines = parse(r.stdout)
    t.same(
      lines.map((x) => x['i']),
      Array.from({ length: 51 }, (_, i) => i),
      `${how}: all 51 lines`,
    )
  }
})
