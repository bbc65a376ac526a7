// ECS task scale-in protection against a fake agent (a real HTTP server on
// 127.0.0.1): the exact request shape, set on 0 → 1 connections, renewal at
// half the period, a debounced release at 0, the final release, failures
// (`failure` body, 5xx `error`, connection refused) logged and retried with
// backoff, GET at start, and a quiet no-op without ECS_AGENT_URI. Timers run
// on a fake clock; the child-process test uses a release delay no test could
// wait out, so only the drain can release.

import t from 'tap'
import type { Test } from 'tap'
import { TaskProtection } from '../../media-node/src/task-protection.js'
import { parseProtectionResponse, taskProtectionUrl } from '../../media-node/src/ecs-agent.js'
import { FakeClock } from './fixtures/fake-clock.js'
import { TASK_ARN, startFakeAgent } from './fixtures/fake-ecs-agent.js'
import type { AgentRequest } from './fixtures/fake-ecs-agent.js'
import { spawnNode } from './fixtures/child.js'
import { closed, getJson, openClient, startTestNode, waitFor } from './helpers.js'

const MIN = 60_000

function setup(agentUri: string | undefined, overrides: { expiresInMinutes?: number; releaseDelayMs?: number; retryDelayMs?: number } = {}) {
  const clock = new FakeClock()
  const logs: Record<string, unknown>[] = []
  const tp = new TaskProtection({
    agentUri,
    expiresInMinutes: overrides.expiresInMinutes ?? 60,
    releaseDelayMs: overrides.releaseDelayMs ?? 30_000,
    retryDelayMs: overrides.retryDelayMs ?? 5_000,
    timers: clock,
    log: (e) => logs.push(e),
  })
  const logged = (msg: string) => logs.filter((l) => l['msg'] === msg).length
  return { clock, logs, tp, logged }
}

/** The request shape the agent documents: PUT, JSON content type, exactly these fields. */
function assertPut(t: Test, req: AgentRequest | undefined, body: Record<string, unknown>, path: string): void {
  t.equal(req?.method, 'PUT')
  t.equal(req?.path, path)
  t.match(req?.contentType, /^application\/json/)
  t.same(JSON.parse(req?.body ?? 'null'), body, `body ${JSON.stringify(body)}`)
}

t.test('set on 0 → 1, renewed at half the period, released 30 s after the last connection', async (t) => {
  const agent = await startFakeAgent(t)
  const path = new URL(taskProtectionUrl(agent.uri)).pathname
  const { clock, tp, logged } = setup(agent.uri)

  tp.start(0)
  await waitFor(() => logged('task protection state read') === 1, 'GET at start')
  t.match(agent.requests, [{ method: 'GET', path, body: '' }], 'start reads the state with GET')
  t.equal(tp.report().protected, false)

  tp.update(1)
  await waitFor(() => logged('task protection set') === 1, 'set')
  assertPut(t, agent.requests[1], { ProtectionEnabled: true, ExpiresInMinutes: 60 }, path)
  t.match(tp.report(), { enabled: true, protected: true, expiresAt: '2030-01-01T00:00:00Z', requests: 2, failures: 0 })
  tp.update(2)
  tp.update(5)
  t.equal(tp.report().requests, 2, 'more connections: no new request')

  clock.tick(30 * MIN - 1)
  t.equal(tp.report().requests, 2, 'no renewal before half the period')
  clock.tick(1)
  t.equal(tp.report().requests, 3, 'renewal at half the period')
  await waitFor(() => logged('task protection renewed') === 1, 'renewed')
  assertPut(t, agent.requests[2], { ProtectionEnabled: true, ExpiresInMinutes: 60 }, path)
  clock.tick(30 * MIN)
  await waitFor(() => logged('task protection renewed') === 2, 'renewed again')

  tp.update(0)
  clock.tick(29_999)
  tp.update(1)
  clock.tick(60_000)
  t.equal(tp.report().requests, 4, 'a connection within the debounce cancels the release')
  t.equal(tp.report().protected, true)

  tp.update(0)
  clock.tick(29_999)
  t.equal(tp.report().requests, 4, 'not released before the delay')
  clock.tick(1)
  await waitFor(() => logged('task protection released') === 1, 'released')
  assertPut(t, agent.requests[4], { ProtectionEnabled: false }, path)
  t.equal(tp.report().protected, false)
  clock.tick(120 * MIN)
  t.equal(tp.report().requests, 5, 'no renewal once released')

  tp.update(1)
  await waitFor(() => logged('task protection set') === 2, 'set again on 0 → 1')
  await tp.release()
  t.equal(logged('task protection released'), 2, 'final release')
  assertPut(t, agent.requests[6], { ProtectionEnabled: false }, path)
  t.equal(agent.requests.length, 7)
  tp.update(3)
  clock.tick(120 * MIN)
  t.equal(agent.requests.length, 7, 'nothing after the final release')
  t.equal(clock.pending, 0, 'no timers left')
})

t.test('failures are logged and retried with backoff; the node never sees them', async (t) => {
  const agent = await startFakeAgent(t)
  agent.queue.push(
    { status: 200, body: { failure: { Arn: TASK_ARN, Detail: null, Reason: 'TASK_NOT_VALID' } } },
    { status: 500, body: { error: { Arn: TASK_ARN, Code: 'ServerException', Message: 'Unexpected error occurred' } } },
  )
  const { clock, tp, logs, logged } = setup(agent.uri)
  tp.update(1)
  const failed = () => logs.filter((l) => l['msg'] === 'task protection request failed, will retry')
  await waitFor(() => failed().length === 1, 'first failure')
  t.match(failed()[0], { level: 'warn', attempt: 1, retryInMs: 5000, error: /TASK_NOT_VALID/ })
  t.match(tp.report(), { protected: false, failures: 1, lastError: /TASK_NOT_VALID/ })
  clock.tick(4_999)
  t.equal(agent.requests.length, 1, 'no retry before the delay')
  clock.tick(1)
  await waitFor(() => failed().length === 2, 'second failure')
  t.match(failed()[1], { attempt: 2, retryInMs: 10_000, error: /500 ServerException/ })
  clock.tick(9_999)
  t.equal(agent.requests.length, 2, 'backoff doubled')
  clock.tick(1)
  await waitFor(() => logged('task protection set') === 1, 'third attempt succeeds')
  t.match(tp.report(), { protected: true, failures: 0 })
  t.notOk('lastError' in tp.report())
  for (const req of agent.requests) t.same(JSON.parse(req.body), { ProtectionEnabled: true, ExpiresInMinutes: 60 })
  await tp.release()
})

t.test('an agent that is not there: logged, retried, capped at 60 s, release() still resolves', async (t) => {
  const { clock, tp, logs } = setup('http://127.0.0.1:1/api/x', { retryDelayMs: 20_000 })
  tp.update(1)
  const failures = () => logs.filter((l) => l['msg'] === 'task protection request failed, will retry')
  await waitFor(() => failures().length === 1, 'first failure')
  t.match(failures()[0], { error: /ECONNREFUSED|fetch failed/ })
  clock.tick(20_000)
  await waitFor(() => failures().length === 2, 'second failure')
  clock.tick(40_000)
  await waitFor(() => failures().length === 3, 'third failure')
  t.same(failures().map((f) => f['retryInMs']), [20_000, 40_000, 60_000])
  await tp.release()
  t.ok(logs.some((l) => l['msg'] === 'task protection release failed'), 'final release failure logged, not thrown')
})

t.test('protection left on by an earlier container is read with GET and released when idle', async (t) => {
  const agent = await startFakeAgent(t)
  agent.state.enabled = true
  const { tp, logged } = setup(agent.uri)
  tp.start(0)
  await waitFor(() => logged('task protection released') === 1, 'released')
  t.same(agent.requests.map((r) => r.method), ['GET', 'PUT'])
  t.same(JSON.parse(agent.requests[1]?.body ?? ''), { ProtectionEnabled: false })
  await tp.release()
  t.equal(agent.requests.length, 2, 'nothing left to release')
})

t.test('without ECS_AGENT_URI: skipped quietly', async (t) => {
  const { clock, tp, logs } = setup(undefined)
  tp.start(3)
  tp.update(1)
  tp.update(0)
  clock.tick(120 * MIN)
  await tp.release()
  t.same(tp.report(), { enabled: false, protected: false, requests: 0, failures: 0 })
  t.same(logs.filter((l) => l['level'] !== 'debug'), [], 'nothing above debug logged')
  const { node } = await startTestNode(t)
  t.notOk('taskProtection' in node.status(), '/status has no taskProtection section')
})

t.test('agent answers are read strictly', async (t) => {
  const ok = parseProtectionResponse(200, { protection: { ExpirationDate: '2030-01-01T00:00:00Z', ProtectionEnabled: true, TaskArn: TASK_ARN } })
  t.same(ok, { protectionEnabled: true, expirationDate: '2030-01-01T00:00:00Z', taskArn: TASK_ARN })
  t.same(parseProtectionResponse(200, { protection: { ExpirationDate: null, ProtectionEnabled: false } }), { protectionEnabled: false, expirationDate: undefined, taskArn: undefined })
  const bad: [string, number, unknown, RegExp][] = [
    ['failure with 200', 200, { failure: { Arn: TASK_ARN, Detail: null, Reason: 'TASK_NOT_VALID' } }, /TASK_NOT_VALID/],
    ['error with 400', 400, { error: { Code: 'InvalidParameterException', Message: 'nope' } }, /400 InvalidParameterException: nope/],
    ['error with 200', 200, { requestID: 'r', error: { Code: 'AccessDeniedException', Message: 'denied' } }, /AccessDeniedException/],
    ['5xx without body fields', 503, {}, /answered 503/],
    ['no protection', 200, {}, /no protection/],
    ['ProtectionEnabled not boolean', 200, { protection: { ProtectionEnabled: 'true' } }, /no protection/],
    ['array', 200, [], /no protection/],
    ['null', 200, null, /no protection/],
  ]
  for (const [name, status, body, message] of bad) {
    t.throws(() => parseProtectionResponse(status, body), { name: 'TaskProtectionError', code: 'TASK_PROTECTION_FAILED', message }, name)
  }
  t.equal(taskProtectionUrl('http://169.254.170.2/api/abc/'), 'http://169.254.170.2/api/abc/task-protection/v1/state')
})

t.test('child process: protection set with the first socket, released when the drain finishes, exit 0', async (t) => {
  const agent = await startFakeAgent(t)
  const proc = spawnNode(t, {
    CLOUDMAP_REGISTER: 'false',
    NODE_ID: 'protected-1',
    ECS_AGENT_URI: agent.uri,
    TASK_PROTECTION_MINUTES: '90',
    TASK_PROTECTION_RELEASE_DELAY_MS: '86400000',
    DRAIN_POLL_MS: '20',
  })
  const port = Number((await proc.line((l) => l['msg'] === 'media node listening', 'listening'))['port'])
  await proc.line((l) => l['msg'] === 'task protection state read', 'GET at start')
  const ws = await openClient(t, `ws://127.0.0.1:${port}/ws/p`)
  await proc.line((l) => l['msg'] === 'task protection set', 'set')
  t.match((await getJson(port, '/status')).body, { taskProtection: { enabled: true, protected: true } })

  proc.child.kill('SIGTERM')
  await proc.line((l) => l['msg'] === 'media node DRAINING', 'draining')
  t.equal(agent.requests.length, 2, 'draining with a session keeps protection')
  const done = closed(ws)
  ws.close(1000, 'bye')
  await done
  t.equal((await proc.exited).code, 0)
  t.same(
    agent.requests.map((r) => `${r.method} ${r.body}`),
    ['GET ', 'PUT {"ProtectionEnabled":true,"ExpiresInMinutes":90}', 'PUT {"ProtectionEnabled":false}'],
    'GET, set, release',
  )
  const order = proc.lines.map((l) => l['msg']).filter((m) => m === 'task protection released' || m === 'media node closed')
  t.same(order, ['task protection released', 'media node closed'])
})

t.test('bad protection settings fail start-up with a ConfigError', async (t) => {
  await t.rejects(startTestNode(t, { taskProtection: { agentUri: 'http://127.0.0.1:1', expiresInMinutes: 2881 } }), { name: 'ConfigError', message: /expiresInMinutes/ })
  await t.rejects(startTestNode(t, { taskProtection: { agentUri: 'http://127.0.0.1:1', expiresInMinutes: 1, renewAfterMs: 60_000 } }), { name: 'ConfigError', message: /renewAfterMs/ })
})
