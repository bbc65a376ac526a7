// Persistence: registrations survive a restart with a state file; a broken
// state file is refused with a clear message instead of being overwritten.

import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promises as dns } from 'node:dns'
import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  GetInstanceCommand,
  ListNamespacesCommand,
  UpdateInstanceCustomHealthStatusCommand,
} from '@aws-sdk/client-servicediscovery'
import { startEmulator } from '../../infra/local/src/emulator/index.js'
import { emulatorClient, ensurePrivateDnsNamespace, ensureService, registerInstance } from '../../infra/local/src/emulator/sdk-setup.js'

t.test('a restart with the same state file loses no registrations', async (t) => {
  const dir = t.testdir({})
  const stateFile = join(dir, 'state.json')

  const first = await startEmulator({ stateFile, log: () => {} })
  const c1 = emulatorClient(first.apiEndpoint)
  const nsId = await ensurePrivateDnsNamespace(c1, 'svc.local')
  const serviceId = await ensureService(c1, { namespaceId: nsId, name: 'media', records: [{ type: 'SRV', ttl: 5 }, { type: 'A', ttl: 5 }], customHealth: true })
  await registerInstance(c1, { serviceId, instanceId: 'node-a', ipv4: '10.0.0.1', port: 9000, attributes: { zone: 'a' } })
  await registerInstance(c1, { serviceId, instanceId: 'node-b', ipv4: '10.0.0.2', port: 9001 })
  await c1.send(new UpdateInstanceCustomHealthStatusCommand({ ServiceId: serviceId, InstanceId: 'node-b', Status: 'UNHEALTHY' }))
  const revision = (await c1.send(new DiscoverInstancesRevisionCommand({ NamespaceName: 'svc.local', ServiceName: 'media' }))).InstancesRevision
  c1.destroy()
  await first.close()

  const saved: unknown = JSON.parse(await readFile(stateFile, 'utf8'))
  t.match(saved, { version: 1, namespaces: [{ name: 'svc.local' }] }, 'state written on close')

  const second = await startEmulator({ stateFile, log: () => {} })
  const c2 = emulatorClient(second.apiEndpoint)
  t.teardown(async () => {
    c2.destroy()
    await second.close()
  })
  t.same((await c2.send(new ListNamespacesCommand({}))).Namespaces?.map((ns) => ns.Id), [nsId])
  t.same((await c2.send(new GetInstanceCommand({ ServiceId: serviceId, InstanceId: 'node-a' }))).Instance?.Attributes, {
    zone: 'a',
    AWS_INSTANCE_IPV4: '10.0.0.1',
    AWS_INSTANCE_PORT: '9000',
  })
  const discovered = await c2.send(new DiscoverInstancesCommand({ NamespaceName: 'svc.local', ServiceName: 'media', HealthStatus: 'ALL' }))
  t.same(discovered.Instances?.map((i) => [i.InstanceId, i.HealthStatus]).sort(), [['node-a', 'HEALTHY'], ['node-b', 'UNHEALTHY']], 'health kept')
  t.equal(discovered.InstancesRevision, revision, 'revision kept')

  const resolver = new dns.Resolver()
  resolver.setServers([`${second.dns.host}:${second.dns.port}`])
  t.same(await resolver.resolve4('media.svc.local'), ['10.0.0.1'], 'DNS answers from the loaded state')

  // Mutations are saved without waiting for close (debounced).
  await registerInstance(c2, { serviceId, instanceId: 'node-c', ipv4: '10.0.0.3', port: 9002 })
  let text = ''
  for (let i = 0; i < 200 && !text.includes('node-c'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25))
    text = await readFile(stateFile, 'utf8')
  }
  t.match(text, /node-c/, 'saved after the mutation')
})

t.test('a broken state file stops the start with a clear message', async (t) => {
  const dir = t.testdir({ 'bad.json': '{"version": 1, "namespaces": [{"id": 5}]}', 'notjson.json': 'nope' })
  await t.rejects(startEmulator({ stateFile: join(dir, 'bad.json'), log: () => {} }), /invalid state file: .*namespaces\[0\]\.id/)
  await t.rejects(startEmulator({ stateFile: join(dir, 'notjson.json'), log: () => {} }), /not JSON/)
  t.equal(await readFile(join(dir, 'bad.json'), 'utf8'), '{"version": 1, "namespaces": [{"id": 5}]}', 'left untouched')
})

t.test('a missing state file starts empty and is created on the first mutation', async (t) => {
  const dir = t.testdir({})
  const stateFile = join(dir, 'new.json')
  const emu = await startEmulator({ stateFile, log: () => {} })
  const client = emulatorClient(emu.apiEndpoint)
  await ensurePrivateDnsNamespace(client, 'fresh.local')
  client.destroy()
  await emu.close()
  t.match(JSON.parse(await readFile(stateFile, 'utf8')), { namespaces: [{ name: 'fresh.local' }] })
})
