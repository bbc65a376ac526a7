// Cloud Map registration against the real local emulator: the node appears in
// DiscoverInstances with its attributes, goes DRAINING, disappears on close
// and on SIGTERM (child process, exit 0); a registration that fails at first
// (emulator not up yet) is retried and succeeds, with /health 503 until then;
// on ECS the id, IPv4 and host port come from the task metadata endpoint.

import t from 'tap'
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery'
import type { HttpInstanceSummary, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery'
import { startEmulator } from '../../infra/local/src/emulator/index.js'
import type { Emulator } from '../../infra/local/src/emulator/index.js'
import { emulatorClient, ensurePrivateDnsNamespace, ensureService } from '../../infra/local/src/emulator/sdk-setup.js'
import { freePort, getJson, openClient, parseResponse, rawExchange, startTestNode, upgradeRequest, waitFor } from './helpers.js'
import { spawnNode } from './fixtures/child.js'
import { containerDoc, startMetadataServer, taskDoc } from './fixtures/ecs-metadata-server.js'

const NAMESPACE = 'ecs.internal'
const SERVICE = 'media'
const DUMMY = { accessKeyId: 'test', secretAccessKey: 'test' }

interface Cloud {
  emulator: Emulator
  client: ServiceDiscoveryClient
  serviceId: string
}

async function startCloud(t: { teardown(fn: () => unknown): void }, apiPort = 0): Promise<Cloud> {
  const emulator = await startEmulator({ apiPort, log: () => {} })
  t.teardown(() => emulator.close())
  const client = emulatorClient(emulator.apiEndpoint)
  t.teardown(() => client.destroy())
  const namespaceId = await ensurePrivateDnsNamespace(client, NAMESPACE)
  const serviceId = await ensureService(client, { namespaceId, name: SERVICE, records: [{ type: 'SRV', ttl: 10 }] })
  return { emulator, client, serviceId }
}

async function instances(client: ServiceDiscoveryClient): Promise<HttpInstanceSummary[]> {
  const out = await client.send(new DiscoverInstancesCommand({ NamespaceName: NAMESPACE, ServiceName: SERVICE, HealthStatus: 'ALL' }))
  return out.Instances ?? []
}

/** Polls DiscoverInstances until `predicate` holds for the list. */
async function waitForInstances(client: ServiceDiscoveryClient, predicate: (list: HttpInstanceSummary[]) => boolean, what: string): Promise<HttpInstanceSummary[]> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const list = await instances(client)
    if (predicate(list)) return list
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; instances: ${JSON.stringify(list)}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

t.test('registers with its attributes, marks DRAINING, deregisters on close', async (t) => {
  const cloud = await startCloud(t)
  const { node, logs } = await startTestNode(t, {
    nodeId: 'media-1',
    registration: {
      endpoint: cloud.emulator.apiEndpoint,
      credentials: DUMMY,
      namespaceName: NAMESPACE,
      serviceName: SERVICE,
      advertiseIpv4: '127.0.0.1',
      attributes: { zone: 'local-a' },
    },
  })
  await node.whenActive()
  t.equal(node.status().status, 'ACTIVE')
  t.equal((await getJson(node.port, '/health')).status, 200)
  const [instance, ...rest] = await instances(cloud.client)
  t.equal(rest.length, 0)
  t.match(instance, {
    InstanceId: 'media-1',
    Attributes: { AWS_INSTANCE_IPV4: '127.0.0.1', AWS_INSTANCE_PORT: String(node.port), status: 'ACTIVE', zone: 'local-a' },
  })
  await openClient(t, `ws://127.0.0.1:${node.port}/ws/registered`)

  await node.startDraining()
  const draining = await instances(cloud.client)
  t.match(draining[0]?.Attributes, { status: 'DRAINING', AWS_INSTANCE_PORT: String(node.port) }, 'Cloud Map says DRAINING')
  // This service has no HealthCheckCustomConfig: CustomHealthNotFound is logged, not fatal.
  t.ok(logs.some((e) => e['msg'] === 'Cloud Map service has no custom health check; health not reported'), 'CustomHealthNotFound tolerated')
  t.notOk(logs.some((e) => e['level'] === 'warn' || e['level'] === 'error'), 'no warning for it')

  await node.close()
  t.same(await instances(cloud.client), [], 'gone after close')
})

t.test('the service id can be given instead of names', async (t) => {
  const cloud = await startCloud(t)
  const { node } = await startTestNode(t, {
    nodeId: 'media-2',
    registration: { client: cloud.client, serviceId: cloud.serviceId, advertiseIpv4: '127.0.0.1', advertisePort: 40123 },
  })
  await node.whenActive()
  t.match(await instances(cloud.client), [{ InstanceId: 'media-2', Attributes: { AWS_INSTANCE_PORT: '40123' } }])
  t.equal(cloud.emulator.stats.apiCalls('ListNamespaces'), 1, 'only the setup helper listed namespaces')
  await node.close() // before the emulator's teardown
  t.same(await instances(cloud.client), [])
})

t.test('registration failing at first is retried; STARTING until then', async (t) => {
  const port = await freePort()
  const { node, logs } = await startTestNode(t, {
    nodeId: 'media-late',
    retryAfterSeconds: 3,
    registration: {
      endpoint: `http://127.0.0.1:${port}`,
      credentials: DUMMY,
      namespaceName: NAMESPACE,
      serviceName: SERVICE,
      advertiseIpv4: '127.0.0.1',
      initialRetryDelayMs: 20,
      maxRetryDelayMs: 200,
    },
  })
  const failures = () => logs.filter((e) => e['msg'] === 'Cloud Map registration failed, will retry').length
  await waitFor(() => failures() >= 2, 'two failed attempts')
  t.match((await getJson(node.port, '/status')).body, {
    status: 'STARTING',
    nodeId: 'media-late',
    registration: { registered: false, attempts: Number, lastError: /ECONNREFUSED/ },
  })
  const health = await getJson(node.port, '/health')
  t.equal(health.status, 503)
  t.equal(health.headers.get('retry-after'), '3')
  const refused = parseResponse((await rawExchange(node.port, upgradeRequest('/ws/early'))).response)
  t.match(refused.statusLine, /^HTTP\/1\.1 503 /)
  t.equal(refused.headers['retry-after'], '3')
  t.match(JSON.parse(refused.body), { code: 'NODE_UNAVAILABLE' })

  const cloud = await startCloud(t, port)
  await node.whenActive()
  t.ok(failures() >= 2, `${failures()} failures reported before success`)
  t.equal((await getJson(node.port, '/health')).status, 200)
  t.match((await getJson(node.port, '/status')).body, { status: 'ACTIVE', registration: { registered: true } })
  t.notMatch((await getJson(node.port, '/status')).body, { registration: { lastError: String } })
  t.match(await instances(cloud.client), [{ InstanceId: 'media-late', Attributes: { status: 'ACTIVE' } }])
  await openClient(t, `ws://127.0.0.1:${node.port}/ws/late`)
  await node.close() // before the emulator's teardown
})

t.test('child process on awsvpc: id and IPv4 from task metadata; SIGTERM deregisters and exits 0', async (t) => {
  const cloud = await startCloud(t)
  const container = containerDoc('awsvpc', '127.0.0.1')
  const metadataUri = await startMetadataServer(t, container, taskDoc(container))
  const proc = spawnNode(t, {
    ECS_CONTAINER_METADATA_URI_V4: metadataUri,
    CLOUDMAP_ENDPOINT: cloud.emulator.apiEndpoint,
    CLOUDMAP_NAMESPACE: NAMESPACE,
    CLOUDMAP_SERVICE: SERVICE,
    REGISTER_RETRY_INITIAL_MS: '50',
    REGISTER_RETRY_MAX_MS: '500',
  })
  const listening = await proc.line((l) => l['msg'] === 'media node listening', 'listening')
  const port = Number(listening['port'])
  const taskId = '8f03e41243824aea923aca126495f665'
  await waitForInstances(cloud.client, (list) => list.some((i) => i.InstanceId === taskId), 'the child registered')
  t.match(await instances(cloud.client), [
    { InstanceId: taskId, Attributes: { AWS_INSTANCE_IPV4: '127.0.0.1', AWS_INSTANCE_PORT: String(port), status: 'ACTIVE' } },
  ])
  await waitFor(() => proc.lines.some((l) => l['msg'] === 'media node active'), 'ACTIVE')
  t.equal((await getJson(port, '/health')).status, 200)

  proc.child.kill('SIGTERM')
  const { code } = await proc.exited
  t.equal(code, 0, 'exit 0')
  t.same(await instances(cloud.client), [], 'deregistered')
  t.ok(proc.lines.some((l) => l['msg'] === 'deregistered from Cloud Map'))
})

t.test('child process on bridge networking: ADVERTISE_IPV4 from config, port from HostPort', async (t) => {
  const cloud = await startCloud(t)
  const port = await freePort()
  const container = containerDoc('bridge', '172.17.0.2', [{ ContainerPort: port, HostPort: 49153 }])
  const metadataUri = await startMetadataServer(t, container, taskDoc(container))
  const proc = spawnNode(t, {
    PORT: String(port),
    NODE_ID: 'bridge-node',
    ADVERTISE_IPV4: '127.0.0.1',
    ECS_CONTAINER_METADATA_URI_V4: metadataUri,
    CLOUDMAP_ENDPOINT: cloud.emulator.apiEndpoint,
    CLOUDMAP_SERVICE_ID: cloud.serviceId,
  })
  await waitForInstances(cloud.client, (list) => list.length === 1, 'the child registered')
  t.match(await instances(cloud.client), [
    { InstanceId: 'bridge-node', Attributes: { AWS_INSTANCE_IPV4: '127.0.0.1', AWS_INSTANCE_PORT: '49153' } },
  ])
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
  t.same(await instances(cloud.client), [])
})

t.test('SIGKILL leaves the instance behind; a restart with the same NODE_ID re-registers it in place', async (t) => {
  const cloud = await startCloud(t)
  const env = {
    NODE_ID: 'restart-node',
    ADVERTISE_IPV4: '127.0.0.1',
    CLOUDMAP_ENDPOINT: cloud.emulator.apiEndpoint,
    CLOUDMAP_SERVICE_ID: cloud.serviceId,
  }
  const first = spawnNode(t, { ...env, ADVERTISE_PORT: '40001' })
  await waitForInstances(cloud.client, (list) => list.length === 1, 'first registration')
  first.child.kill('SIGKILL')
  t.equal((await first.exited).signal, 'SIGKILL')
  t.match(await instances(cloud.client), [{ InstanceId: 'restart-node', Attributes: { AWS_INSTANCE_PORT: '40001' } }], 'stale after SIGKILL')

  const second = spawnNode(t, { ...env, ADVERTISE_PORT: '40002' })
  const list = await waitForInstances(
    cloud.client,
    (l) => l.length === 1 && l[0]?.Attributes?.['AWS_INSTANCE_PORT'] === '40002',
    'the restart re-registered with its new port',
  )
  t.equal(list.length, 1, 'one instance, not two')
  second.child.kill('SIGTERM')
  t.equal((await second.exited).code, 0)
  t.same(await instances(cloud.client), [])
})

t.test('bridge networking without ADVERTISE_IPV4 fails at start-up', async (t) => {
  const container = containerDoc('bridge', '172.17.0.2')
  const metadataUri = await startMetadataServer(t, container, taskDoc(container))
  const proc = spawnNode(t, { ECS_CONTAINER_METADATA_URI_V4: metadataUri, CLOUDMAP_ENDPOINT: 'http://127.0.0.1:1' })
  const failed = await proc.line((l) => l['msg'] === 'media node failed to start', 'start-up failure')
  t.match(failed['error'], /ADVERTISE_IPV4.*bridge/)
  t.equal((await proc.exited).code, 1)
})
