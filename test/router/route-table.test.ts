// The route table from ROUTES_FILE: validation naming entry and field, the
// prefix tree (longest prefix, literal over capture, hosts most specific
// first), request-target rules on every route, and 10,000 routes matched
// with the same work as 10.
import t from 'tap'
import { parseRouteFile, RouteFileError } from '../../router/src/routing/route-file.js'
import { matchRoute, tableFromFile, type MatchStatus, type RouteTable } from '../../router/src/routing/routes.js'
import { InvalidCaptureError, InvalidRequestTargetError, NoRouteError } from '../../router/src/errors.js'

const OPTS = { mediaService: 'media', stripPrefix: true, servicesBalancer: 'p2c' as const }

function table(doc: unknown): RouteTable {
  return tableFromFile(parseRouteFile(JSON.stringify(doc)), OPTS)
}

function problems(doc: unknown): string[] {
  try {
    table(doc)
  } catch (err) {
    if (err instanceof RouteFileError) return [...err.problems]
    throw err
  }
  return []
}

const APP = {
  routes: [
    { name: 'gallery', path: '/api/gallery/*', service: 'gallery' },
    { name: 'streaming', path: '/api/stream/*', service: 'streaming', stripPrefix: false, balancer: 'round-robin', timeouts: { headersMs: 5000 }, recordType: 'A', port: 8080 },
    { name: 'admin', host: 'admin.example.com', path: '/*', service: 'admin-ui' },
    { name: 'tenant', host: '*.tenants.example.com', path: '/*', service: 'tenant' },
    { name: 'tenant-api', host: '*.example.com', path: '/api/*', service: 'tenant-api' },
    { name: 'apps', path: '/apps/{app}/*', service: '{app}' },
    { name: 'apps-special', path: '/apps/special/*', service: 'special' },
    { name: 'web', path: '/*', service: 'web' },
  ],
}

t.test('a good file: built-ins first, then the entries, defaults filled in', async (t) => {
  const tb = table(APP)
  t.same(tb.routes.map((r) => r.name), ['media', 'services', 'gallery', 'streaming', 'admin', 'tenant', 'tenant-api', 'apps', 'apps-special', 'web'])
  const g = tb.routes[2]
  t.match(g, { name: 'gallery', format: '/api/gallery/...', stripPrefix: true, balancer: 'p2c', drainingAcceptsHttp: false, lookup: undefined, source: 'file' })
  const s = tb.routes[3]
  t.match(s, { stripPrefix: false, balancer: 'round-robin', timeouts: { headersMs: 5000 }, lookup: { recordType: 'A', defaultPort: 8080 } })
  t.same(table({ builtins: false, routes: APP.routes }).routes.map((r) => r.name).slice(0, 2), ['gallery', 'streaming'])
  t.match(tb.routes[0], { name: 'media', balancer: 'round-robin', drainingAcceptsHttp: true, stripPrefix: true })
  t.match(tb.routes[1], { name: 'services', balancer: 'p2c', drainingAcceptsHttp: false, stripPrefix: true })
  const env = tableFromFile(parseRouteFile('{"routes": []}'), { mediaService: 'nodes', stripPrefix: false, servicesBalancer: 'weighted' })
  t.match(env.routes[1], { name: 'services', balancer: 'weighted', stripPrefix: false }, 'SERVICES_BALANCER and STRIP_PREFIX reach the built-ins')
  t.same(env.routes[0]?.target('n1'), { kind: 'instance', service: 'nodes', instanceId: 'n1' }, 'MEDIA_SERVICE too')
})

t.test('fixed prefixes, the default route and captures', async (t) => {
  const tb = table(APP)
  const cases: Array<[url: string, route: string, target: unknown, upstream: string, prefix: string]> = [
    ['/api/gallery/photos/1?size=s', 'gallery', { kind: 'service', service: 'gallery' }, '/photos/1?size=s', '/api/gallery'],
    ['/api/gallery', 'gallery', { kind: 'service', service: 'gallery' }, '/', '/api/gallery'],
    ['/api/gallery?x', 'gallery', { kind: 'service', service: 'gallery' }, '/?x', '/api/gallery'],
    ['/api/galleryx/1', 'web', { kind: 'service', service: 'web' }, '/api/galleryx/1', ''],
    ['/api/stream/live', 'streaming', { kind: 'service', service: 'streaming', lookup: { recordType: 'A', defaultPort: 8080 } }, '/api/stream/live', ''],
    ['/', 'web', { kind: 'service', service: 'web' }, '/', ''],
    ['/index.html?a=1', 'web', { kind: 'service', service: 'web' }, '/index.html?a=1', ''],
    ['/apps/shop/cart', 'apps', { kind: 'service', service: 'shop' }, '/cart', '/apps/shop'],
    ['/apps/special/x', 'apps-special', { kind: 'service', service: 'special' }, '/x', '/apps/special'],
    ['/apps', 'web', { kind: 'service', service: 'web' }, '/apps', ''],
    ['/services/dep-1/x', 'services', { kind: 'service', service: 'dep-1' }, '/x', '/services/dep-1'],
    ['/media/n1/ws', 'media', { kind: 'instance', service: 'media', instanceId: 'n1' }, '/ws', '/media/n1'],
    ['/media', 'web', { kind: 'service', service: 'web' }, '/media', ''],
  ]
  for (const [url, route, target, upstream, prefix] of cases) {
    const m = matchRoute(tb, url, 'www.other.org')
    t.equal(m.route.name, route, `${url} → ${route}`)
    t.same(m.target, target, `${url} target`)
    t.equal(m.upstreamPath, upstream, `${url} upstream path`)
    t.equal(m.strippedPrefix, prefix, `${url} prefix`)
  }
  t.throws(() => matchRoute(tb, '/apps/Bad_Name/x'), InvalidCaptureError)
  t.throws(() => matchRoute(tb, '/apps//x'), InvalidCaptureError)
  t.throws(() => matchRoute(tb, '/apps/./shop/x'), InvalidCaptureError, 'a dot segment as the capture')
})

t.test('hosts: exact, then the longest *. suffix, then any host; case and port ignored', async (t) => {
  const tb = table(APP)
  const cases: Array<[host: string | undefined, url: string, route: string]> = [
    ['admin.example.com', '/x', 'admin'],
    ['ADMIN.Example.com:8443', '/x', 'admin'],
    ['admin.example.com.', '/x', 'admin'],
    ['admin.example.com', '/api/gallery/x', 'admin'],
    ['a.tenants.example.com', '/api/x', 'tenant'],
    ['a.b.tenants.example.com', '/x', 'tenant'],
    ['shop.example.com', '/api/x', 'tenant-api'],
    ['shop.example.com', '/other', 'web'],
    ['example.com', '/api/x', 'web'],
    ['tenants.example.com', '/x', 'web'],
    [undefined, '/x', 'web'],
    ['[::1]:8080', '/api/gallery/', 'gallery'],
  ]
  for (const [host, url, route] of cases) t.equal(matchRoute(tb, url, host).route.name, route, `${host ?? '(none)'} ${url}`)
})

t.test('without a default route an unknown path is 404; the error lists a bounded number of formats', async (t) => {
  const many = { routes: Array.from({ length: 50 }, (_, i) => ({ name: `r${i}`, path: `/r${i}/*`, service: `s${i}` })) }
  const tb = table(many)
  const err = (() => {
    try {
      matchRoute(tb, '/nope')
    } catch (e) {
      return e
    }
    return undefined
  })()
  t.ok(err instanceof NoRouteError)
  if (err instanceof NoRouteError) {
    t.match(err.message, '/media/<nodeId>/...')
    t.ok(err.message.length < 1000, 'message stays short')
    t.match(err.message, /and 42 more/)
  }
})

t.test('request-target rules hold on every route', async (t) => {
  const tb = table(APP)
  t.equal(matchRoute(tb, '/api/gallery/a/../b').upstreamPath, '/b')
  t.equal(matchRoute(tb, '/api/stream/a/./b/../c').upstreamPath, '/api/stream/a/c', 'no strip: resolved after the prefix')
  t.equal(matchRoute(tb, '/a/../b').upstreamPath, '/b', 'the default route resolves too')
  for (const url of [
    '/api/gallery/../stream/x', // climbs above the gallery prefix
    '/api/gallery/%2e%2e/x',
    '/../x', // above the default route's '/'
    '/a/%2E%2E/..',
    '/api/./gallery/x', // matched '/*' but resolved is /api/gallery/x: another route
    '/x/../api/gallery/y',
    '/api/gallery/x#frag',
  ]) {
    t.throws(() => matchRoute(tb, url), InvalidRequestTargetError, url)
  }
})

t.test('validation names the entry and the field, and reports every problem', async (t) => {
  const cases: Array<[doc: unknown, expected: RegExp]> = [
    [{ routes: [{ path: '/a/*', service: 'a' }] }, /^routes\[0\]: name: is required$/],
    [{ routes: [{ name: 'Bad Name', path: '/a/*', service: 'a' }] }, /routes\[0\] "Bad Name": name: must be/],
    [{ routes: [{ name: 'a', path: '/a', service: 'a' }] }, /routes\[0\] "a": path: must start with '\/' and end with '\/\*'/],
    [{ routes: [{ name: 'a', path: '/a/../b/*', service: 'a' }] }, /routes\[0\] "a": path: segment "\.\."/],
    [{ routes: [{ name: 'a', path: '/a/%2e/*', service: 'a' }] }, /routes\[0\] "a": path: segment "%2e"/],
    [{ routes: [{ name: 'a', path: '/{x}/b/*', service: '{x}' }] }, /path: a capture \(\{x\}\) may only be the last segment/],
    [{ routes: [{ name: 'a', path: '/a/{x}/*', service: 'svc' }] }, /path: the capture \{x\} is used by neither/],
    [{ routes: [{ name: 'a', path: '/a/*', service: '{x}' }] }, /service: \{x\} needs a capture in path/],
    [{ routes: [{ name: 'a', path: '/a/*', service: 'Gallery' }] }, /routes\[0\] "a": service: must be a Cloud Map service name/],
    [{ routes: [{ name: 'a', path: '/a/*', service: 'a', host: 'x.com:80' }] }, /routes\[0\] "a": host: must be/],
    [{ routes: [{ name: 'a', path: '/a/*', service: 'a', balancer: 'fastest' }] }, /routes\[0\] "a": balancer: must be one of p2c, round-robin, weighted/],
    [{ routes: [{ name: 'a', path: '/a/*', service: 'a', timeouts: { headersMs: -1 } }] }, /routes\[0\] "a": timeouts.headersMs: must be a whole number/],
    [{ routes: [{ name: 'a', path: '/a/*', service: 'a', timeouts: { idleMs: 1 } }] }, /routes\[0\] "a": timeouts.idleMs: unknown field/],
    [{ routes: [{ name: 'a', path: '/a/*', service: 'a', recordType: 'A' }] }, /routes\[0\] "a": port: is required with recordType "A"/],
    [{ routes: [{ name: 'a', path: '/a/*', service: 'a', strip: true }] }, /routes\[0\] "a": strip: unknown field/],
    [{ routes: [{ name: 'a', path: '/a/*', service: 'a', stripPrefix: 'yes' }] }, /routes\[0\] "a": stripPrefix: must be true or false/],
    [{ routes: [{ name: 'none', path: '/a/*', service: 'a' }] }, /name: "none" is reserved/],
    [{ routes: [{ name: 'a', path: '/a/*', service: 'a' }, { name: 'a', path: '/b/*', service: 'b' }] }, /routes\[1\] "a": name: already used by routes\[0\] "a"/],
    [{ routes: [{ name: 'a', path: '/x/*', service: 'a' }, { name: 'b', path: '/x/*', service: 'b' }] }, /routes\[1\] "b": path: same host and path as routes\[0\] "a"/],
    [{ routes: [{ name: 'm2', path: '/media/{id}/*', service: 'media', instance: '{id}' }] }, /routes\[0\] "m2": path: same host and path as built-in route "media" \(set "builtins": false/],
    [{ routes: [{ name: 'media', path: '/m/*', service: 'm' }] }, /routes\[0\] "media": name: already used by built-in route "media"/],
    [{ routes: {} }, /^routes: must be an array$/],
    [{ builtins: 'no', routes: [] }, /^builtins: must be true or false$/],
    ['[1]', /expected an object/],
  ]
  for (const [doc, expected] of cases) {
    const got = typeof doc === 'string' ? problemsOfText(doc) : problems(doc)
    t.ok(got.some((p) => expected.test(p)), `${JSON.stringify(doc)} → ${expected}; got ${JSON.stringify(got)}`)
  }
  t.match(problemsOfText('{"routes": ['), [/not valid JSON/])
  // Every problem at once, each under its own entry.
  const all = problems({ routes: [{ name: 'a', path: 'x', service: 'a' }, { name: 'b', path: '/b/*', service: 'B' }] })
  t.equal(all.length, 2)
  t.match(all, [/routes\[0\] "a": path/, /routes\[1\] "b": service/])
  t.same(table({ builtins: false, routes: [{ name: 'm2', path: '/media/{id}/*', service: 'media', instance: '{id}' }] }).routes.map((r) => r.name), ['m2'])
})

function problemsOfText(text: string): string[] {
  try {
    parseRouteFile(text)
  } catch (err) {
    if (err instanceof RouteFileError) return [...err.problems]
    throw err
  }
  return []
}

t.test('10,000 routes: every one reachable, and a match does the same work as with 10', async (t) => {
  const routes = (n: number): unknown => ({
    routes: [
      ...Array.from({ length: n }, (_, i) => ({ name: `svc-${i}`, path: `/api/svc-${i}/v1/*`, service: `svc-${i}` })),
      ...Array.from({ length: n }, (_, i) => ({ name: `host-${i}`, host: `h${i}.example.com`, path: '/*', service: `host-${i}` })),
      { name: 'web', path: '/*', service: 'web' },
    ],
  })
  const small = table(routes(10))
  const big = table(routes(10_000))
  t.equal(big.routes.length, 20_003)
  for (let i = 0; i < 10_000; i += 97) {
    t.equal(matchRoute(big, `/api/svc-${i}/v1/items/7`).route.name, `svc-${i}`)
    t.equal(matchRoute(big, '/x', `h${i}.example.com`).route.name, `host-${i}`)
  }
  const work = (tb: RouteTable, url: string, host?: string): number => {
    const status: MatchStatus = { nodes: 0 }
    matchRoute(tb, url, host, status)
    return status.nodes
  }
  for (const [url, host] of [['/api/svc-7/v1/items/7', undefined], ['/api/svc-7/v2/x', undefined], ['/nothing/here', undefined], ['/x', 'h3.example.com'], ['/x', 'h99999.example.com']] as const) {
    t.equal(work(big, url, host), work(small, url, host), `${host ?? ''}${url}: same nodes visited at 10 and 10,000 routes`)
  }
  t.equal(work(big, '/api/svc-7/v1/items/7'), 4, 'root, api, svc-7, v1: one node per matched segment')
})
