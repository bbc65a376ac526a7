// A node removes the Cloud Map entries of dead nodes that had its address —
// the `npm run tier` media-kill case: a SIGKILLed node never deregisters, and
// its replacement starts on the same host and port — against the real local
// emulator (API and DNS). It deregisters only when its own address answers
// /status with its own id: an entry at its address behind which another id
// answers, or nothing answers, is left alone, and so is every live node at
// another address.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { promises as dns } from 'node:dns'
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery'
import { Registrar } from '../../media-node/src/registration.js'
import { NAMESPACE, startCloudMap } from '../fixtures/cloudmap.js'
import type { CloudMapFixture } from '../fixtures/cloudmap.js'
import { freePort, startTestNode, waitFor } from './helpers.js'

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

async function cloudWithMedia(t: TapTest): Promise<{ cloud: CloudMapFixture; serviceId: string }> {
  const cloud = await startCloudMap()
  t.teardown(() => cloud.close())
  return { cloud, serviceId: await cloud.service('media') }
}

async function registered(cloud: CloudMapFixture): Promise<string[]> {
  const out = await cloud.client.send(new DiscoverInstancesCommand({ NamespaceName: NAMESPACE, ServiceName: 'media', HealthStatus: 'ALL' }))
  return (out.Instances ?? []).map((i) => i.InstanceId ?? '').sort()
}

/** An HTTP server on 127.0.0.1:0 answering GET /status as node `nodeId`. */
async function statusServer(t: TapTest, nodeId: string): Promise<number> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/status' ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify({ nodeId, status: 'ACTIVE' }))
  })
  server.listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  t.teardown(() => new Promise((r) => server.close(r)))
  return (server.address() as AddressInfo).port
}

const sweepLine = (logs: Record<string, unknown>[]): Record<string, unknown> | undefined =>
  logs.find((e) => typeof e['msg'] === 'string' && e['msg'].includes('at this node’s address'))

t.test('media-kill: the replacement on the dead node’s address deregisters the dead entry, and only it', async (t) => {
  // GIVEN a live node B, and a dead node's HEALTHY entry at 127.0.0.1:<port> (it was SIGKILLed)
  const { cloud, serviceId } = await cloudWithMedia(t)
  const live = await startTestNode(t, { nodeId: 'node-b', registration: { client: cloud.client, serviceId, advertiseIpv4: '127.0.0.1' } })
  await live.node.whenActive()
  const port = await freePort()
  await cloud.register(serviceId, 'node-dead', port, { status: 'ACTIVE' })
  t.same(await registered(cloud), ['node-b', 'node-dead'])
  // WHEN its replacement starts on the same address
  const { node, logs } = await startTestNode(t, { nodeId: 'node-new', port, registration: { client: cloud.client, serviceId, advertiseIpv4: '127.0.0.1' } })
  await node.whenActive()
  await waitFor(() => sweepLine(logs) !== undefined, 'the sweep’s log line')
  // THEN the dead entry is gone from the API and from DNS; the live node and the new one stay
  t.match(sweepLine(logs), { level: 'info', msg: 'deregistered stale instances at this node’s address', deregistered: ['node-dead'], port })
  t.same(await registered(cloud), ['node-b', 'node-new'])
  const resolver = new dns.Resolver({ timeout: 10_000, tries: 1 })
  resolver.setServers([cloud.dnsServer])
  await t.rejects(resolver.resolve4(`node-dead.media.${NAMESPACE}`), { code: 'ENOTFOUND' })
  t.same((await resolver.resolveSrv(`media.${NAMESPACE}`)).map((r) => r.name).sort(), [`node-b.media.${NAMESPACE}`, `node-new.media.${NAMESPACE}`])
  t.notOk(live.logs.some((e) => sweepLine([e]) !== undefined), 'node B had nobody at its address: no sweep line')
  await node.close()
  await live.node.close()
})

t.test('an entry at this node’s address behind which another id answers /status is left alone', async (t) => {
  // GIVEN node "other" answering at 127.0.0.1:<p> and registered there, and a node advertising that same address (a misconfiguration)
  const { cloud, serviceId } = await cloudWithMedia(t)
  const p = await statusServer(t, 'other')
  await cloud.register(serviceId, 'other', p, { status: 'ACTIVE' })
  // WHEN the node registers with that address
  const { node, logs } = await startTestNode(t, { nodeId: 'node-x', registration: { client: cloud.client, serviceId, advertiseIpv4: '127.0.0.1', advertisePort: p } })
  await node.whenActive()
  await waitFor(() => sweepLine(logs) !== undefined, 'the sweep’s log line')
  // THEN nothing is deregistered, and the log says why
  t.match(sweepLine(logs), { level: 'warn', candidates: ['other'], skipped: 'own address answers /status as other' })
  t.same(await registered(cloud), ['node-x', 'other'])
  await node.close()
})

t.test('an entry at this node’s address is left alone when the address does not answer (no hairpin, wrong port)', async (t) => {
  // GIVEN a stale entry at an address where nothing listens, which the node advertises
  const { cloud, serviceId } = await cloudWithMedia(t)
  const nobody = await freePort()
  await cloud.register(serviceId, 'node-dead', nobody, { status: 'ACTIVE' })
  // WHEN the node registers there
  const { node, logs } = await startTestNode(t, { nodeId: 'node-y', registration: { client: cloud.client, serviceId, advertiseIpv4: '127.0.0.1', advertisePort: nobody } })
  await node.whenActive()
  await waitFor(() => sweepLine(logs) !== undefined, 'the sweep’s log line')
  // THEN the entry stays
  t.match(sweepLine(logs), { level: 'warn', candidates: ['node-dead'], skipped: 'own address did not answer /status with a node id' })
  t.same(await registered(cloud), ['node-dead', 'node-y'])
  await node.close()
})

t.test('the sweep can be turned off, and lists nothing then', async (t) => {
  // GIVEN a registrar with sweepStaleAtOwnAddress: false and a dead entry at its address
  const { cloud, serviceId } = await cloudWithMedia(t)
  const port = await statusServer(t, 'node-z')
  await cloud.register(serviceId, 'node-dead', port, { status: 'ACTIVE' })
  const registrar = new Registrar({ client: cloud.client, serviceId, sweepStaleAtOwnAddress: false }, () => {})
  // WHEN it registers
  await registrar.registerWithRetry({ instanceId: 'node-z', ipv4: '127.0.0.1', port, attributes: { status: 'ACTIVE' } }, new AbortController().signal)
  // THEN no sweep ran and the entry stays
  t.equal(registrar.sweep, undefined)
  t.equal(cloud.emulator.stats.apiCalls('ListInstances'), 0)
  t.same(await registered(cloud), ['node-dead', 'node-z'])
  // AND the same registrar's explicit sweep deregisters it (the address answers as node-z)
  t.same(await registrar.sweepStaleAtOwnAddress({ instanceId: 'node-z', ipv4: '127.0.0.1', port, attributes: {} }), { candidates: ['node-dead'], deregistered: ['node-dead'] })
  t.same(await registered(cloud), ['node-z'])
})
