// DiscoverInstances against the emulator with the `data-` host prefix that the
// AWS SDKs and the AWS CLI add to it. Three ways it works, each tested with the
// client that needs it: the JS SDK with host prefix injection ON and the
// endpoint http://cloudmap.localhost:<port> (its data- name resolves to
// loopback, RFC 6761); the JS SDK with disableHostPrefix; the real AWS CLI with
// AWS_DISABLE_HOST_PREFIX_INJECTION=true (skipped where no `aws` is installed).
import t from 'tap'
import { execFile } from 'node:child_process'
import { Agent } from 'node:http'
import { accessSync, constants, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import type { LookupFunction } from 'node:net'
import { DiscoverInstancesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { ensurePrivateDnsNamespace, ensureService, registerInstance } from '../../infra/local/src/emulator/sdk-setup.js'
import { isLocalhostName, localhostLookup } from '../../infra/local/src/emulator/localhost-lookup.js'
import { setup, type TapTest } from './helpers.js'

const run = promisify(execFile)

async function seeded(t: TapTest) {
  const { emu, client } = await setup(t)
  const ns = await ensurePrivateDnsNamespace(client, 'ecs.internal')
  const svc = await ensureService(client, { namespaceId: ns, name: 'myapp', records: [{ type: 'SRV', ttl: 5 }], customHealth: true })
  await registerInstance(client, { serviceId: svc, instanceId: 'myapp-3000', ipv4: '127.0.0.1', port: 3000 })
  return { emu, port: Number(new URL(emu.apiEndpoint).port) }
}

/** A JS SDK client with host prefix injection on (the SDK default, as the CLI's), recording the names it looks up. */
function prefixingClient(endpoint: string, looked: string[]): ServiceDiscoveryClient {
  const lookup: LookupFunction = (hostname, options, callback) => {
    looked.push(hostname)
    localhostLookup(hostname, options, callback)
  }
  return new ServiceDiscoveryClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ lookup }) }),
  })
}

t.test('JS SDK, host prefix on: an IP endpoint fails on data-<ip>, a *.localhost endpoint works', async (t) => {
  const { emu, port } = await seeded(t)
  const looked: string[] = []
  const byIp = prefixingClient(`http://127.0.0.1:${port}`, looked)
  t.teardown(() => byIp.destroy())
  await t.rejects(byIp.send(new DiscoverInstancesCommand({ NamespaceName: 'ecs.internal', ServiceName: 'myapp' })), { code: 'ENOTFOUND' }, 'the issue: data-127.0.0.1 is no address')
  t.same(looked, ['data-127.0.0.1'], 'the SDK prefixed the IP endpoint')

  looked.length = 0
  const calls = emu.stats.apiCalls('DiscoverInstances')
  const byName = prefixingClient(`http://cloudmap.localhost:${port}`, looked)
  t.teardown(() => byName.destroy())
  const out = await byName.send(new DiscoverInstancesCommand({ NamespaceName: 'ecs.internal', ServiceName: 'myapp' }))
  t.same(looked, ['data-cloudmap.localhost'], 'the prefix was injected')
  t.same(out.Instances?.map((i) => [i.InstanceId, i.Attributes?.['AWS_INSTANCE_PORT']]), [['myapp-3000', '3000']])
  t.equal(emu.stats.apiCalls('DiscoverInstances'), calls + 1, 'the emulator answered it')
})

t.test('JS SDK with disableHostPrefix reaches the IP endpoint', async (t) => {
  const { port } = await seeded(t)
  const client = new ServiceDiscoveryClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, disableHostPrefix: true, maxAttempts: 1 })
  t.teardown(() => client.destroy())
  const out = await client.send(new DiscoverInstancesCommand({ NamespaceName: 'ecs.internal', ServiceName: 'myapp' }))
  t.equal(out.Instances?.length, 1)
})

t.test('localhost names per RFC 6761, nothing else resolved', async (t) => {
  t.ok(isLocalhostName('localhost'))
  t.ok(isLocalhostName('data-cloudmap.localhost'))
  t.ok(isLocalhostName('A.LOCALHOST.'))
  t.notOk(isLocalhostName('localhost.example.com'))
  t.notOk(isLocalhostName('notlocalhost'))
})

t.test('the AWS CLI with AWS_DISABLE_HOST_PREFIX_INJECTION=true', async (t) => {
  const aws = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'aws')).find((file) => {
    try {
      accessSync(file, constants.X_OK)
      return true
    } catch {
      return false
    }
  })
  if (aws === undefined) {
    t.comment('SKIP: no `aws` command on PATH'); t.pass('skipped')
    return
  }
  const { port } = await seeded(t)
  // No user configuration or credentials are read: empty config files, dummy keys.
  const home = mkdtempSync(join(tmpdir(), 'aws-cli-'))
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_DISABLE_HOST_PREFIX_INJECTION: 'true',
  }
  const { stdout } = await run(aws, ['servicediscovery', 'discover-instances', '--endpoint-url', `http://127.0.0.1:${port}`, '--namespace-name', 'ecs.internal', '--service-name', 'myapp', '--output', 'json'], { env, timeout: 60_000 })
  const out = JSON.parse(stdout) as { Instances?: Array<{ InstanceId?: string }> }
  t.same(out.Instances?.map((i) => i.InstanceId), ['myapp-3000'], 'the CLI reaches the emulator')
})
