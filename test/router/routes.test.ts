import t from 'tap'
import { defaultRoutes, matchRoute } from '../../router/src/routing/routes.js'
import { isDnsLabel } from '../../router/src/routing/dns-label.js'
import { InvalidCaptureError, InvalidRequestTargetError, NoRouteError } from '../../router/src/errors.js'

const table = defaultRoutes({ mediaService: 'media', stripPrefix: true })

t.test('valid labels', async (t) => {
  for (const ok of ['a', 'node-1', '0', 'a'.repeat(63), 'abc123', 'x-y-z']) t.ok(isDnsLabel(ok), ok)
  for (const bad of ['', '-a', 'a-', 'A', 'aB', 'a.b', '..', '.', 'a'.repeat(64), 'a%2e', 'a_b', 'a b', 'ä', 'a/b', '%2F']) t.notOk(isDnsLabel(bad), JSON.stringify(bad))
})

t.test('matches both templates and strips the prefix', async (t) => {
  const cases: Array<[string, string, string, string, string]> = [
    // url, route, capture, upstreamPath, prefix
    ['/services/dep-1/api/x?y=1', 'services', 'dep-1', '/api/x?y=1', '/services/dep-1'],
    ['/services/dep-1', 'services', 'dep-1', '/', '/services/dep-1'],
    ['/services/dep-1/', 'services', 'dep-1', '/', '/services/dep-1'],
    ['/services/dep-1?q=2', 'services', 'dep-1', '/?q=2', '/services/dep-1'],
    ['/media/n1/ws/s1', 'media', 'n1', '/ws/s1', '/media/n1'],
  ]
  for (const [url, route, capture, path, prefix] of cases) {
    const m = matchRoute(table, url)
    t.equal(m.route.name, route, url)
    t.equal(m.capture, capture, url)
    t.equal(m.upstreamPath, path, url)
    t.equal(m.strippedPrefix, prefix, url)
  }
  const media = matchRoute(table, '/media/n1/x')
  t.same(media.target, { kind: 'instance', service: 'media', instanceId: 'n1' })
  t.same(matchRoute(table, '/services/d/x').target, { kind: 'service', service: 'd' })
})

t.test('upper-case captures are one DNS label, looked up in lower case', async (t) => {
  const m = matchRoute(table, '/services/Test-20251027-122112Z/api?x=Y')
  t.same(m.target, { kind: 'service', service: 'test-20251027-122112z' })
  t.equal(m.capture, 'test-20251027-122112z')
  t.equal(m.strippedPrefix, '/services/Test-20251027-122112Z', 'X-Forwarded-Prefix keeps what the client sent')
  t.equal(m.upstreamPath, '/api?x=Y')
  t.same(matchRoute(table, '/media/NODE-A/ws').target, { kind: 'instance', service: 'media', instanceId: 'node-a' })
  t.equal(matchRoute(defaultRoutes({ mediaService: 'media', stripPrefix: false }), '/services/ABC/x').upstreamPath, '/services/ABC/x', 'the path is forwarded as sent')
  for (const bad of ['/services/A.B/x', '/services/-A/x', '/services/A-/x', `/services/${'A'.repeat(64)}/x`, '/services/%41/x', '/services/\u00c4/x', '/services/A_B/x']) {
    t.throws(() => matchRoute(table, bad), InvalidCaptureError, bad)
  }
})

t.test('no strip keeps the path', async (t) => {
  const noStrip = defaultRoutes({ mediaService: 'media', stripPrefix: false })
  const m = matchRoute(noStrip, '/services/d/a')
  t.equal(m.upstreamPath, '/services/d/a')
  t.equal(m.strippedPrefix, '')
  t.equal(matchRoute(noStrip, '/services/d').upstreamPath, '/services/d')
  t.equal(matchRoute(noStrip, '/services/d/a/../b?x').upstreamPath, '/services/d/b?x', 'dot segments resolved after the capture')
  t.throws(() => matchRoute(noStrip, '/services/d/../e/x'), InvalidRequestTargetError, 'climbing out of the capture')
})

t.test('dot segments after the capture are resolved; climbing above it and fragments are 400', async (t) => {
  const cases: Array<[string, string]> = [
    ['/services/d/a/../b', '/b'],
    ['/services/d/a/%2e%2e/b', '/b'],
    ['/services/d/./a/.', '/a/'],
    ['/services/d/a/..?q=..', '/?q=..'],
    ['/media/n1/ws/../status', '/status'],
  ]
  for (const [url, path] of cases) t.equal(matchRoute(table, url).upstreamPath, path, `${url} → ${path}`)
  for (const url of ['/services/x/../../media/y', '/services/x/..', '/services/x/%2E%2E/y', '/media/n1/a/../../b', '/services/d#f', '/services/d/a#f', '/nope#f']) {
    t.throws(() => matchRoute(table, url), InvalidRequestTargetError, url)
  }
})

t.test('invalid captures are 400, unknown paths 404', async (t) => {
  const invalid = [
    '/services/../x', '/services/a.b/x', '/services/%2e%2e/x', '/services/a%2Fb/x', '/services/UP_PER/x',
    `/services/${'a'.repeat(64)}/x`, '/services//x', '/services/', '/media/-n/x', '/media/n-/x', '/media/evil.com/x',
    '/media/169.254.169.254/x', '/media/a%00/x', '/services/a b/x',
  ]
  for (const url of invalid) t.throws(() => matchRoute(table, url), InvalidCaptureError, url)
  for (const url of ['/', '/media', '/servicesx/a', 'http://evil.com/services/a/x', '*', '/other/a']) t.throws(() => matchRoute(table, url), NoRouteError, url)
  const e = (() => { try { matchRoute(table, '/nope') } catch (err) { return err } })()
  t.ok(e instanceof NoRouteError)
  if (e instanceof NoRouteError) {
    t.match(e.message, '/media/<nodeId>/...')
    t.match(e.message, '/services/<deploymentId>/...')
  }
})
