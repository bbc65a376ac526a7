// The stopped-task reaper's handler (infra/aws/functions/stopped-task-reaper.ts):
// event parsing at the edge (table-driven), the task id rule shared with the
// media node's NODE_ID, and deregistration against the real local Cloud Map
// emulator — a STOPPED event of our service removes the instance from
// DiscoverInstances and from DNS and leaves the other nodes; events of another
// service or cluster, or not STOPPED, change nothing; a repeated event is
// harmless; other Cloud Map errors reject (so Lambda retries, then the DLQ).
// Finally the very code the template inlines (CommonJS index.js) is run the
// way Lambda runs it: a fresh Node process, the SDK found on NODE_PATH, the
// settings in the environment, `handler(event)` awaited.
import t from 'tap'
import { spawn } from 'node:child_process'
import { promises as dns } from 'node:dns'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery'
import { inlineCommonJs } from '../../infra/aws/functions/inline-code.js'
import {
  InvalidEventError,
  REAPER_ENV,
  ReaperConfigError,
  decide,
  parseTaskStateChange,
  readReaperConfig,
  reapStoppedTask,
  taskIdOfArn,
} from '../../infra/aws/functions/stopped-task-reaper.js'
import type { LogLine, ReaperConfig } from '../../infra/aws/functions/stopped-task-reaper.js'
import { REAPER_SOURCE } from '../../infra/aws/constructs/stopped-task-reaper.js'
import { nodeIdFromTaskArn } from '../../media-node/src/node-id.js'
import { NAMESPACE, startCloudMap } from '../fixtures/cloudmap.js'
import type { CloudMapFixture } from '../fixtures/cloudmap.js'
import { taskStateChangeEvent } from './fixtures/ecs-events.js'

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLUSTER_ARN = 'arn:aws:ecs:eu-west-1:111122223333:cluster/EdgeRouter-dev-ComputeCluster'
const GROUP = 'service:media-nodes'
const DEAD = '8f03e41243824aea923aca126495f665'
const LIVE = '0b1a49793846e3e846fb63a9ad545b04'

t.test('parseTaskStateChange: the documented event shape becomes a typed value', async (t) => {
  // GIVEN an EC2 service task's STOPPED event WHEN parsed
  const change = parseTaskStateChange(taskStateChangeEvent({ taskId: DEAD }))
  // THEN the fields the reaper uses are there, the task id taken from the ARN
  t.same(change, {
    eventId: '3317b2af-7005-947d-b652-f55e762e571a',
    clusterArn: CLUSTER_ARN,
    taskArn: `arn:aws:ecs:eu-west-1:111122223333:task/EdgeRouter-dev-ComputeCluster/${DEAD}`,
    taskId: DEAD,
    group: GROUP,
    lastStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    version: 5,
  })
  // AND a RUNNING event parses too (deciding is a separate step)
  t.equal(parseTaskStateChange(taskStateChangeEvent({ taskId: DEAD, lastStatus: 'RUNNING' })).stopCode, undefined)
})

t.test('parseTaskStateChange refuses what is not an ECS Task State Change, naming the field', async (t) => {
  const good = taskStateChangeEvent({ taskId: DEAD })
  const detail = good['detail'] as Record<string, unknown>
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'STOPPED', /event is not a JSON object/],
    ['array', [good], /event is not a JSON object/],
    ['another detail-type', { ...good, 'detail-type': 'ECS Container Instance State Change' }, /not aws\.ecs \/ ECS Task State Change/],
    ['another source', { ...good, source: 'aws.ec2' }, /not aws\.ecs/],
    ['no detail', { ...good, detail: undefined }, /event\.detail is not an object/],
    ['no taskArn', { ...good, detail: { ...detail, taskArn: undefined } }, /detail\.taskArn is not a non-empty string/],
    ['taskArn of a container instance', { ...good, detail: { ...detail, taskArn: 'arn:aws:ecs:eu-west-1:111122223333:container-instance/x/abc' } }, /no task id/],
    ['task id not a DNS label', { ...good, detail: { ...detail, taskArn: 'arn:aws:ecs:eu-west-1:111122223333:task/c/ab_cd' } }, /no task id/],
    ['clusterArn a number', { ...good, detail: { ...detail, clusterArn: 7 } }, /detail\.clusterArn/],
    ['no lastStatus', { ...good, detail: { ...detail, lastStatus: undefined } }, /detail\.lastStatus/],
    ['group not a string', { ...good, detail: { ...detail, group: ['service:x'] } }, /detail\.group is not a string/],
    ['version not an integer', { ...good, detail: { ...detail, version: '5' } }, /detail\.version is not an integer/],
  ]
  for (const [what, event, message] of cases) {
    t.throws(() => parseTaskStateChange(event), InvalidEventError, what)
    t.throws(() => parseTaskStateChange(event), { message }, what)
  }
})

t.test('the task id is the media node’s default NODE_ID for every ARN form', async (t) => {
  // GIVEN current (cluster/id), older (UUID, no cluster) and odd ARNs
  const arns = [
    `arn:aws:ecs:eu-west-1:111122223333:task/EdgeRouter-dev-ComputeCluster/${DEAD}`,
    'arn:aws:ecs:us-west-2:111122223333:task/0b69d5c0-d655-4695-98cd-5d2d526d9d5a',
    `arn:aws-cn:ecs:cn-north-1:111122223333:task/c/${DEAD.toUpperCase()}`,
    'arn:aws:ecs:eu-west-1:111122223333:task/c/-bad',
    'arn:aws:ecs:eu-west-1:111122223333:container-instance/c/765936fadbdd46b5991a4bd70c2a43d4',
    'not an arn',
  ]
  // THEN the reaper and the node agree (the node registers under that id)
  for (const arn of arns) t.equal(taskIdOfArn(arn), nodeIdFromTaskArn(arn), arn)
  t.equal(taskIdOfArn(arns[0] ?? ''), DEAD)
})

t.test('decide: only a STOPPED task of our cluster and our service is deregistered', async (t) => {
  const config: ReaperConfig = { serviceId: 'srv-x', clusterArn: CLUSTER_ARN, taskGroup: GROUP }
  const cases: Array<[string, Record<string, unknown>, ReturnType<typeof decide>]> = [
    ['ours, stopped', taskStateChangeEvent({ taskId: DEAD }), { action: 'deregister', instanceId: DEAD }],
    ['ours, running', taskStateChangeEvent({ taskId: DEAD, lastStatus: 'RUNNING' }), { action: 'ignore', reason: 'not-stopped' }],
    ['ours, deprovisioning', taskStateChangeEvent({ taskId: DEAD, lastStatus: 'DEPROVISIONING' }), { action: 'ignore', reason: 'not-stopped' }],
    ['another cluster', taskStateChangeEvent({ taskId: DEAD, clusterName: 'other' }), { action: 'ignore', reason: 'other-cluster' }],
    ['another service', taskStateChangeEvent({ taskId: DEAD, group: 'service:demo' }), { action: 'ignore', reason: 'other-service' }],
    ['a standalone task', taskStateChangeEvent({ taskId: DEAD, group: 'family:media-node' }), { action: 'ignore', reason: 'other-service' }],
  ]
  for (const [what, event, expected] of cases) t.same(decide(parseTaskStateChange(event), config), expected, what)
})

t.test('readReaperConfig names a missing variable', async (t) => {
  const env = { [REAPER_ENV.serviceId]: 'srv-1', [REAPER_ENV.clusterArn]: CLUSTER_ARN, [REAPER_ENV.taskGroup]: GROUP }
  t.same(readReaperConfig(env), { serviceId: 'srv-1', clusterArn: CLUSTER_ARN, taskGroup: GROUP })
  t.throws(() => readReaperConfig({ ...env, ECS_TASK_GROUP: '' }), ReaperConfigError)
  t.throws(() => readReaperConfig({ ...env, CLOUDMAP_SERVICE_ID: undefined }), { message: 'CLOUDMAP_SERVICE_ID is not set' })
})

/** The emulator with the `media` service (SRV + A, custom health), a dead node's and a live node's instances. */
async function mediaCloud(t: TapTest): Promise<{ cloud: CloudMapFixture; serviceId: string; config: ReaperConfig; resolver: dns.Resolver }> {
  const cloud = await startCloudMap()
  t.teardown(() => cloud.close())
  const serviceId = await cloud.service('media')
  await cloud.register(serviceId, DEAD, 32768, { status: 'ACTIVE' }, '10.0.1.10')
  await cloud.register(serviceId, LIVE, 32769, { status: 'ACTIVE' }, '10.0.1.11')
  const resolver = new dns.Resolver({ timeout: 10_000, tries: 1 })
  resolver.setServers([cloud.dnsServer])
  return { cloud, serviceId, config: { serviceId, clusterArn: CLUSTER_ARN, taskGroup: GROUP }, resolver }
}

async function instanceIds(cloud: CloudMapFixture): Promise<string[]> {
  const out = await cloud.client.send(new DiscoverInstancesCommand({ NamespaceName: NAMESPACE, ServiceName: 'media', HealthStatus: 'ALL' }))
  return (out.Instances ?? []).map((i) => i.InstanceId ?? '').sort()
}

async function dnsCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
    return undefined
  } catch (err) {
    return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : String(err)
  }
}

t.test('a STOPPED event of a media node task removes its instance from DiscoverInstances and DNS; a repeat is harmless', async (t) => {
  // GIVEN a dead node's stale HEALTHY instance next to a live node's
  const { cloud, config, resolver } = await mediaCloud(t)
  t.same(await instanceIds(cloud), [LIVE, DEAD].sort())
  t.same(await resolver.resolve4(`${DEAD}.media.${NAMESPACE}`), ['10.0.1.10'], 'the stale entry answers in DNS')
  const lines: LogLine[] = []
  const event = taskStateChangeEvent({ taskId: DEAD })
  // WHEN the dead node's task STOPPED event is handled
  const outcome = await reapStoppedTask(cloud.client, config, event, (l) => lines.push(l))
  // THEN its instance is deregistered, from the API and from DNS
  t.match(outcome, { outcome: 'deregistered', instanceId: DEAD })
  t.type(outcome.outcome === 'deregistered' ? outcome.operationId : undefined, 'string', 'the operation id is reported')
  t.same(await instanceIds(cloud), [LIVE], 'only the live node is left')
  t.equal(await dnsCode(resolver.resolve4(`${DEAD}.media.${NAMESPACE}`)), 'ENOTFOUND', 'its A record is gone')
  t.same((await resolver.resolveSrv(`media.${NAMESPACE}`)).map((r) => r.name), [`${LIVE}.media.${NAMESPACE}`], 'SRV lists the live node only')
  t.same(await resolver.resolve4(`${LIVE}.media.${NAMESPACE}`), ['10.0.1.11'], 'the live node still resolves')
  // AND one JSON-able log line says so
  t.equal(lines.length, 1)
  t.match(lines[0], { level: 'info', outcome: 'deregistered', instanceId: DEAD, serviceId: config.serviceId, stopCode: 'EssentialContainerExited', version: 5 })
  t.doesNotThrow(() => JSON.stringify(lines[0]))

  // WHEN the same event is delivered again (EventBridge delivers at least once)
  const again = await reapStoppedTask(cloud.client, config, event, (l) => lines.push(l))
  // THEN it is a success that changes nothing
  t.same(again, { outcome: 'already-gone', instanceId: DEAD })
  t.same(await instanceIds(cloud), [LIVE])
  t.equal(lines.length, 2)
  t.match(lines[1], { level: 'info', outcome: 'already-gone', instanceId: DEAD })
})

t.test('events of another service, another cluster, or not STOPPED deregister nothing', async (t) => {
  // GIVEN both instances registered
  const { cloud, config } = await mediaCloud(t)
  const events = [
    taskStateChangeEvent({ taskId: LIVE, group: 'service:demo' }),
    taskStateChangeEvent({ taskId: LIVE, clusterName: 'another-cluster' }),
    taskStateChangeEvent({ taskId: LIVE, lastStatus: 'RUNNING' }),
    taskStateChangeEvent({ taskId: LIVE, lastStatus: 'STOPPING' }),
  ]
  const lines: LogLine[] = []
  // WHEN each is handled
  const outcomes = []
  for (const event of events) outcomes.push(await reapStoppedTask(cloud.client, config, event, (l) => lines.push(l)))
  // THEN each is ignored with its reason, one line each, and both instances stay
  t.same(outcomes.map((o) => (o.outcome === 'ignored' ? o.reason : o.outcome)), ['other-service', 'other-cluster', 'not-stopped', 'not-stopped'])
  t.equal(lines.length, events.length)
  t.same(await instanceIds(cloud), [LIVE, DEAD].sort())
})

t.test('an invalid event and a Cloud Map failure reject (Lambda retries, then the dead-letter queue) with one error line', async (t) => {
  const { cloud, config } = await mediaCloud(t)
  const lines: LogLine[] = []
  // WHEN the event is not a task state change
  await t.rejects(reapStoppedTask(cloud.client, config, { source: 'aws.ecs' }, (l) => lines.push(l)), InvalidEventError)
  t.match(lines.at(-1), { level: 'error', msg: /invalid event/, error: /detail-type/ })
  // WHEN the configured service does not exist
  const wrong = { ...config, serviceId: 'srv-doesnotexist0000' }
  await t.rejects(reapStoppedTask(cloud.client, wrong, taskStateChangeEvent({ taskId: DEAD }), (l) => lines.push(l)), { name: 'ServiceNotFound' })
  t.match(lines.at(-1), { level: 'error', outcome: 'failed', instanceId: DEAD, error: /ServiceNotFound/ })
  t.equal(lines.length, 2)
  // THEN nothing was deregistered
  t.same(await instanceIds(cloud), [LIVE, DEAD].sort())
})

/** Runs index.js (the inlined code) in a fresh Node like Lambda: handler(event) per event, results on stderr as JSON. */
function runInlined(dir: string, env: Record<string, string>, events: unknown[]): Promise<{ code: number | null; stdout: string; results: unknown[] }> {
  const driver = `
    const { handler } = require(${JSON.stringify(join(dir, 'index.js'))})
    ;(async () => {
      for (const event of JSON.parse(process.argv[1])) {
        try { process.stderr.write(JSON.stringify({ ok: await handler(event) }) + '\\n') }
        catch (err) { process.stderr.write(JSON.stringify({ error: err.name }) + '\\n') }
      }
    })()`
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', driver, JSON.stringify(events)], {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '', NODE_PATH: join(ROOT, 'node_modules'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.on('error', reject)
    child.on('close', (code) => {
      const results: unknown[] = []
      for (const line of stderr.split('\n').filter((l) => l.startsWith('{'))) results.push(JSON.parse(line))
      resolve({ code, stdout, results })
    })
  })
}

t.test('the inlined CommonJS index.js runs as Lambda runs it and reaps against the emulator', async (t) => {
  // GIVEN the code the template carries, written as index.js in an empty folder
  const dir = mkdtempSync(join(tmpdir(), 'reaper-inline-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'index.js'), inlineCommonJs(REAPER_SOURCE))
  const { cloud, serviceId } = await mediaCloud(t)
  // AND the environment the construct sets, plus what Lambda provides (region, credentials), aimed at the emulator
  const env = {
    [REAPER_ENV.serviceId]: serviceId,
    [REAPER_ENV.clusterArn]: CLUSTER_ARN,
    [REAPER_ENV.taskGroup]: GROUP,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'emulator',
    AWS_SECRET_ACCESS_KEY: 'emulator',
    AWS_ENDPOINT_URL_SERVICEDISCOVERY: cloud.emulator.apiEndpoint,
  }
  // WHEN one warm function gets the dead node's event twice and another service's event
  const run = await runInlined(dir, env, [taskStateChangeEvent({ taskId: DEAD }), taskStateChangeEvent({ taskId: DEAD }), taskStateChangeEvent({ taskId: LIVE, group: 'service:demo' })])
  // THEN the first deregisters, the repeat finds it gone, the other is ignored
  t.equal(run.code, 0)
  t.match(run.results, [{ ok: { outcome: 'deregistered', instanceId: DEAD } }, { ok: { outcome: 'already-gone', instanceId: DEAD } }, { ok: { outcome: 'ignored', reason: 'other-service' } }])
  t.same(await instanceIds(cloud), [LIVE])
  // AND stdout is exactly one JSON line per event
  const lines = run.stdout.split('\n').filter((l) => l !== '')
  t.equal(lines.length, 3, run.stdout)
  t.same(lines.map((l) => (JSON.parse(l) as { outcome?: unknown }).outcome), ['deregistered', 'already-gone', 'ignored'])
})
