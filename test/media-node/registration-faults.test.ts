// Registration against a faulty Cloud Map (the emulator's fault switches): an
// API that accepts and never answers, one slower than the request timeout,
// and one that throttles RegisterInstance. Each time the attempt fails with
// the right error, is retried with backoff, /status shows the last error while
// the node stays STARTING, and the node becomes ACTIVE once the fault is
// cleared. A child process against a hung API prints JSON lines only (the
// SDK's own log lines go through the node's logger). Waits are on events.

import t from 'tap'
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery'
import { startEmulator } from '../../infra/local/src/emulator/index.js'
import type { Emulator } from '../../infra/local/src/emulator/index.js'
import { emulatorClient, ensurePrivateDnsNamespace, ensureService } from '../../infra/local/src/emulator/sdk-setup.js'
import type { MediaNodeOptions } from '../../media-node/src/index.js'
import { getJson, startTestNode, waitFor } from './helpers.js'
import { spawnNode } from './fixtures/child.js'

const NAMESPACE = 'ecs.internal'
const SERVICE = 'media'

async function startCloud(t: { teardown(fn: () => unknown): void }): Promise<{ emulator: Emulator; serviceId: string; registered: () => Promise<string[]> }> {
  const emulator = await startEmulator({ log: () => {} })
  t.teardown(() => emulator.close())
  const client = emulatorClient(emulator.apiEndpoint)
  t.teardown(() => client.destroy())
  const namespaceId = await ensurePrivateDnsNamespace(client, NAMESPACE)
  const serviceId = await ensureService(client, { namespaceId, name: SERVICE, records: [{ type: 'SRV', ttl: 10 }] })
  const registered = async (): Promise<string[]> =>
    ((await client.send(new DiscoverInstancesCommand({ NamespaceName: NAMESPACE, ServiceName: SERVICE, HealthStatus: 'ALL' }))).Instances ?? []).map((i) => i.InstanceId ?? '')
  return { emulator, serviceId, registered }
}

function registration(emulator: Emulator, serviceId: string): MediaNodeOptions['registration'] {
  return {
    endpoint: emulator.apiEndpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    serviceId,
    advertiseIpv4: '127.0.0.1',
    initialRetryDelayMs: 20,
    maxRetryDelayMs: 100,
    requestTimeoutMs: 1000,
  }
}

const retries = (logs: Record<string, unknown>[], error: RegExp): number =>
  logs.filter((e) => e['msg'] === 'Cloud Map registration failed, will retry' && typeof e['error'] === 'string' && error.test(e['error'])).length

for (const fault of [
  { name: 'API hang (accepts, never answers)', set: (e: Emulator) => e.setApiFault({ mode: 'hang' }), error: /TimeoutError/ },
  { name: 'API slower than the request timeout', set: (e: Emulator) => e.setApiFault({ mode: 'slow', delayMs: 5000 }), error: /TimeoutError/ },
  { name: 'API throttling RegisterInstance', set: (e: Emulator) => e.setThrottle(1, ['RegisterInstance']), error: /RequestLimitExceeded/ },
]) {
  t.test(`${fault.name}: retried with backoff, last error on /status, ACTIVE once it clears`, async (t) => {
    const cloud = await startCloud(t)
    fault.set(cloud.emulator)
    const { node, logs } = await startTestNode(t, { nodeId: 'media-f', admin: { port: 0, token: undefined }, registration: registration(cloud.emulator, cloud.serviceId) })
    await waitFor(() => retries(logs, fault.error) >= 2, 'two failed attempts with the fault')
    const status = (await getJson(node.adminPort ?? 0, '/status')).body
    t.match(status, { status: 'STARTING', registration: { registered: false, attempts: Number, lastError: fault.error } })
    t.ok(logs.some((e) => e['msg'] === 'aws sdk'), 'the SDK reported the failed call through the node logger')
    cloud.emulator.clearFaults()
    await node.whenActive()
    t.match(node.status(), { status: 'ACTIVE', registration: { registered: true } })
    t.notMatch(node.status(), { registration: { lastError: String } }, 'the error is cleared on success')
    t.same(await cloud.registered(), ['media-f'])
    await node.close() // before the emulator's teardown
  })
}

t.test('API slow but within the request timeout: registers on the first attempt', async (t) => {
  const cloud = await startCloud(t)
  cloud.emulator.setApiFault({ mode: 'slow', delayMs: 50 })
  const { node } = await startTestNode(t, { nodeId: 'media-s', registration: { ...registration(cloud.emulator, cloud.serviceId), requestTimeoutMs: 20_000 } })
  await node.whenActive()
  t.match(node.status(), { registration: { registered: true, attempts: 1 } })
  await node.close()
})

t.test('child process against a hung API: retries on timeouts, stdout is JSON lines only, stderr is empty', async (t) => {
  const cloud = await startCloud(t)
  cloud.emulator.setApiFault({ mode: 'hang' })
  const proc = spawnNode(t, {
    NODE_ID: 'child-hang',
    ADVERTISE_IPV4: '127.0.0.1',
    CLOUDMAP_ENDPOINT: cloud.emulator.apiEndpoint,
    CLOUDMAP_SERVICE_ID: cloud.serviceId,
    CLOUDMAP_TIMEOUT_MS: '1000',
    REGISTER_RETRY_INITIAL_MS: '20',
    REGISTER_RETRY_MAX_MS: '100',
    LOG_LEVEL: 'debug',
  })
  await waitFor(() => retries(proc.lines, /TimeoutError/) >= 2, 'two timed-out attempts')
  t.ok(proc.lines.some((l) => l['msg'] === 'aws sdk'), 'SDK log lines are JSON events')
  cloud.emulator.clearFaults()
  await proc.line((l) => l['msg'] === 'media node active', 'ACTIVE after the fault cleared')
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
  t.same(proc.plain, [], 'no plain-text line on stdout')
  t.equal(proc.stderr(), '', 'nothing on stderr')
})
