// Relay: text and binary between members of one session (not to others),
// a 1 MB message intact, echo mode, closeAll(1001), the connection-end log.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { closed, collect, openClient, startTestNode, waitFor } from './helpers.js'

t.test('relays text and binary to the other members of the session only', async (t) => {
  const { url } = await startTestNode(t)
  const a = await openClient(t, url('/ws/room-1'))
  const b = await openClient(t, url('/ws/room-1'))
  const other = await openClient(t, url('/ws/room-2'))
  const atA = collect(a)
  const atB = collect(b)
  const atOther = collect(other)

  a.send('hello from a')
  a.send(Buffer.from([0, 1, 2, 255]))
  await waitFor(() => atB.length === 2, 'two messages at b')
  t.same(atB[0], { data: Buffer.from('hello from a'), isBinary: false }, 'text stays text')
  t.same(atB[1], { data: Buffer.from([0, 1, 2, 255]), isBinary: true }, 'binary stays binary')

  b.send('reply from b')
  await waitFor(() => atA.length === 1, 'reply at a')
  t.same(atA[0], { data: Buffer.from('reply from b'), isBinary: false })

  // A marker through room-2 proves everything sent before it to room-2 would have arrived.
  const other2 = await openClient(t, url('/ws/room-2'))
  other2.send('marker')
  await waitFor(() => atOther.length === 1, 'marker in room-2')
  t.same(atOther.map((m) => m.data.toString()), ['marker'], 'room-2 got nothing from room-1')
  t.equal(atA.length, 1, 'sender did not get its own messages back')
})

t.test('a 1 MB binary message arrives intact', async (t) => {
  const { url } = await startTestNode(t)
  const a = await openClient(t, url('/ws/big'))
  const b = await openClient(t, url('/ws/big'))
  const atB = collect(b)
  const payload = randomBytes(1024 * 1024)
  a.send(payload)
  await waitFor(() => atB.length === 1, '1 MB message')
  t.equal(atB[0]?.data.length, payload.length)
  t.ok(atB[0]?.data.equals(payload), 'same bytes')
  t.equal(atB[0]?.isBinary, true)
})

t.test('echo=1 sends each message back to the sender as well', async (t) => {
  const { url } = await startTestNode(t)
  const a = await openClient(t, url('/ws/echo-room?echo=1'))
  const b = await openClient(t, url('/ws/echo-room'))
  const atA = collect(a)
  const atB = collect(b)
  a.send('ping-1')
  a.send(Buffer.from('bin'))
  await waitFor(() => atA.length === 2 && atB.length === 2, 'echo and relay')
  t.same(atA, [
    { data: Buffer.from('ping-1'), isBinary: false },
    { data: Buffer.from('bin'), isBinary: true },
  ])
  t.same(atB, atA, 'the other member still gets them')

  b.send('from b')
  await waitFor(() => atA.length === 3, 'relay to the echo client')
  // The node handles b's message before a's next one, so had it echoed to b,
  // b would have it before this marker (no waiting for time to pass).
  a.send('marker')
  await waitFor(() => atB.length === 3, 'the marker reaches b')
  t.same(atB[2], { data: Buffer.from('marker'), isBinary: false }, 'b (no echo) does not get its own message')
})

t.test('closeAll(1001) closes every client with 1001 and logs one line per connection end', async (t) => {
  const { node, logs, url } = await startTestNode(t)
  const a = await openClient(t, url('/ws/s1'))
  const b = await openClient(t, url('/ws/s2'))
  a.send('12345')
  await waitFor(() => node.status().activeConnections === 2, 'two connections')
  const closes = [closed(a), closed(b)]
  node.closeAll(1001, 'going away')
  const [ca, cb] = await Promise.all(closes)
  t.equal(ca?.code, 1001)
  t.equal(cb?.code, 1001)
  t.equal(ca?.reason, 'going away')
  await waitFor(() => node.status().activeConnections === 0, 'server side closed')
  const ends = logs.filter((e) => e['msg'] === 'connection closed')
  t.equal(ends.length, 2, 'one log line per connection end')
  const endA = ends.find((e) => e['sessionId'] === 's1')
  t.match(endA, { closeCode: 1001, closedBy: 'server', bytesIn: 5, bytesOut: 0 })
  t.type(endA?.['durationMs'], 'number')
})
