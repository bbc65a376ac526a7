// JSON-lines logger: every line parses, fields and base merge, levels filter,
// lines are batched into one write per tick.
import t from 'tap'
import { createLogger, parseLogLevel } from '../../router/src/log.js'

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
