// W3C Trace Context parsing, table-driven: version 00 and future versions,
// all-zero ids, upper-case hex, flags; tracestate's grammar, uniqueness and
// 32-member limit; what is forwarded (new span id, same trace id).
import t from 'tap'
import { checkTracestate, newSpanId, newTraceId, parseTraceparent, spanIdOf, traceContextFrom, traceIdOf } from '../../router/src/proxy/trace-context.js'

const TID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PID = '00f067aa0ba902b7'

t.test('traceparent: valid and invalid values', async (t) => {
  const cases: Array<[string, string | undefined, { traceId: string; parentId: string; flags: string } | undefined]> = [
    ['version 00, sampled', `00-${TID}-${PID}-01`, { traceId: TID, parentId: PID, flags: '01' }],
    ['version 00, not sampled', `00-${TID}-${PID}-00`, { traceId: TID, parentId: PID, flags: '00' }],
    ['version 00, unknown flag bits kept', `00-${TID}-${PID}-09`, { traceId: TID, parentId: PID, flags: '09' }],
    ['absent', undefined, undefined],
    ['empty', '', undefined],
    ['version 00 with more after the flags', `00-${TID}-${PID}-01-extra`, undefined],
    ['version 00 one character short', `00-${TID}-${PID}-1`, undefined],
    ['version ff is invalid', `ff-${TID}-${PID}-01`, undefined],
    ['upper-case version', `0A-${TID}-${PID}-01`, undefined],
    ['upper-case trace id', `00-${TID.toUpperCase()}-${PID}-01`, undefined],
    ['upper-case parent id', `00-${TID}-00F067AA0BA902B7-01`, undefined],
    ['upper-case flags', `00-${TID}-${PID}-0A`, undefined],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${PID}-01`, undefined],
    ['all-zero parent id', `00-${TID}-${'0'.repeat(16)}-01`, undefined],
    ['non-hex in trace id', `00-${TID.slice(0, 31)}g-${PID}-01`, undefined],
    ['wrong separator', `00_${TID}-${PID}-01`, undefined],
    ['short trace id', `00-${TID.slice(1)}-${PID}-01x`, undefined],
    ['two traceparent fields joined by Node', `00-${TID}-${PID}-01, 00-${TID}-${PID}-01`, undefined],
    ['future version, exactly 55 characters', `cc-${TID}-${PID}-01`, { traceId: TID, parentId: PID, flags: '01' }],
    ['future version with more fields after a dash', `cc-${TID}-${PID}-01-what-the-future-holds`, { traceId: TID, parentId: PID, flags: '01' }],
    ['future version: only the sampled bit is known', `cc-${TID}-${PID}-0b`, { traceId: TID, parentId: PID, flags: '01' }],
    ['future version, not sampled', `cc-${TID}-${PID}-02`, { traceId: TID, parentId: PID, flags: '00' }],
    ['future version, no dash after the flags', `cc-${TID}-${PID}-01.what`, undefined],
    ['future version, all-zero trace id', `cc-${'0'.repeat(32)}-${PID}-01`, undefined],
    ['future version, shorter than 55', `cc-${TID}-${PID}-1`, undefined],
  ]
  for (const [name, input, expected] of cases) t.same(parseTraceparent(input), expected, name)
})

t.test('tracestate: kept only when every member is valid', async (t) => {
  const cases: Array<[string, string | undefined, string | undefined]> = [
    ['one member', 'congo=t61rcWkgMzE', 'congo=t61rcWkgMzE'],
    ['two members with spaces around commas', 'rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE', 'rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE'],
    ['multi-tenant key', 'fw529a3039@dt=FW4;0;0;0;0;0;0', 'fw529a3039@dt=FW4;0;0;0;0;0;0'],
    ['empty members are allowed', 'a=1,,b=2', 'a=1,,b=2'],
    ['absent', undefined, undefined],
    ['only empty members', ' , ', undefined],
    ['upper-case key', 'Congo=1', undefined],
    ['key starting with a digit (not multi-tenant)', '1abc=1', undefined],
    ['no equals sign', 'congo', undefined],
    ['empty value', 'congo=', undefined],
    ['value with a comma-like equals', 'a=b=c', undefined],
    ['value ending in a space', 'a=b ', 'a=b '],
    ['duplicate key', 'a=1,b=2,a=3', undefined],
    ['control character in value', 'a=b\u0001c', undefined],
    ['value of 257 characters', `a=${'x'.repeat(257)}`, undefined],
    ['value of 256 characters', `a=${'x'.repeat(256)}`, `a=${'x'.repeat(256)}`],
    ['32 members', Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(','), Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(',')],
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','), undefined],
  ]
  for (const [name, input, expected] of cases) t.equal(checkTracestate(input), expected, name)
})

t.test('a valid traceparent is continued with a new span id of the router', async (t) => {
  const c = traceContextFrom(`00-${TID}-${PID}-00`, 'congo=t61rcWkgMzE')
  t.match(c.traceparent, new RegExp(`^00-${TID}-[0-9a-f]{16}-00$`))
  t.equal(traceIdOf(c), TID)
  t.not(spanIdOf(c), PID, 'the router is the parent now')
  t.equal(c.parentId, PID)
  t.equal(c.tracestate, 'congo=t61rcWkgMzE')
  const future = traceContextFrom(`cc-${TID}-${PID}-01-more`, undefined)
  t.match(future.traceparent, new RegExp(`^00-${TID}-[0-9a-f]{16}-01$`), 'forwarded as version 00')
  const repeated = traceContextFrom(`00-${TID}-${PID}-01`, ['a=1', 'b=2'])
  t.equal(repeated.tracestate, 'a=1,b=2', 'repeated tracestate fields are one list')
})

t.test('an absent or invalid traceparent starts a new trace and drops tracestate', async (t) => {
  for (const tp of [undefined, 'garbage', `00-${'0'.repeat(32)}-${PID}-01`, [`00-${TID}-${PID}-01`, `00-${TID}-${PID}-01`]]) {
    const c = traceContextFrom(tp, 'congo=t61rcWkgMzE')
    t.match(c.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, `${String(tp)}: new, sampled`)
    t.not(traceIdOf(c), TID)
    t.equal(c.parentId, undefined)
    t.equal(c.tracestate, undefined, 'tracestate dropped')
    t.ok(parseTraceparent(c.traceparent), 'the new one is valid')
  }
})

t.test('new ids are random, lower-case hex, never all zeros', async (t) => {
  const seen = new Set<string>()
  let bad = 0
  for (let i = 0; i < 2000; i++) {
    const tr = newTraceId()
    const sp = newSpanId()
    if (!/^[0-9a-f]{32}$/.test(tr) || !/^[0-9a-f]{16}$/.test(sp) || /^0+$/.test(tr) || /^0+$/.test(sp)) bad++
    seen.add(tr)
    seen.add(sp)
  }
  t.equal(bad, 0, 'all well-formed')
  t.equal(seen.size, 4000, 'no repeats')
})

t.test('traces the router starts: version 00, sampled, new ids each time', async (t) => {
  const seen = new Set<string>()
  let bad = 0
  for (let i = 0; i < 2000; i++) {
    const c = traceContextFrom(undefined, 'a=1')
    if (!/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/.test(c.traceparent) || parseTraceparent(c.traceparent) === undefined || c.parentId !== undefined || c.tracestate !== undefined) bad++
    seen.add(traceIdOf(c))
    seen.add(spanIdOf(c))
  }
  t.equal(bad, 0, 'all well-formed, no parent, tracestate dropped')
  t.equal(seen.size, 4000, 'no trace or span id repeats')
})
