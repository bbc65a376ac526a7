// Limits: an oversize message closes with 1009; a consumer that stops
// reading is closed by the node with 1013 while its buffer stays bounded;
// the heartbeat drops a peer that does not answer pings.

import t from 'tap'
import { FakeClock } from './fixtures/fake-clock.js'
import { closed, collect, openClient, startTestNode, waitFor } from './helpers.js'
import type { Socket } from 'node:net'

t.test('a message above maxPayload closes the connection with 1009', async (t) => {
  const { node, url, logs } = await startTestNode(t, { maxPayloadBytes: 64 * 1024 })
  const a = await openClient(t, url('/ws/limit'))
  const b = await openClient(t, url('/ws/limit'))
  const atB = collect(b)
  const closing = closed(a)
  a.send(Buffer.alloc(64 * 1024 + 1))
  const { code } = await closing
  t.equal(code, 1009)
  await waitFor(() => node.status().activeConnections === 1, 'server dropped the sender')
  t.equal(atB.length, 0, 'nothing relayed')
  t.match(logs.find((e) => e['msg'] === 'connection closed'), { closeCode: 1009, closedBy: 'server', error: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' })
})

t.test('a consumer that stops reading is closed with 1013 and its buffer stays bounded', async (t) => {
  const limit = 256 * 1024
  const chunk = 64 * 1024
  const { node, url, logs } = await startTestNode(t, { sendBufferLimitBytes: limit, closeTimeoutMs: 500 })
  const sender = await openClient(t, url('/ws/flood'))
  const slow = await openClient(t, url('/ws/flood'))
  // Stop reading: the kernel buffers fill, then the node's send buffer.
  const slowSocket = (slow as unknown as { _socket: Socket })._socket
  slowSocket.pause()

  const payload = Buffer.alloc(chunk, 7)
  const slowClosed = () => logs.some((e) => e['msg'] === 'connection closed' && e['closeCode'] === 1013)
  // Bounded: at most 1 GiB in total, which is far more than any kernel buffer.
  let sent = 0
  while (!slowClosed() && sent < 1024 * 1024 * 1024) {
    await new Promise<void>((resolve, reject) => sender.send(payload, (err) => (err ? reject(err) : resolve())))
    sent += chunk
  }
  t.ok(slowClosed(), `server closed the slow consumer after ${sent} bytes`)
  const warn = logs.find((e) => e['msg'] === 'slow consumer closed')
  t.ok(warn, 'slow consumer logged')
  const buffered = Number(warn?.['bufferedBytes'])
  t.ok(buffered <= limit, `node buffered at most the limit for it (${buffered} <= ${limit})`)
  t.match(logs.find((e) => e['msg'] === 'connection closed'), { closeCode: 1013, closedBy: 'server', sessionId: 'flood' })
  await waitFor(() => node.status().activeConnections === 1, 'only the sender left')
  t.equal(sender.readyState, sender.OPEN, 'the sender is unaffected')
})

t.test('the slow consumer gets the 1013 close frame once it reads again', async (t) => {
  const { url, logs } = await startTestNode(t, { sendBufferLimitBytes: 128 * 1024, closeTimeoutMs: 60_000 })
  const sender = await openClient(t, url('/ws/flood2'))
  const slow = await openClient(t, url('/ws/flood2'))
  const slowSocket = (slow as unknown as { _socket: Socket })._socket
  slowSocket.pause()
  const closing = closed(slow)
  const payload = Buffer.alloc(32 * 1024, 1)
  const gaveUp = () => logs.some((e) => e['msg'] === 'slow consumer closed')
  let sent = 0
  while (!gaveUp() && sent < 1024 * 1024 * 1024) {
    await new Promise<void>((resolve, reject) => sender.send(payload, (err) => (err ? reject(err) : resolve())))
    sent += payload.length
  }
  t.ok(gaveUp(), 'the node gave up on the slow consumer')
  // The close frame is queued behind the buffered data; reading again delivers it.
  slowSocket.resume()
  const { code, reason } = await closing
  t.equal(code, 1013)
  t.equal(reason, 'send buffer limit exceeded')
})

t.test('the heartbeat terminates a peer that does not answer pings', async (t) => {
  // A fake clock: beats happen when the test says, so a loaded machine cannot make a live peer look dead.
  const clock = new FakeClock()
  const interval = 30_000
  const { node, url, logs } = await startTestNode(t, { heartbeatIntervalMs: interval, timers: clock })
  const alive = await openClient(t, url('/ws/hb?echo=1'))
  const dead = await openClient(t, url('/ws/hb'), { autoPong: false })
  let deadPings = 0
  let alivePings = 0
  dead.on('ping', () => deadPings++)
  alive.on('ping', () => alivePings++)
  const echoes = collect(alive)
  /** One beat, then a round trip on the live socket: its pong (sent before) has reached the node. */
  const beat = async (n: number): Promise<void> => {
    clock.tick(interval)
    await waitFor(() => alivePings >= n, `ping ${n} reached the live peer`)
    alive.send(`after ping ${n}`)
    await waitFor(() => echoes.length >= n, `echo ${n}`)
  }
  await beat(1)
  t.equal(deadPings, 1, 'both were pinged')
  t.equal(node.status().activeConnections, 2, 'nobody is dropped on the first ping')
  const { code } = await Promise.all([closed(dead), beat(2)]).then(([c]) => c)
  t.equal(code, 1006, 'the silent peer is terminated without a close frame at the next beat')
  const ended = () => logs.find((e) => e['msg'] === 'connection closed')
  await waitFor(() => ended() !== undefined, 'connection end logged')
  t.match(ended(), { closeCode: 1006, closeReason: 'heartbeat timeout', closedBy: 'server' })
  // The answering peer survives more beats.
  await beat(3)
  await beat(4)
  t.equal(alive.readyState, alive.OPEN, 'a peer that answers stays')
  t.equal(node.status().activeConnections, 1)
})
