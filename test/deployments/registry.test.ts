// The deployments command against the real emulator (API + DNS): switch,
// drain, rollback, list, the marker cap, expired drains pruned; the registry
// read back through the router's DNS and API discovery backends exactly as the
// router reads it; and the CLI (in-process and as the built script).
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Resolver } from 'node:dns/promises'
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery'
import { startCloudMap, NAMESPACE, type CloudMapFixture } from '../fixtures/cloudmap.js'
import { DeploymentRegistry, DeploymentsError, MARKER_IPV4, REGISTRY_TAG } from '../../router/src/deployments/registry.js'
import { main, parseDeadline } from '../../infra/deployments/src/cli.js'
import { appStateFrom } from '../../router/src/affinity/app-registry.js'
import { DnsDiscovery } from '../../router/src/discovery/dns.js'
import { CloudMapDiscovery } from '../../router/src/discovery/cloudmap.js'
import { SdkCloudMapApi } from '../../router/src/discovery/cloudmap-api.js'

// The router's SDK client uses the default credential chain; the emulator accepts any keys.
process.env.AWS_ACCESS_KEY_ID = 'test'
process.env.AWS_SECRET_ACCESS_KEY = 'test'

const A = 'test-20251027-122112Z'
const B = 'test-20251027-130000Z'
const a = A.toLowerCase()
const b = B.toLowerCase()

async function deployments(cm: CloudMapFixture): Promise<{ aId: string; bId: string }> {
  const aId = await cm.service(A, { records: ['SRV'] })
  const bId = await cm.service(B, { records: ['SRV'] })
  await cm.register(aId, 'a-1', 1001, { version: 'A' })
  await cm.register(aId, 'a-2', 1002, { version: 'A' })
  await cm.register(bId, 'b-1', 2001)
  return { aId, bId }
}

async function attrs(cm: CloudMapFixture, service: string): Promise<Array<Record<string, string>>> {
  const out = await cm.client.send(new DiscoverInstancesCommand({ NamespaceName: NAMESPACE, ServiceName: service, HealthStatus: 'ALL' }))
  return (out.Instances ?? []).map((i) => ({ id: i.InstanceId ?? '', health: i.HealthStatus ?? '', ...i.Attributes }))
}

t.test('switch, drain, rollback, list against the emulator; both discovery modes read the registry', async (t) => {
  const cm = await startCloudMap()
  t.teardown(() => cm.close())
  const { aId } = await deployments(cm)
  let now = Date.parse('2026-12-01T10:00:00Z')
  const reg = new DeploymentRegistry({ client: cm.client, namespace: NAMESPACE, ttlSeconds: 1, now: () => now, sleep: async () => undefined })

  t.same((await reg.list('web')).deployments, [], 'nothing before the first switch')
  t.same(await reg.switchTo('web', A), { previous: undefined, current: a })
  t.same(await reg.switchTo('web', B), { previous: a, current: b })

  // DNS, as Route 53 would answer and as the router's DNS backend reads it.
  const resolver = new Resolver()
  resolver.setServers([cm.dnsServer])
  const srv = await resolver.resolveSrv(`_deployments.web.${NAMESPACE}`)
  const suffix = `._deployments.web.${NAMESPACE}`
  const dnsIds = srv.map((r) => r.name.toLowerCase().slice(0, -suffix.length))
  t.same(dnsIds.sort(), [a, b, `current-${Math.floor(now / 1000) + 1}.${b}`].sort(), 'SRV targets carry the markers; one current marker left')
  t.same(await resolver.resolve4(srv[0]?.name ?? ''), [MARKER_IPV4], 'markers have the placeholder address')
  const dns = new DnsDiscovery({ namespace: NAMESPACE, servers: [cm.dnsServer], timeoutMs: 2000, tries: 2, recordTypeFor: () => ({ recordType: 'SRV', defaultPort: undefined }) })
  const fromDns = appStateFrom((await dns.resolve({ kind: 'service', service: '_deployments.web' })).endpoints.map((e) => e.id))
  await dns.close()
  const api = new SdkCloudMapApi({ region: 'us-east-1', endpoint: cm.emulator.apiEndpoint, connectTimeoutMs: 2000, requestTimeoutMs: 5000, logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } })
  const cloudmap = new CloudMapDiscovery({ api, namespace: NAMESPACE, healthStatus: 'HEALTHY_OR_ELSE_ALL', revisionPollMs: 1000, fullRefreshMs: 10_000, backoffBaseMs: 100, backoffMaxMs: 1000, defaultPortFor: () => undefined })
  const fromApi = appStateFrom((await cloudmap.resolve({ kind: 'service', service: '_deployments.web' })).endpoints.map((e) => e.id))
  await cloudmap.close()
  for (const [mode, s] of [['dns', fromDns], ['cloudmap', fromApi]] as const) {
    t.equal(s.current, b, `${mode}: current`)
    t.same([...s.deployments.keys()].sort(), [a, b], `${mode}: known deployments`)
  }

  t.rejects(reg.drain('web', B, now + 60_000), /current deployment/, 'the current deployment cannot be drained')
  t.rejects(reg.drain('web', 'nope', now + 60_000), /not one of app web's deployments/)
  t.rejects(reg.switchTo('web', 'nope'), /no Cloud Map service named nope/)
  t.rejects(reg.switchTo('web', 'Bad_Id'), /DNS label/)

  const drained = await reg.drain('web', A, now + 60_000)
  t.same(drained, { deadline: '2026-12-01T10:01:00.000Z', instances: 2 })
  const aAttrs = await attrs(cm, A)
  t.same(aAttrs.map((x) => x['status']), ['DRAINING', 'DRAINING'], 'every instance of A is DRAINING')
  t.same(aAttrs.map((x) => x['version']), ['A', 'A'], 'other attributes kept')
  let listing = await reg.list('web')
  t.match(listing.deployments, [
    { id: a, current: false, drainDeadline: '2026-12-01T10:01:00.000Z', drained: false, instances: { total: 2, healthy: 2, unhealthy: 0, draining: 2 } },
    { id: b, current: true, instances: { total: 1, healthy: 1, draining: 0 } },
  ])
  t.equal(listing.markers.filter((m) => m.toLowerCase().startsWith(`${a}`)).length, 1, 'the plain marker was replaced by the drain marker')

  // An UNHEALTHY instance stays UNHEALTHY through re-registration.
  await cm.setHealth(aId, 'a-1', 'UNHEALTHY')
  await reg.switchTo('web', A)
  const back = await attrs(cm, A)
  t.same(back.map((x) => x['status']), [undefined, undefined], 'rollback clears DRAINING')
  t.same(back.map((x) => x['health']).sort(), ['HEALTHY', 'UNHEALTHY'], 'health kept')
  listing = await reg.list('web')
  t.equal(listing.current, a)
  t.notOk(listing.deployments.some((d) => d.drainDeadline !== undefined), 'no drain marker left')

  // A drain past its deadline is pruned on the next write.
  await reg.switchTo('web', B)
  await reg.drain('web', A, now + 1000)
  now += 5000
  t.equal((await reg.list('web')).deployments.find((d) => d.id === a)?.drained, true)
  const cId = await cm.service('c-1', { records: ['SRV'] })
  await cm.register(cId, 'c', 3001)
  await reg.switchTo('web', 'c-1')
  t.same((await reg.list('web')).deployments.map((d) => d.id), ['c-1', b], 'drained A forgotten')
})

t.test('at most 8 markers at any instant: 6 deployments per app', async (t) => {
  const cm = await startCloudMap()
  t.teardown(() => cm.close())
  const reg = new DeploymentRegistry({ client: cm.client, namespace: NAMESPACE, sleep: async () => undefined })
  for (let i = 1; i <= 6; i++) {
    const id = await cm.service(`d${i}`, { records: ['SRV'] })
    await cm.register(id, 'x', 1000 + i)
    await reg.switchTo('app', `d${i}`)
  }
  t.equal((await reg.list('app')).markers.length, 7, '6 deployments + the current marker (a switch briefly holds two current markers)')
  const id7 = await cm.service('d7', { records: ['SRV'] })
  await cm.register(id7, 'x', 1007)
  await t.rejects(reg.switchTo('app', 'd7'), /at most 8/)
  await reg.switchTo('app', 'd3')
  t.equal((await reg.list('app')).current, 'd3', 'switching among known deployments still works at the cap')
})

t.test('the registry is created tagged with its namespace; the dashboard switches only among listed deployments', async (t) => {
  const cm = await startCloudMap()
  t.teardown(() => cm.close())
  await deployments(cm)
  // What the SDK sends, seen from inside the client (the emulator accepts tags without keeping them).
  const sent: Array<{ command: string; input: unknown }> = []
  cm.client.middlewareStack.add((next, context) => async (args) => {
    sent.push({ command: String(context.commandName), input: args.input })
    return next(args)
  }, { step: 'initialize', name: 'recordCommands' })
  const reg = new DeploymentRegistry({ client: cm.client, namespace: NAMESPACE, sleep: async () => undefined })
  const known = (app: string, dep: string): Promise<unknown> => reg.switchTo(app, dep, { knownOnly: true })
  await t.rejects(known('web', A), { name: 'DeploymentsError', code: 'NOT_FOUND', message: /has no registry/ }, 'knownOnly never creates the registry')
  t.notOk(sent.some((s) => s.command === 'CreateServiceCommand'))
  await reg.switchTo('web', A)
  t.match(sent.find((s) => s.command === 'CreateServiceCommand')?.input, { Name: '_deployments.web', Tags: [{ Key: REGISTRY_TAG, Value: NAMESPACE }] }, 'the command line creates it with the tag the router\'s IAM policy is scoped by')
  await t.rejects(known('web', B), { code: 'NOT_FOUND', message: /not one of app web's deployments/ }, 'a deployment the registry does not list')
  await t.rejects(known('web', 'nope'), { code: 'NOT_FOUND', message: /no Cloud Map service named nope/ })
  await t.rejects(known('web', 'Bad_Id'), { code: 'INVALID' })
  await reg.switchTo('web', B)
  t.same(await known('web', A), { previous: b, current: a }, 'among listed deployments it switches')
  await t.rejects(reg.drain('web', A, Date.now() + 60_000), { code: 'CONFLICT' })
  t.ok(new DeploymentsError('x') instanceof Error)
})

t.test('CLI', async (t) => {
  const cm = await startCloudMap()
  t.teardown(() => cm.close())
  await deployments(cm)
  const lines: string[] = []
  const run = (...args: string[]): Promise<number> => main([...args, '--endpoint', cm.emulator.apiEndpoint], (s) => lines.push(s))
  t.equal(await run('switch', 'web', A), 0)
  t.equal(await run('switch', 'web', B), 0)
  t.match(lines.at(-1), `current ${a} → ${b}`)
  t.equal(await run('drain', 'web', A, '--deadline', '10m'), 0)
  t.match(lines.at(-1), /draining until .* \(2 instance\(s\) marked DRAINING\)/)
  t.equal(await run('drain', 'web', B), 1, 'draining current fails with exit 1')
  t.equal(await run('frobnicate', 'web'), 2, 'usage error')
  t.equal(await run('list'), 2, 'usage error')
  t.equal(await run('drain', 'web', A, '--deadline', 'soon'), 2, 'bad deadline')
  // The built script, as npm run deployments runs it.
  const { stdout } = await promisify(execFile)(process.execPath, ['dist/infra/deployments/src/cli.js', 'list', 'web', '--json'], {
    env: { ...process.env, CLOUDMAP_ENDPOINT: cm.emulator.apiEndpoint },
  })
  const listing = JSON.parse(stdout) as { current: string; deployments: Array<{ id: string; instances: { draining: number } }> }
  t.equal(listing.current, b)
  t.same(listing.deployments.map((d) => [d.id, d.instances.draining]), [[a, 2], [b, 0]])
  const base = Date.parse('2026-01-01T00:00:00Z')
  t.equal(parseDeadline('90s', base), base + 90_000)
  t.equal(parseDeadline('2h', base), base + 7_200_000)
  t.equal(parseDeadline('2026-01-02T00:00:00Z', base), base + 86_400_000)
})
