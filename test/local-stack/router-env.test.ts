// What `npm start` hands the router: its own defaults, every router variable
// of the caller's over them (derived from ENV_DOC, so new ones pass through),
// the emulator's addresses pinned, and clear errors for what it cannot honour.
import t from 'tap'
import { ENV_DOC, loadConfig } from '../../router/src/config.js'
import { composeRouterEnv, pickRouterVariables, routerVariableNames, StackEnvError } from '../../infra/local/src/router-env.js'

const facts = { namespace: 'ecs.internal', dnsServer: '127.0.0.1:9653', apiEndpoint: 'http://127.0.0.1:9600', routerPort: 8080, adminPort: 9090, adminToken: 'local-admin-token-change-me' }

t.test('every ENV_DOC variable and LOG_LEVEL pass through; nothing else does', async (t) => {
  const caller: Record<string, string> = { PATH: '/bin', HOME: '/root', AWS_REGION: 'eu-west-1', EMULATOR_API_PORT: '0', LOG_LEVEL: 'debug', SOMETHING_ELSE: 'x' }
  for (const [name] of ENV_DOC) caller[name] = `value-of-${name}`
  delete caller['DNS_SERVERS']
  delete caller['CLOUDMAP_ENDPOINT']
  delete caller['ROUTER_WORKERS']
  const env = composeRouterEnv(facts, caller)
  for (const [name] of ENV_DOC) {
    if (name === 'DNS_SERVERS' || name === 'CLOUDMAP_ENDPOINT' || name === 'ROUTER_WORKERS') continue
    t.equal(env[name], `value-of-${name}`, `${name} passed through`)
  }
  t.equal(env['LOG_LEVEL'], 'debug')
  for (const name of ['PATH', 'HOME', 'AWS_REGION', 'EMULATOR_API_PORT', 'SOMETHING_ELSE']) t.equal(env[name], undefined, `${name} not a router variable`)
  t.same(routerVariableNames().slice(0, ENV_DOC.length), ENV_DOC.map(([n]) => n))
})

t.test('the stack defaults: emulator DNS, local addresses, no drain delay; each overridable', async (t) => {
  const env = composeRouterEnv(facts, {})
  t.match(env, { HOST: '127.0.0.1', ADMIN_HOST: '127.0.0.1', PORT: '8080', ADMIN_PORT: '9090', DISCOVERY_MODE: 'dns', DNS_SERVERS: '127.0.0.1:9653', CLOUDMAP_ENDPOINT: 'http://127.0.0.1:9600', CLOUDMAP_REGION: 'us-east-1', CLOUDMAP_NAMESPACE: 'ecs.internal', DRAIN_DELAY_MS: '0' })
  const config = loadConfig(env)
  t.equal(config.discoveryMode, 'dns')
  t.same(config.dns.servers, ['127.0.0.1:9653'])

  const over = composeRouterEnv(facts, { DISCOVERY_MODE: 'cloudmap', SERVICES_BALANCER: 'round-robin', PORT: '0', HOST: '0.0.0.0', DRAIN_DELAY_MS: '500' })
  const c = loadConfig(over)
  t.equal(c.discoveryMode, 'cloudmap')
  t.equal(c.cloudmap.endpoint, 'http://127.0.0.1:9600', 'API mode reaches the emulator')
  t.equal(c.balancing.services, 'round-robin')
  t.equal(c.port, 0)
  t.equal(c.host, '0.0.0.0')
  t.equal(c.drain.delayMs, 500)
  t.equal(composeRouterEnv(facts, { PORT: '  ' })['PORT'], '8080', 'blank counts as unset')
})

t.test('static mode gets the file the stack wrote unless the caller names one', async (t) => {
  t.equal(composeRouterEnv({ ...facts, staticFile: '/tmp/x.json' }, { DISCOVERY_MODE: 'static' })['STATIC_DISCOVERY_FILE'], '/tmp/x.json')
  t.equal(composeRouterEnv({ ...facts, staticFile: '/tmp/x.json' }, { STATIC_DISCOVERY_FILE: '/mine.json' })['STATIC_DISCOVERY_FILE'], '/mine.json')
})

t.test("the dashboard's deployment actions are on, except where discovery is static", async (t) => {
  t.equal(loadConfig(composeRouterEnv(facts, {})).deploymentControl, true, 'on by default: they write the emulator')
  t.equal(loadConfig(composeRouterEnv(facts, { DEPLOYMENT_CONTROL: 'false' })).deploymentControl, false, 'and can be turned off')
  const staticEnv = composeRouterEnv({ ...facts, staticFile: '/tmp/x.json' }, { DISCOVERY_MODE: 'static' })
  t.equal(staticEnv['DEPLOYMENT_CONTROL'], undefined, 'static discovery reads no registry: the default does not apply')
  t.equal(loadConfig(staticEnv).deploymentControl, false)
  t.throws(() => loadConfig(composeRouterEnv({ ...facts, staticFile: '/tmp/x.json' }, { DISCOVERY_MODE: 'static', DEPLOYMENT_CONTROL: 'true' })), { name: 'ConfigError', message: /^DEPLOYMENT_CONTROL: needs Cloud Map/ }, 'asked for explicitly with static discovery: the router refuses')
})

t.test('pinned and unsupported variables are refused, naming the variable', async (t) => {
  t.throws(() => composeRouterEnv(facts, { DNS_SERVERS: '10.0.0.2' }), { name: 'StackEnvError', message: /^DNS_SERVERS: set by the local stack to its own Cloud Map emulator \(127\.0\.0\.1:9653\)/ })
  t.throws(() => composeRouterEnv(facts, { CLOUDMAP_ENDPOINT: 'https://servicediscovery.eu-west-1.amazonaws.com' }), { message: /^CLOUDMAP_ENDPOINT: .*http:\/\/127\.0\.0\.1:9600/ })
  t.throws(() => composeRouterEnv(facts, { ROUTER_WORKERS: '4' }), { message: /^ROUTER_WORKERS: npm start runs the router inside its own process/ })
  t.equal(composeRouterEnv(facts, { ROUTER_WORKERS: '1' })['ROUTER_WORKERS'], '1')
  t.ok(new StackEnvError('x') instanceof Error)
})

t.test('pickRouterVariables keeps set router variables only', async (t) => {
  t.same(pickRouterVariables({ PORT: '1', HOME: '/', ACCESS_LOG: '', DISCOVERY_MODE: undefined }), { PORT: '1' })
})
