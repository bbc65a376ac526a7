import t from 'tap'
import { ConfigError, loadConfig } from '../../router/src/config.js'

t.test('defaults', async (t) => {
  const c = loadConfig({})
  t.equal(c.port, 8080)
  t.equal(c.adminPort, 9090)
  t.equal(c.namespace, 'ecs.internal')
  t.equal(c.discoveryMode, 'dns')
  t.equal(c.routes.services.recordType, 'SRV')
  t.equal(c.routes.media.recordType, 'SRV')
  t.equal(c.adminToken, undefined)
})

t.test('parses values', async (t) => {
  const c = loadConfig({ PORT: '0', ADMIN_PORT: '0', DNS_SERVERS: '127.0.0.1:5353, 10.0.0.2', CLOUDMAP_NAMESPACE: 'Prod.Internal.', SERVICES_RECORD_TYPE: 'A', SERVICES_DEFAULT_PORT: '8081', STRIP_PREFIX: 'false', ADMIN_TOKEN: 'x'.repeat(20) })
  t.same(c.dns.servers, ['127.0.0.1:5353', '10.0.0.2'])
  t.equal(c.namespace, 'prod.internal')
  t.equal(c.routes.services.recordType, 'A')
  t.equal(c.routes.services.defaultPort, 8081)
  t.equal(c.routes.stripPrefix, false)
})

t.test('bad values name the variable', async (t) => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '8080', ADMIN_PORT: '8080' }, 'ADMIN_PORT'],
    [{ DISCOVERY_MODE: 'consul' }, 'DISCOVERY_MODE'],
    [{ DNS_SERVERS: 'evil.com' }, 'DNS_SERVERS'],
    [{ CLOUDMAP_NAMESPACE: 'a..b' }, 'CLOUDMAP_NAMESPACE'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN'],
    [{ DISCOVERY_MODE: 'static' }, 'STATIC_DISCOVERY_FILE'],
    [{ MEDIA_RECORD_TYPE: 'A' }, 'MEDIA_DEFAULT_PORT'],
    [{ CACHE_MIN_TTL_MS: '5000', CACHE_MAX_TTL_MS: '1000' }, 'CACHE_MAX_TTL_MS'],
    [{ ACCESS_LOG: 'maybe' }, 'ACCESS_LOG'],
    [{ MEDIA_SERVICE: 'Media.X' }, 'MEDIA_SERVICE'],
  ]
  for (const [env, name] of bad) {
    t.throws(() => loadConfig(env), ConfigError, name)
    try {
      loadConfig(env)
    } catch (err) {
      t.match(String(err), name)
    }
  }
})
