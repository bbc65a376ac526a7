// Config parsing, node-id rules and identity resolution (pure, table-driven).

import t from 'tap'
import { loadConfig, needsMetadataFile, resolveIdentity } from '../../media-node/src/config.js'
import type { EcsTaskInfo } from '../../media-node/src/ecs-metadata.js'
import { isDnsLabel, nodeIdFromHostname, nodeIdFromTaskArn } from '../../media-node/src/node-id.js'
import { checkAttributes } from '../../media-node/src/registration.js'

t.test('defaults', async (t) => {
  const c = loadConfig({})
  t.match(c, {
    nodeId: undefined,
    host: '0.0.0.0',
    port: 8080,
    register: true,
    namespaceName: 'ecs.internal',
    serviceName: 'media',
    serviceId: undefined,
    endpoint: undefined,
    endpointOverridden: false,
    sendBufferLimitBytes: 4 * 1024 * 1024,
    heartbeatIntervalMs: 30_000,
    logLevel: 'info',
  })
  t.ok(c.maxPayloadBytes > 1024 * 1024, 'a 1 MiB message fits')
})

t.test('drain, admin and task protection defaults and values', async (t) => {
  t.match(loadConfig({}), {
    adminPort: 8081,
    adminHost: undefined,
    adminToken: undefined,
    drainTimeoutMs: 7_200_000,
    sigtermDrainTimeoutMs: 7_200_000,
    drainPollMs: 1000,
    shutdownTimeoutMs: 30_000,
    ecsAgentUri: undefined,
    taskProtectionMinutes: 60,
    taskProtectionRenewMs: 30 * 60_000,
    taskProtectionReleaseDelayMs: 30_000,
    taskProtectionRetryMs: 5000,
  })
  t.match(
    loadConfig({
      ADMIN_PORT: '9091',
      ADMIN_TOKEN: ' s3cret ',
      DRAIN_TIMEOUT_MS: '60000',
      DRAIN_POLL_MS: '50',
      ECS_AGENT_URI: 'http://169.254.170.2/api/abc-123',
      TASK_PROTECTION_MINUTES: '2880',
      TASK_PROTECTION_RELEASE_DELAY_MS: '0',
    }),
    {
      adminPort: 9091,
      adminToken: 's3cret',
      drainTimeoutMs: 60_000,
      sigtermDrainTimeoutMs: 60_000,
      drainPollMs: 50,
      ecsAgentUri: 'http://169.254.170.2/api/abc-123',
      taskProtectionMinutes: 2880,
      taskProtectionRenewMs: 1440 * 60_000,
      taskProtectionReleaseDelayMs: 0,
    },
  )
  t.equal(loadConfig({ DRAIN_TIMEOUT_MS: '60000', SIGTERM_DRAIN_TIMEOUT_MS: '100000' }).sigtermDrainTimeoutMs, 100_000)
  t.equal(loadConfig({ PORT: '0', ADMIN_PORT: '0' }).adminPort, 0, 'both 0 (tests) is fine')
})

t.test('values are parsed', async (t) => {
  const c = loadConfig({
    NODE_ID: 'node-7',
    PORT: '9000',
    ADVERTISE_IPV4: '10.1.2.3',
    ADVERTISE_PORT: '32768',
    CLOUDMAP_REGISTER: 'false',
    CLOUDMAP_SERVICE_ID: 'srv-abc123',
    CLOUDMAP_ENDPOINT: 'http://127.0.0.1:4566',
    LOG_LEVEL: 'debug',
  })
  t.match(c, {
    nodeId: 'node-7',
    port: 9000,
    advertiseIpv4: '10.1.2.3',
    advertisePort: 32768,
    register: false,
    serviceId: 'srv-abc123',
    endpoint: 'http://127.0.0.1:4566',
    endpointOverridden: true,
    logLevel: 'debug',
  })
  t.equal(loadConfig({ AWS_ENDPOINT_URL_SERVICEDISCOVERY: 'http://x:1' }).endpointOverridden, true)
})

const bad: [Record<string, string>, RegExp][] = [
  [{ NODE_ID: 'Node_1' }, /^NODE_ID/],
  [{ NODE_ID: '-abc' }, /^NODE_ID/],
  [{ NODE_ID: 'a'.repeat(64) }, /^NODE_ID/],
  [{ PORT: '80a' }, /^PORT/],
  [{ PORT: '70000' }, /^PORT/],
  [{ ADVERTISE_IPV4: '10.0.0' }, /^ADVERTISE_IPV4/],
  [{ ADVERTISE_PORT: '0' }, /^ADVERTISE_PORT/],
  [{ CLOUDMAP_REGISTER: 'maybe' }, /^CLOUDMAP_REGISTER/],
  [{ CLOUDMAP_ENDPOINT: 'localhost:4566' }, /^CLOUDMAP_ENDPOINT/],
  [{ CLOUDMAP_SERVICE_ID: 'media' }, /^CLOUDMAP_SERVICE_ID/],
  [{ MAX_PAYLOAD_BYTES: '-1' }, /^MAX_PAYLOAD_BYTES/],
  [{ SEND_BUFFER_LIMIT_BYTES: 'lots' }, /^SEND_BUFFER_LIMIT_BYTES/],
  [{ HEARTBEAT_INTERVAL_MS: '1.5' }, /^HEARTBEAT_INTERVAL_MS/],
  [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL/],
  [{ ECS_CONTAINER_METADATA_URI_V4: 'nope' }, /^ECS_CONTAINER_METADATA_URI_V4/],
  [{ ADMIN_PORT: '8080' }, /^ADMIN_PORT must differ from PORT/],
  [{ PORT: '9000', ADMIN_PORT: '9000' }, /^ADMIN_PORT must differ from PORT/],
  [{ ADMIN_PORT: '65536' }, /^ADMIN_PORT/],
  [{ DRAIN_TIMEOUT_MS: '2h' }, /^DRAIN_TIMEOUT_MS/],
  [{ DRAIN_POLL_MS: '0' }, /^DRAIN_POLL_MS/],
  [{ DRAIN_TIMEOUT_MS: '172800001' }, /^DRAIN_TIMEOUT_MS/],
  [{ SIGTERM_DRAIN_TIMEOUT_MS: '172800001' }, /^SIGTERM_DRAIN_TIMEOUT_MS/],
  [{ TASK_PROTECTION_RELEASE_DELAY_MS: '2147483648' }, /^TASK_PROTECTION_RELEASE_DELAY_MS/],
  [{ ECS_AGENT_URI: '169.254.170.2/api/x' }, /^ECS_AGENT_URI/],
  [{ TASK_PROTECTION_MINUTES: '0' }, /^TASK_PROTECTION_MINUTES/],
  [{ TASK_PROTECTION_MINUTES: '2881' }, /^TASK_PROTECTION_MINUTES/],
  [{ TASK_PROTECTION_MINUTES: '10', TASK_PROTECTION_RENEW_MS: '600000' }, /^TASK_PROTECTION_RENEW_MS/],
  [{ TASK_PROTECTION_RETRY_MS: '0' }, /^TASK_PROTECTION_RETRY_MS/],
]
for (const [env, message] of bad) {
  t.test(`bad config names its variable: ${JSON.stringify(env).slice(0, 60)}`, async (t) => {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message })
  })
}

t.test('DNS labels', async (t) => {
  for (const ok of ['a', 'node-1', '8f03e41243824aea923aca126495f665', 'a'.repeat(63)]) t.ok(isDnsLabel(ok), ok)
  for (const no of ['', '-a', 'a-', 'A', 'a_b', 'a.b', 'a'.repeat(64)]) t.notOk(isDnsLabel(no), JSON.stringify(no))
})

t.test('node id from a task ARN', async (t) => {
  t.equal(nodeIdFromTaskArn('arn:aws:ecs:us-west-2:111122223333:task/default/8F03E41243824AEA923ACA126495F665'), '8f03e41243824aea923aca126495f665')
  t.equal(nodeIdFromTaskArn('arn:aws:ecs:us-east-2:012345678910:task/9781c248-0edd-4cdb-9a93-f63cb662a5d3'), '9781c248-0edd-4cdb-9a93-f63cb662a5d3')
  t.equal(nodeIdFromTaskArn('arn:aws:ecs:us-west-2:111122223333:service/default/x'), undefined)
  t.equal(nodeIdFromTaskArn('garbage'), undefined)
})

t.test('node id from a hostname', async (t) => {
  t.equal(nodeIdFromHostname('ip-10-0-1-2.ec2.internal'), 'ip-10-0-1-2-ec2-internal')
  t.equal(nodeIdFromHostname('My_Host'), 'my-host')
  t.equal(nodeIdFromHostname('--'), undefined)
  const long = nodeIdFromHostname(`${'a'.repeat(62)}.b`)
  t.equal(long, 'a'.repeat(62), 'cut to 63 and no trailing hyphen')
})

t.test('identity: config wins, then ECS metadata, then hostname', async (t) => {
  const meta: EcsTaskInfo = {
    taskArn: 'arn:aws:ecs:eu-west-1:1:task/c/abcdef',
    taskId: 'abcdef',
    region: 'eu-west-1',
    networkMode: 'awsvpc',
    ipv4: '10.0.0.9',
    hostPort: undefined,
  }
  t.match(resolveIdentity(loadConfig({}), meta, 'host'), { nodeId: 'abcdef', nodeIdSource: 'ecs-task', advertiseIpv4: '10.0.0.9', region: 'eu-west-1' })
  t.match(resolveIdentity(loadConfig({ NODE_ID: 'n1', ADVERTISE_IPV4: '10.9.9.9', AWS_REGION: 'us-east-2' }), meta, 'host'), {
    nodeId: 'n1',
    nodeIdSource: 'NODE_ID',
    advertiseIpv4: '10.9.9.9',
    region: 'us-east-2',
  })
  t.match(resolveIdentity(loadConfig({}), undefined, 'Box.local'), { nodeId: 'box-local', nodeIdSource: 'hostname', advertiseIpv4: undefined })
  t.match(resolveIdentity(loadConfig({}), { ...meta, networkMode: 'bridge', ipv4: undefined, hostPort: 49153 }, 'h'), { advertisePort: 49153 })
  t.throws(() => resolveIdentity(loadConfig({}), undefined, '...'), { name: 'ConfigError', message: /NODE_ID/ })
})

t.test('identity on bridge: host address and port from the ECS container metadata file', async (t) => {
  const bridge: EcsTaskInfo = {
    taskArn: 'arn:aws:ecs:eu-west-1:1:task/c/abcdef',
    taskId: 'abcdef',
    region: 'eu-west-1',
    networkMode: 'bridge',
    ipv4: undefined,
    hostPort: 49153,
  }
  const awsvpc: EcsTaskInfo = { ...bridge, networkMode: 'awsvpc', ipv4: '10.0.0.9', hostPort: undefined }
  const file = { hostIpv4: '10.0.1.43', hostPort: 49153, networkMode: 'bridge', taskArn: bridge.taskArn }
  const withFile = { ECS_CONTAINER_METADATA_FILE: '/opt/ecs/metadata/x/ecs-container-metadata.json' }

  // WHEN/THEN: which combinations read the file at all
  t.equal(needsMetadataFile(loadConfig(withFile), bridge), true, 'bridge, no ADVERTISE_IPV4')
  t.equal(needsMetadataFile(loadConfig(withFile), awsvpc), false, 'awsvpc keeps the task address')
  t.equal(needsMetadataFile(loadConfig({ ...withFile, ADVERTISE_IPV4: '10.9.9.9' }), bridge), false, 'ADVERTISE_IPV4 wins')
  t.equal(needsMetadataFile(loadConfig({ ...withFile, CLOUDMAP_REGISTER: 'false' }), bridge), false, 'not registering')
  t.equal(needsMetadataFile(loadConfig({}), bridge), false, 'no file')

  t.match(resolveIdentity(loadConfig(withFile), bridge, 'h', file), {
    nodeId: 'abcdef',
    advertiseIpv4: '10.0.1.43',
    advertisePort: 49153,
    addressSource: 'ecs-metadata-file',
  })
  t.match(resolveIdentity(loadConfig({ ...withFile, ADVERTISE_PORT: '4000' }), bridge, 'h', file), { advertiseIpv4: '10.0.1.43', advertisePort: 4000 })
  t.match(resolveIdentity(loadConfig(withFile), awsvpc, 'h', file), { advertiseIpv4: '10.0.0.9', addressSource: 'ecs-task' }, 'awsvpc unchanged')
  t.match(resolveIdentity(loadConfig({ ADVERTISE_IPV4: '10.9.9.9' }), bridge, 'h'), { advertiseIpv4: '10.9.9.9', advertisePort: 49153, addressSource: 'ADVERTISE_IPV4' })
  t.match(resolveIdentity(loadConfig({}), bridge, 'h'), { advertiseIpv4: undefined, addressSource: 'none' })
  t.throws(() => resolveIdentity(loadConfig(withFile), { ...bridge, hostPort: undefined }, 'h', { ...file, hostPort: undefined }), {
    name: 'ConfigError',
    message: /PortMappings.*PORT 8080.*ADVERTISE_PORT/,
  })
})

t.test('ECS_METADATA_FILE_TIMEOUT_MS: default 10 s, whole milliseconds up to 120 s', async (t) => {
  t.equal(loadConfig({}).ecsMetadataFileTimeoutMs, 10_000)
  t.equal(loadConfig({ ECS_METADATA_FILE_TIMEOUT_MS: '250' }).ecsMetadataFileTimeoutMs, 250)
  t.throws(() => loadConfig({ ECS_METADATA_FILE_TIMEOUT_MS: '120001' }), { name: 'ConfigError', message: /ECS_METADATA_FILE_TIMEOUT_MS/ })
  t.throws(() => loadConfig({ ECS_METADATA_FILE_TIMEOUT_MS: '1s' }), { name: 'ConfigError', message: /ECS_METADATA_FILE_TIMEOUT_MS/ })
})

t.test('custom attribute limits', async (t) => {
  t.equal(checkAttributes({ zone: 'a', version: '1.2.3' }), undefined)
  t.match(checkAttributes({ AWS_INSTANCE_IPV4: '1.2.3.4' }), /reserved/)
  t.match(checkAttributes({ k: '' }), /value/)
  t.match(checkAttributes({ k: ' v' }), /value/)
  t.match(checkAttributes({ k: 'v'.repeat(1025) }), /value/)
  t.match(checkAttributes({ ['k'.repeat(256)]: 'v' }), /key/)
  t.match(checkAttributes(Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, 'v']))), /30/)
  t.match(checkAttributes(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, 'v'.repeat(1000)]))), /5000/)
})
