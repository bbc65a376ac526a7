// ECS container metadata file ($ECS_CONTAINER_METADATA_FILE) on bridge
// networking, with real files in a temp directory: the node waits for
// MetadataFileStatus READY (the agent rewrites the file once the container
// runs), takes HostPrivateIPv4Address and the HostPort mapped to PORT, and
// fails start-up with a message naming what is missing when the file never
// becomes READY or is malformed. End to end, a child-process node on bridge
// networking (fake task metadata v4 server) registers the file's address in
// the local Cloud Map emulator.

import t from 'tap'
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery'
import type { HttpInstanceSummary, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery'
import { startEmulator } from '../../infra/local/src/emulator/index.js'
import { emulatorClient, ensurePrivateDnsNamespace, ensureService } from '../../infra/local/src/emulator/sdk-setup.js'
import { parseEcsMetadataFile, readEcsMetadataFile } from '../../media-node/src/ecs-metadata-file.js'
import { spawnNode } from './fixtures/child.js'
import { freePort, waitFor } from './helpers.js'
import { initialFileDoc, metadataFile, readyFileDoc } from './fixtures/ecs-metadata-file.js'
import { TASK_ARN, containerDoc, startMetadataServer, taskDoc } from './fixtures/ecs-metadata-server.js'

const TASK_ID = '8f03e41243824aea923aca126495f665'

t.test('READY after a delay: polls the truncated file, then host IPv4 and the HostPort of our port', async (t) => {
  // GIVEN the truncated file the agent writes at container creation
  const file = metadataFile(t, initialFileDoc())
  // WHEN it becomes READY after the node has seen it not READY (replaced by rename, like the agent does)
  let waitingFor: string | undefined
  const reading = readEcsMetadataFile(file.path, { containerPort: 8080, pollMs: 20, timeoutMs: 20_000, onWaiting: (reason) => (waitingFor = reason) })
  await waitFor(() => waitingFor !== undefined, 'the first not-READY read')
  t.match(waitingFor, /MetadataFileStatus is not set/)
  file.write(readyFileDoc('10.0.1.43', [{ ContainerPort: 9999, HostPort: 40000 }, { ContainerPort: 8080, HostPort: 49153 }, { ContainerPort: 8080, HostPort: 49153, BindIp: '::' }]))
  const info = await reading
  // THEN the READY contents, typed
  t.match(info, { hostIpv4: '10.0.1.43', hostPort: 49153, networkMode: 'bridge', taskArn: TASK_ARN })
  t.ok(info.reads > 1, 'read the not-READY file before the READY one')
})

t.test('a file that appears late is waited for too', async (t) => {
  const file = metadataFile(t)
  let waitingFor: string | undefined
  const reading = readEcsMetadataFile(file.path, { containerPort: 8080, pollMs: 20, timeoutMs: 20_000, onWaiting: (reason) => (waitingFor = reason) })
  await waitFor(() => waitingFor !== undefined, 'the first read')
  t.equal(waitingFor, 'file not found')
  file.write(readyFileDoc('10.0.1.44', [{ ContainerPort: 8080, HostPort: 32768 }]))
  t.match(await reading, { hostIpv4: '10.0.1.44', hostPort: 32768 })
})

t.test('never READY: bounded, and the error says why', async (t) => {
  const cases: [string, (f: ReturnType<typeof metadataFile>) => void, RegExp][] = [
    ['status never set', (f) => f.write(initialFileDoc()), /not READY after 300 ms.*MetadataFileStatus is not set/],
    ['another status', (f) => f.write({ ...initialFileDoc(), MetadataFileStatus: 'INITIAL' }), /MetadataFileStatus is "INITIAL"/],
    ['no file at all', () => {}, /not READY after 300 ms.*file not found/],
    ['not JSON', (f) => f.write('{"Cluster": "default", "TaskARN"'), /not READY after 300 ms.*not JSON/],
  ]
  for (const [name, setup, message] of cases) {
    const file = metadataFile(t)
    setup(file)
    await t.rejects(readEcsMetadataFile(file.path, { containerPort: 8080, pollMs: 20, timeoutMs: 300 }), { name: 'EcsMetadataFileError', code: 'ECS_METADATA_FILE', message }, name)
  }
})

t.test('READY but malformed: refused at once, naming the field', async (t) => {
  const ready = readyFileDoc('10.0.1.43', [{ ContainerPort: 8080, HostPort: 49153 }])
  const cases: [string, unknown, RegExp][] = [
    ['no host address', { ...ready, HostPrivateIPv4Address: undefined }, /HostPrivateIPv4Address.*got nothing/],
    ['host address not IPv4', { ...ready, HostPrivateIPv4Address: 'ip-10-0-1-43' }, /HostPrivateIPv4Address.*ip-10-0-1-43/],
    ['PortMappings not an array', { ...ready, PortMappings: { ContainerPort: 8080 } }, /PortMappings is not an array/],
    ['mapping not an object', { ...ready, PortMappings: ['8080:49153'] }, /PortMappings\[0\] is not an object/],
    ['HostPort not a port', { ...ready, PortMappings: [{ ContainerPort: 8080, HostPort: '49153', Protocol: 'tcp' }] }, /PortMappings\[0\]\.HostPort for container port 8080/],
    ['not an object', [ready], /not a JSON object/],
  ]
  for (const [name, doc, message] of cases) {
    const file = metadataFile(t, doc)
    // A timeout far beyond the test timeout: only an immediate refusal ends this.
    await t.rejects(readEcsMetadataFile(file.path, { containerPort: 8080, timeoutMs: 120_000 }), { name: 'EcsMetadataFileError', message }, name)
  }
})

t.test('parse: READY without a mapping for our port, or only a udp one, gives no host port', async (t) => {
  const udpOnly = readyFileDoc('10.0.1.43', [{ ContainerPort: 8080, HostPort: 49153, Protocol: 'udp' }])
  t.match(parseEcsMetadataFile(udpOnly, 8080), { ready: true, info: { hostIpv4: '10.0.1.43', hostPort: undefined } })
  const other = readyFileDoc('10.0.1.43', [{ ContainerPort: 9999, HostPort: 40000 }])
  t.match(parseEcsMetadataFile(other, 8080), { ready: true, info: { hostPort: undefined } })
  const { PortMappings: _omit, ...noMappings } = other
  t.match(parseEcsMetadataFile(noMappings, 8080), { ready: true, info: { hostPort: undefined } })
  t.match(parseEcsMetadataFile(initialFileDoc(), 8080), { ready: false, reason: /not set/ })
})

async function startCloud(t: { teardown(fn: () => unknown): void }): Promise<{ client: ServiceDiscoveryClient; endpoint: string; serviceId: string }> {
  const emulator = await startEmulator({ log: () => {} })
  t.teardown(() => emulator.close())
  const client = emulatorClient(emulator.apiEndpoint)
  t.teardown(() => client.destroy())
  const namespaceId = await ensurePrivateDnsNamespace(client, 'ecs.internal')
  const serviceId = await ensureService(client, { namespaceId, name: 'media', records: [{ type: 'SRV', ttl: 10 }] })
  return { client, endpoint: emulator.apiEndpoint, serviceId }
}

async function waitForInstances(client: ServiceDiscoveryClient, count: number): Promise<HttpInstanceSummary[]> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const out = await client.send(new DiscoverInstancesCommand({ NamespaceName: 'ecs.internal', ServiceName: 'media', HealthStatus: 'ALL' }))
    const list = out.Instances ?? []
    if (list.length === count) return list
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} instances; have ${JSON.stringify(list)}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

t.test('child on bridge networking without ADVERTISE_IPV4: registers HostPrivateIPv4Address and the HostPort from the file', async (t) => {
  // GIVEN task metadata v4 that only knows the bridge address (and, here, no port
  // mapping, so the port can only come from the file), and a file READY late
  const cloud = await startCloud(t)
  const container = containerDoc('bridge', '172.17.0.2')
  const metadataUri = await startMetadataServer(t, container, taskDoc(container))
  const file = metadataFile(t, initialFileDoc())
  const port = await freePort()
  // WHEN the node starts, and the agent finishes the file a little later
  const proc = spawnNode(t, {
    PORT: String(port),
    ECS_CONTAINER_METADATA_URI_V4: metadataUri,
    ECS_CONTAINER_METADATA_FILE: file.path,
    CLOUDMAP_ENDPOINT: cloud.endpoint,
    CLOUDMAP_SERVICE_ID: cloud.serviceId,
  })
  const waiting = await proc.line((l) => l['msg'] === 'waiting for the ECS container metadata file to be READY', 'waiting for READY')
  t.match(waiting, { path: file.path, reason: /MetadataFileStatus is not set/ })
  file.write(readyFileDoc('10.0.1.43', [{ ContainerPort: port, HostPort: 49153 }]))
  // THEN it registers the instance's address and host port
  const list = await waitForInstances(cloud.client, 1)
  t.match(list, [{ InstanceId: TASK_ID, Attributes: { AWS_INSTANCE_IPV4: '10.0.1.43', AWS_INSTANCE_PORT: '49153', status: 'ACTIVE' } }])
  const read = await proc.line((l) => l['msg'] === 'ECS container metadata file read', 'file read log')
  t.match(read, { hostIpv4: '10.0.1.43', hostPort: 49153, networkMode: 'bridge' })
  t.ok(Number(read['reads']) > 1, 'it waited for READY')
  t.match(await proc.line((l) => l['msg'] === 'media node started', 'started'), { addressSource: 'ecs-metadata-file', advertiseIpv4: '10.0.1.43', advertisePort: 49153 })
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
  t.same(await waitForInstances(cloud.client, 0), [], 'deregistered')
})

t.test('child on awsvpc: the task address is used and the file is not read', async (t) => {
  const cloud = await startCloud(t)
  const container = containerDoc('awsvpc', '10.0.2.100')
  const metadataUri = await startMetadataServer(t, container, taskDoc(container))
  // A file that would never become READY: reading it would fail start-up.
  const file = metadataFile(t, initialFileDoc())
  const proc = spawnNode(t, {
    ECS_CONTAINER_METADATA_URI_V4: metadataUri,
    ECS_CONTAINER_METADATA_FILE: file.path,
    ECS_METADATA_FILE_TIMEOUT_MS: '200',
    CLOUDMAP_ENDPOINT: cloud.endpoint,
    CLOUDMAP_SERVICE_ID: cloud.serviceId,
  })
  const list = await waitForInstances(cloud.client, 1)
  t.match(list, [{ InstanceId: TASK_ID, Attributes: { AWS_INSTANCE_IPV4: '10.0.2.100' } }])
  t.notOk(proc.lines.some((l) => l['msg'] === 'ECS container metadata file read'))
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
})

t.test('child on bridge: a file never READY, or malformed, or without our port fails start-up naming what is missing', async (t) => {
  const container = containerDoc('bridge', '172.17.0.2')
  const metadataUri = await startMetadataServer(t, container, taskDoc(container))
  const cases: [string, unknown, RegExp][] = [
    ['never READY', initialFileDoc(), /not READY after 300 ms.*MetadataFileStatus is not set/],
    ['no host address', { ...readyFileDoc('10.0.1.43', [{ ContainerPort: 8080, HostPort: 49153 }]), HostPrivateIPv4Address: '' }, /HostPrivateIPv4Address/],
    ['no mapping for PORT', readyFileDoc('10.0.1.43', [{ ContainerPort: 9999, HostPort: 40000 }]), /PortMappings entry for PORT 8080.*ADVERTISE_PORT/],
  ]
  for (const [name, doc, message] of cases) {
    const file = metadataFile(t, doc)
    const proc = spawnNode(t, {
      PORT: '8080',
      ECS_CONTAINER_METADATA_URI_V4: metadataUri,
      ECS_CONTAINER_METADATA_FILE: file.path,
      ECS_METADATA_FILE_TIMEOUT_MS: '300',
      CLOUDMAP_ENDPOINT: 'http://127.0.0.1:1',
    })
    const failed = await proc.line((l) => l['msg'] === 'media node failed to start', `start-up failure: ${name}`)
    t.match(failed['error'], message, name)
    t.equal((await proc.exited).code, 1, `${name}: exit 1`)
  }
})
