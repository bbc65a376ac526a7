// The process: start-up from the environment (with a fake ECS metadata
// endpoint), bad config exits 1 naming the variable, SIGTERM closes clients
// with 1001 and exits 0.

import t from 'tap'
import { closed, collect, getJson, openClient, waitFor } from './helpers.js'
import { spawnNode } from './fixtures/child.js'
import { containerDoc, startMetadataServer, taskDoc } from './fixtures/ecs-metadata-server.js'

t.test('SIGTERM: clients get 1001, one log line per connection, exit 0', async (t) => {
  const proc = spawnNode(t, { CLOUDMAP_REGISTER: 'false', NODE_ID: 'child-1' })
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
  const codes = (await Promise.all(closes)).map((c) => c.code)
  t.same(codes, [1001, 1001])
  const { code, signal } = await proc.exited
  t.equal(code, 0, 'exit 0')
  t.equal(signal, null)
  const ends = proc.lines.filter((l) => l['msg'] === 'connection closed')
  t.equal(ends.length, 2)
  t.match(ends[0], { sessionId: 'term', closeCode: 1001, durationMs: Number, bytesIn: Number, bytesOut: Number })
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
