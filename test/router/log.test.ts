// JSON-lines logger: every line parses, fields and base merge, levels filter,
// lines are batched into one write per tick.
import t from 'tap'
import { createLogger, parseLogLevel } from '../../router/src/log.js'
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
  await new Promise((r) => setImmediate(r))
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
