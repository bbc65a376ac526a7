// Static discovery: parsing errors name the field; the file is hot-reloaded,
// and a bad file keeps the last good table.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseStaticTable, StaticDiscovery } from '../../router/src/discovery/static.js'
import { TargetNotFoundError } from '../../router/src/errors.js'
import { eventually } from '../fixtures/router.js'

t.test('parse errors', async (t) => {
  t.throws(() => parseStaticTable('{'), SyntaxError)
  t.throws(() => parseStaticTable('[]'), /services/)
  t.throws(() => parseStaticTable('{"services":{"a":[{"host":"h","port":0}]}}'), /services\.a\[0\]\.port/)
  t.throws(() => parseStaticTable('{"services":{"a":[{"host":"","port":1}]}}'), /host/)
  t.throws(() => parseStaticTable('{"services":{"a":[{"host":"h","port":1,"attributes":{"w":1}}]}}'), /attributes\.w/)
  const ok = parseStaticTable('{"services":{"a":[{"host":"h","port":1},{"id":"x","host":"h2","port":2,"attributes":{"status":"DRAINING"}}]}}')
  t.same(ok.get('a'), [
    { id: 'h:1', host: 'h', port: 1, attributes: {} },
    { id: 'x', host: 'h2', port: 2, attributes: { status: 'DRAINING' } },
  ])
})

t.test('hot reload keeps the last good table', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'static-'))
  const file = join(dir, 's.json')
  writeFileSync(file, JSON.stringify({ services: { a: [{ host: '127.0.0.1', port: 1 }] } }))
  const events: string[] = []
  const d = new StaticDiscovery({ file, watchIntervalMs: 20, onReload: (r) => events.push(r.ok ? 'ok' : `bad:${r.error}`) })
  t.teardown(() => d.close())
  t.equal((await d.resolve({ kind: 'service', service: 'a' })).endpoints[0]?.port, 1)
  await t.rejects(d.resolve({ kind: 'service', service: 'b' }), TargetNotFoundError)
  writeFileSync(file, JSON.stringify({ services: { a: [{ host: '127.0.0.1', port: 2 }], b: [{ host: '127.0.0.1', port: 3 }] } }))
  await eventually(async () => (await d.resolve({ kind: 'service', service: 'a' })).endpoints[0]?.port === 2)
  t.equal((await d.resolve({ kind: 'service', service: 'b' })).endpoints[0]?.port, 3)
  writeFileSync(file, '{"services": {"a": [{"host": "127.0.0.1", "port": "nope"}]}')
  await eventually(() => events.some((e) => e.startsWith('bad:')))
  t.equal((await d.resolve({ kind: 'service', service: 'a' })).endpoints[0]?.port, 2, 'last good table kept')
  t.same(
    (await d.resolve({ kind: 'instance', service: 'b', instanceId: '127.0.0.1:3' })).endpoints.map((e) => e.port),
    [3],
  )
  await t.rejects(d.resolve({ kind: 'instance', service: 'b', instanceId: 'nope' }), TargetNotFoundError)
})
