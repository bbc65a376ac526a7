// The heap-snapshot summary behind `npm run bench:heap`, on real snapshots of
// a Node child: 1,000 objects of a known class kept between two snapshots
// must show as exactly one per unit, with their size; a malformed snapshot is
// refused with a clear error.

import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { perUnitGrowth, summarizeHeapSnapshot } from '../../loadtest/src/bench/heap-snapshot.js'

const CHILD = `
import { writeHeapSnapshot } from 'node:v8'
class HeapMarker { constructor(i) { this.a = i; this.b = i + 1 } }
const keep = []
writeHeapSnapshot(process.argv[2])
for (let i = 0; i < 1000; i++) keep.push(new HeapMarker(i))
writeHeapSnapshot(process.argv[3])
process.stdout.write(String(keep.length))
`

t.test('objects kept between two snapshots are counted per unit, with their size', { timeout: 60_000 }, async (t) => {
  const dir = t.testdir({ 'child.mjs': CHILD })
  const a = join(dir, 'a.heapsnapshot')
  const b = join(dir, 'b.heapsnapshot')
  const r = spawnSync(process.execPath, [join(dir, 'child.mjs'), a, b], { encoding: 'utf8', timeout: 50_000 })
  t.equal(r.status, 0, 'the child wrote both snapshots', { stderr: r.stderr })
  const before = summarizeHeapSnapshot(readFileSync(a, 'utf8'))
  const after = summarizeHeapSnapshot(readFileSync(b, 'utf8'))
  t.notOk(before.types.has('HeapMarker'), 'none before')
  t.equal(after.types.get('HeapMarker')?.count, 1000, 'all 1,000 after')
  const growth = perUnitGrowth(before, after, 1000)
  const row = growth.rows.find((x) => x.type === 'HeapMarker')
  t.ok(row !== undefined, 'the class is a row of the growth table')
  if (row === undefined) return
  t.equal(row.count, 1, 'one per unit')
  // Map, properties and elements pointers plus two in-object fields: 40 bytes
  // with pointer compression off (Node's default), 20 with it on.
  t.ok(row.bytes >= 20 && row.bytes <= 64, `a plausible object size (${row.bytes} bytes)`)
  t.ok(growth.totalBytes >= row.bytes, 'the total covers every type')
  t.ok(growth.rows.every((x, i, all) => i === 0 || (all[i - 1]?.bytes ?? 0) >= x.bytes), 'largest first')
})

t.test('a malformed snapshot is refused with a clear error', async (t) => {
  t.throws(() => summarizeHeapSnapshot('{}'), /no snapshot\.meta/)
  const meta = { node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'], node_types: [['hidden', 'object']] }
  t.throws(() => summarizeHeapSnapshot(JSON.stringify({ snapshot: { meta }, strings: ['x'], nodes: [1, 0, 1, 8] })), /unexpected node layout/)
  t.throws(() => summarizeHeapSnapshot(JSON.stringify({ snapshot: { meta }, strings: ['x'], nodes: [1, 0, 1, '8', 0] })), /nodes\[3\] is not a number/)
  t.throws(() => summarizeHeapSnapshot(JSON.stringify({ snapshot: { meta }, strings: ['x'], nodes: [1, 5, 1, 8, 0] })), /unknown type or string/)
  t.same(summarizeHeapSnapshot(JSON.stringify({ snapshot: { meta }, strings: ['x'], nodes: [1, 0, 1, 8, 0, 1, 0, 2, 8, 0] })).types.get('x'), { count: 2, bytes: 16 })
  t.throws(() => perUnitGrowth({ totalBytes: 0, types: new Map() }, { totalBytes: 0, types: new Map() }, 0), /units must be positive/)
})
