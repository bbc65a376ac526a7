// The `affinity` option of a ROUTES_FILE entry: accepted forms, defaults, and
// errors naming the entry and field.
import t from 'tap'
import { parseRouteFile, RouteFileError } from '../../router/src/routing/route-file.js'
import { makeRoute, routeView } from '../../router/src/routing/route.js'

const doc = (entry: Record<string, unknown>): string => JSON.stringify({ routes: [{ name: 'web', path: '/*', service: 'web', ...entry }] })

t.test('accepted forms and defaults', async (t) => {
  const defaults = { stripPrefix: false, servicesBalancer: 'p2c' as const }
  const plain = makeRoute(parseRouteFile(doc({ affinity: true })).routes[0] ?? { name: 'x', path: '/*', service: 'x' }, defaults, 'file')
  t.same(plain.affinity, { app: 'web', cookie: 'deployment-web', maxAgeSeconds: 86_400 })
  t.match(routeView(plain), { affinity: { app: 'web' }, reaches: /app web/ })
  const custom = makeRoute(parseRouteFile(doc({ affinity: { cookie: 'rel', maxAgeSeconds: 600 } })).routes[0] ?? { name: 'x', path: '/*', service: 'x' }, defaults, 'file')
  t.same(custom.affinity, { app: 'web', cookie: 'rel', maxAgeSeconds: 600 })
  const none = makeRoute(parseRouteFile(doc({})).routes[0] ?? { name: 'x', path: '/*', service: 'x' }, defaults, 'file')
  t.equal(none.affinity, undefined)
})

t.test('errors name the entry and field', async (t) => {
  const rows: Array<[Record<string, unknown>, RegExp]> = [
    [{ affinity: 'yes' }, /routes\[0\] "web": affinity: must be true or an object/],
    [{ affinity: { cookie: 'a b' } }, /affinity\.cookie: must be a cookie name/],
    [{ affinity: { maxAgeSeconds: 10 } }, /affinity\.maxAgeSeconds: must be a whole number from 60 to 2592000/],
    [{ affinity: { maxAgeSeconds: 99_999_999 } }, /affinity\.maxAgeSeconds/],
    [{ affinity: { ttl: 1 } }, /affinity\.ttl: unknown field/],
    [{ path: '/apps/{app}/*', service: '{app}', affinity: true }, /affinity: needs a fixed app name/],
  ]
  for (const [entry, re] of rows) {
    let err: unknown
    try {
      parseRouteFile(doc(entry))
    } catch (e) {
      err = e
    }
    t.ok(err instanceof RouteFileError, `${JSON.stringify(entry)} rejected`)
    t.match(err instanceof Error ? err.message : '', re, JSON.stringify(entry))
  }
})
