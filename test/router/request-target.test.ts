// Request-line and Host rules (router/src/routing/request-target.ts), table
// driven: dot segments resolved per RFC 3986 §5.2.4 with %2e as a dot and a
// climb above the prefix refused; fragments refused; Host counted; CONNECT and
// TRACE refused. Each refusal is a 4xx RouterError with a stable code.
import t from 'tap'
import { checkHost, checkMethod, checkNoFragment, resolveDotSegments } from '../../router/src/routing/request-target.js'
import { RouterError } from '../../router/src/errors.js'

function refusal(fn: () => unknown): { status: number; code: string; headers: Readonly<Record<string, string>> } | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    if (err instanceof RouterError) return { status: err.statusCode, code: err.code, headers: err.headers }
    throw err
  }
}

const DOTS: ReadonlyArray<readonly [path: string, resolved: string | 'climb']> = [
  ['/', '/'],
  ['/a/b', '/a/b'],
  ['/static/app.min.js', '/static/app.min.js'],
  ['/a/.hidden/b', '/a/.hidden/b'],
  ['/a/..b/c', '/a/..b/c'],
  ['/a/b...', '/a/b...'],
  ['/a/./b', '/a/b'],
  ['/a/b/../c', '/a/c'],
  ['/a/b/c/./../../g', '/a/g'],
  ['/a/..', '/'],
  ['/a/.', '/a/'],
  ['/.', '/'],
  ['/a/./', '/a/'],
  ['/a/b/..?x=/../..', '/a/?x=/../..'],
  ['/a?q=../..', '/a?q=../..'],
  ['/a/%2e/b', '/a/b'],
  ['/a/%2E%2e/b', '/b'],
  ['/a/.%2e/b', '/b'],
  ['/a/%2e./b', '/b'],
  ['/a/%2e%2e%2e/b', '/a/%2e%2e%2e/b'],
  ['/a/%2f../b', '/a/%2f../b'],
  ['/a//../b', '/a/b'],
  ['/..', 'climb'],
  ['/../x', 'climb'],
  ['/a/../..', 'climb'],
  ['/a/../../media/y', 'climb'],
  ['/%2e%2e/x', 'climb'],
  ['/%2E%2E', 'climb'],
  ['/a/%2e%2e/%2e%2e/b', 'climb'],
]

t.test('dot segments', async (t) => {
  for (const [path, expected] of DOTS) {
    if (expected === 'climb') t.match(refusal(() => resolveDotSegments(path)), { status: 400, code: 'INVALID_REQUEST_TARGET' }, `${path} climbs → 400`)
    else t.equal(resolveDotSegments(path), expected, `${path} → ${expected}`)
  }
  const plain = '/a/b?c=d'
  t.equal(resolveDotSegments(plain), plain, 'nothing to do: the same string back')
})

t.test('fragments', async (t) => {
  for (const target of ['/services/echo#frag', '/services/echo/a#frag', '/x?q=1#f', '#']) t.match(refusal(() => checkNoFragment(target)), { status: 400, code: 'INVALID_REQUEST_TARGET' }, target)
  for (const target of ['/services/echo', '/x?q=%23']) t.equal(refusal(() => checkNoFragment(target)), undefined, target)
})

t.test('Host', async (t) => {
  const cases: ReadonlyArray<readonly [version: string, raw: readonly string[], refused: boolean]> = [
    ['1.1', ['Host', 'a'], false],
    ['1.1', ['host', 'a', 'Accept', '*/*'], false],
    ['1.1', ['Accept', '*/*'], true],
    ['1.1', [], true],
    ['1.0', [], false],
    ['1.1', ['Host', 'a', 'HOST', 'b'], true],
    ['1.0', ['Host', 'a', 'host', 'a'], true],
    ['1.1', ['X-Host', 'a', 'Hostx', 'b'], true],
  ]
  for (const [version, raw, refused] of cases) {
    const r = refusal(() => checkHost(version, raw))
    if (refused) t.match(r, { status: 400, code: 'INVALID_HOST' }, `HTTP/${version} ${JSON.stringify(raw)} → 400`)
    else t.equal(r, undefined, `HTTP/${version} ${JSON.stringify(raw)} passes`)
  }
})

t.test('methods', async (t) => {
  for (const m of ['CONNECT', 'TRACE']) {
    const r = refusal(() => checkMethod(m))
    t.match(r, { status: 405, code: 'METHOD_NOT_ALLOWED' }, m)
    t.match(r?.headers.allow, /GET/)
    t.notMatch(r?.headers.allow, /TRACE|CONNECT/)
  }
  for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND']) t.equal(refusal(() => checkMethod(m)), undefined, m)
})
