// The affinity decision and the registry convention, table-driven: marker ids
// → app state; cookie / X-Deployment → pin (only known deployments, lower
// case); pin + endpoints + time → deployment and Set-Cookie.
import t from 'tap'
import { appStateFrom, markerId, parseMarker, registryService, type Marker } from '../../router/src/affinity/app-registry.js'
import { affinityCookie, clientUsedHttps, cookieValue, decide, readAffinity, type AffinityOptions } from '../../router/src/affinity/decide.js'
import type { Endpoint } from '../../router/src/discovery/discovery.js'

const OPTS: AffinityOptions = { cookie: 'deployment', maxAgeSeconds: 3600 }

t.test('marker ids parse and format both ways', async (t) => {
  const rows: Array<[string, Marker | undefined]> = [
    ['test-20251027-122112Z', { kind: 'known', deployment: 'test-20251027-122112z' }],
    ['b', { kind: 'known', deployment: 'b' }],
    ['a.drain-1761568872', { kind: 'draining', deployment: 'a', deadlineSeconds: 1761568872 }],
    ['current-7.Test-A', { kind: 'current', deployment: 'test-a', seq: 7 }],
    ['current-7', { kind: 'known', deployment: 'current-7' }],
    ['a.b.c', undefined],
    ['a.drain-x', undefined],
    ['current-x.a', undefined],
    ['-bad', undefined],
    ['a_b', undefined],
    ['', undefined],
    ['current-1.', undefined],
  ]
  for (const [id, want] of rows) t.same(parseMarker(id), want, id)
  for (const m of [
    { kind: 'known', deployment: 'x1' },
    { kind: 'draining', deployment: 'x1', deadlineSeconds: 5 },
    { kind: 'current', deployment: 'x1', seq: 3 },
  ] as const) t.same(parseMarker(markerId(m)), m, m.kind)
  t.equal(registryService('Web'), '_deployments.web')
})

t.test('app state from markers', async (t) => {
  const s = appStateFrom(['A', 'b.drain-100', 'current-1.a', 'current-2.C', 'junk.x.y', 'b'])
  t.equal(s.current, 'c', 'highest seq wins')
  t.equal(s.currentSeq, 2)
  t.same([...s.deployments.keys()].sort(), ['a', 'b', 'c'], 'the current deployment is known even without its own marker')
  t.equal(s.deployments.get('b')?.drainDeadlineMs, 100_000, 'plain + drain marker → draining')
  t.equal(s.deployments.get('a')?.drainDeadlineMs, undefined)
  const none = appStateFrom(['a'])
  t.equal(none.current, undefined)
  t.equal(appStateFrom(['a.drain-5', 'a.drain-9']).deployments.get('a')?.drainDeadlineMs, 9000, 'two drains: the later deadline')
})

t.test('cookie parsing', async (t) => {
  t.equal(cookieValue('a=1; deployment=B-1; c=2', 'deployment'), 'B-1')
  t.equal(cookieValue('deployment="x"', 'deployment'), 'x')
  t.equal(cookieValue('xdeployment=1;deployment=2', 'deployment'), '2')
  t.equal(cookieValue('deployment=1; deployment=2', 'deployment'), '1', 'first occurrence')
  t.equal(cookieValue('other=1', 'deployment'), undefined)
  t.equal(cookieValue(undefined, 'deployment'), undefined)
})

const ep = (id: string, attributes: Record<string, string> = {}): Endpoint => ({ id, host: '127.0.0.1', port: 1, attributes })
const NOW = 1_000_000

t.test('decision table', async (t) => {
  // a: old release, b: current, d: draining until NOW+1000, e: drained (deadline passed)
  const state = appStateFrom(['a', 'current-2.b', 'd.drain-1001', 'e.drain-999'])
  interface Row {
    name: string
    cookie?: string
    header?: string
    endpoints?: Endpoint[]
    want: string
    reason: string
    setCookie: boolean
  }
  const rows: Row[] = [
    { name: 'new visitor → current, cookie set', want: 'b', reason: 'current', setCookie: true },
    { name: 'holder of current → no Set-Cookie', cookie: 'b', want: 'b', reason: 'pinned', setCookie: false },
    { name: 'holder of current, upper case', cookie: 'B', want: 'b', reason: 'pinned', setCookie: false },
    { name: 'holder of old healthy release stays', cookie: 'a', endpoints: [ep('a1')], want: 'a', reason: 'pinned', setCookie: false },
    { name: 'upper-case cookie value is the same deployment (no re-set)', cookie: 'A', endpoints: [ep('a1')], want: 'a', reason: 'pinned', setCookie: false },
    { name: 'old release without endpoints → current, re-set', cookie: 'a', endpoints: [], want: 'b', reason: 'fallback-unavailable', setCookie: true },
    { name: 'old release all DRAINING (no drain marker) → current', cookie: 'a', endpoints: [ep('a1', { status: 'DRAINING' })], want: 'b', reason: 'fallback-unavailable', setCookie: true },
    { name: 'old release one DRAINING one ACTIVE → stays', cookie: 'a', endpoints: [ep('a1', { status: 'DRAINING' }), ep('a2', { status: 'ACTIVE' })], want: 'a', reason: 'pinned', setCookie: false },
    { name: 'old release only UNHEALTHY (HEALTHY_OR_ELSE_ALL) → current', cookie: 'a', endpoints: [ep('a1', { healthStatus: 'UNHEALTHY' })], want: 'b', reason: 'fallback-unavailable', setCookie: true },
    { name: 'draining release before deadline keeps holders on DRAINING instances', cookie: 'd', endpoints: [ep('d1', { status: 'DRAINING' })], want: 'd', reason: 'pinned', setCookie: false },
    { name: 'draining release before deadline but dead → current', cookie: 'd', endpoints: [], want: 'b', reason: 'fallback-unavailable', setCookie: true },
    { name: 'drained release past deadline → current', cookie: 'e', endpoints: [ep('e1')], want: 'b', reason: 'fallback-drained', setCookie: true },
    { name: 'forged cookie → current', cookie: 'evil', want: 'b', reason: 'current', setCookie: true },
    { name: 'cookie that is no DNS label → current', cookie: '../x', want: 'b', reason: 'current', setCookie: true },
    { name: 'X-Deployment pins (and sets the cookie)', header: 'A', endpoints: [ep('a1')], want: 'a', reason: 'pinned', setCookie: true },
    { name: 'X-Deployment wins over the cookie', cookie: 'b', header: 'a', endpoints: [ep('a1')], want: 'a', reason: 'pinned', setCookie: true },
    { name: 'unknown X-Deployment falls back to the cookie', cookie: 'a', header: 'nope', endpoints: [ep('a1')], want: 'a', reason: 'pinned', setCookie: false },
  ]
  for (const r of rows) {
    const req = readAffinity({ cookie: r.cookie === undefined ? undefined : `x=1; deployment=${r.cookie}`, 'x-deployment': r.header }, state, OPTS)
    const looksUp = req.pinned !== undefined && req.pinned.id !== state.current
    t.equal(looksUp, r.endpoints !== undefined, `${r.name}: pinned endpoints looked up only for a known non-current pin`)
    const d = decide(req, state, r.endpoints, NOW, OPTS, false)
    t.equal(d?.deployment, r.want, r.name)
    t.equal(d?.reason, r.reason, `${r.name}: reason`)
    t.equal(d?.setCookie !== undefined, r.setCookie, `${r.name}: Set-Cookie`)
    if (d?.setCookie !== undefined) t.match(d.setCookie, new RegExp(`^deployment=${r.want}; `), `${r.name}: cookie names the chosen deployment`)
    // Only a holder of a deployment being drained, before its deadline, may use DRAINING instances.
    t.equal(d?.acceptDraining, r.want === 'd', `${r.name}: DRAINING instances ${r.want === 'd' ? 'admitted' : 'skipped'}`)
  }
})

t.test('no current deployment', async (t) => {
  const state = appStateFrom(['a'])
  const req = readAffinity({ cookie: 'deployment=a' }, state, OPTS)
  t.equal(decide(req, state, [ep('a1')], NOW, OPTS, false)?.deployment, 'a', 'a usable pin still works')
  t.equal(decide(readAffinity({}, state, OPTS), state, undefined, NOW, OPTS, false), undefined)
})

t.test('cookie attributes', async (t) => {
  t.equal(affinityCookie(OPTS, 'b', false), 'deployment=b; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax')
  t.equal(affinityCookie(OPTS, 'b', true), 'deployment=b; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure')
  t.equal(clientUsedHttps(false, 'https'), true)
  t.equal(clientUsedHttps(false, 'HTTPS, http'), true)
  t.equal(clientUsedHttps(false, 'http'), false)
  t.equal(clientUsedHttps(false, undefined), false)
  t.equal(clientUsedHttps(true, undefined), true)
})
