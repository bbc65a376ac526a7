// The process: start-up from the environment (with a fake ECS metadata
// endpoint), bad config exits 1 naming the variable; SIGTERM drains (open
// sockets keep relaying, new ones get 503), a second SIGTERM closes them with
// 1001, and the process exits 0; with no sockets SIGTERM exits 0 at once.

import t from 'tap'
import { closed, collect, getJson, openClient, parseResponse, rawExchange, upgradeRequest, waitFor } from './helpers.js'
import { spawnNode } from './fixtures/child.js'
import { containerDoc, startMetadataServer, taskDoc } from './fixtures/ecs-metadata-server.js'

t.test('SIGTERM drains: sockets keep relaying, new ones get 503; a second SIGTERM closes them with 1001, exit 0', async (t) => {
  const proc = spawnNode(t, { CLOUDMAP_REGISTER: 'false', NODE_ID: 'child-1', DRAIN_POLL_MS: '20' })
  const listening = await proc.line((l) => l['msg'] === 'media node listening', 'listening')
  const port = Number(listening['port'])
  t.match((await getJson(port, '/status')).body, { nodeId: 'child-1', status: 'ACTIVE' })
  const a = await openClient(t, `ws://127.0.0.1:${port}/ws/term`)
  const b = await openClient(t, `ws://127.0.0.1:${port}/ws/term`)
  const atB = collect(b)
  a.send('before shutdown')
  await waitFor(() => atB.length === 1, 'relay through the child')
  const closes = [closed(a), closed(b)]

  proc.child.kill('SIGTERM')
  await proc.line((l) => l['msg'] === 'media node DRAINING', 'DRAINING')
  t.match((await getJson(port, '/status')).body, { status: 'DRAINING', activeConnections: 2, drain: { timeoutMs: 7_200_000 } })
  const refused = parseResponse((await rawExchange(port, upgradeRequest('/ws/term'))).response)
  t.match(refused.statusLine, /^HTTP\/1\.1 503 /, 'a new socket is refused')
  t.equal(refused.headers['retry-after'], '5')
  a.send('while draining')
  await waitFor(() => atB.length === 2, 'relay while draining')
  t.equal(atB[1]?.data.toString(), 'while draining')
  t.equal(proc.child.exitCode, null, 'still running while sockets are open')

  proc.child.kill('SIGTERM')
  const results = await Promise.all(closes)
  t.same(results.map((c) => c.code), [1001, 1001])
  t.same(results.map((c) => c.reason), ['Going Away', 'Going Away'])
  const { code, signal } = await proc.exited
  t.equal(code, 0, 'exit 0')
  t.equal(signal, null)
  const ends = proc.lines.filter((l) => l['msg'] === 'connection closed')
  t.equal(ends.length, 2)
  t.match(ends[0], { sessionId: 'term', closeCode: 1001, durationMs: Number, bytesIn: Number, bytesOut: Number })
})

t.test('SIGTERM with no sockets: exit 0 without waiting', async (t) => {
  // A drain timeout far beyond the test timeout: only the idle check can end this.
  const proc = spawnNode(t, { CLOUDMAP_REGISTER: 'false', NODE_ID: 'idle-1', DRAIN_TIMEOUT_MS: '86400000' })
  await proc.line((l) => l['msg'] === 'media node started', 'started')
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
  t.ok(proc.lines.some((l) => l['msg'] === 'drained: no connections left'))
})

t.test('node id from ECS task metadata when NODE_ID is not set', async (t) => {
  const container = containerDoc('awsvpc', '10.0.2.100')
  const uri = await startMetadataServer(t, container, taskDoc(container))
  const proc = spawnNode(t, { CLOUDMAP_REGISTER: 'false', ECS_CONTAINER_METADATA_URI_V4: uri })
  const started = await proc.line((l) => l['msg'] === 'media node started', 'started')
  t.match(started, { nodeId: '8f03e41243824aea923aca126495f665', nodeIdSource: 'ecs-task' })
  t.match((await getJson(Number(started['port']), '/status')).body, { nodeId: '8f03e41243824aea923aca126495f665' })
  proc.child.kill('SIGTERM')
  t.equal((await proc.exited).code, 0)
})

t.test('bad config: exit 1 with a message naming the variable', async (t) => {
  for (const [env, name] of [
    [{ NODE_ID: 'Not_A_Label' }, 'NODE_ID'],
    [{ PORT: 'http' }, 'PORT'],
    [{ CLOUDMAP_REGISTER: 'true' }, 'ADVERTISE_IPV4'],
  ] as const) {
    const proc = spawnNode(t, { ...env })
    const failed = await proc.line((l) => l['msg'] === 'media node failed to start', `start-up failure for ${name}`)
    t.match(failed['error'], new RegExp(name), name)
    t.equal((await proc.exited).code, 1)
  }
})
