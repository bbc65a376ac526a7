// A malformed upstream 101 is not a tunnel. The router used to find the end of
// the upstream's head with indexOf('\r\n\r\n') and its status with a regex, so
// any bytes starting "HTTP/1.1 101" opened a tunnel. The head is now llhttp's
// (Node's HTTP client): a head llhttp refuses is 502 UPSTREAM_ERROR and both
// connections close, with nothing the client sent after its head forwarded.
// And a well-formed 101 with frames in the same packet delivers those frames.
import t from 'tap'
import { rawClient } from '../fixtures/raw-http.js'
import { SWITCHING, splitResponse, startUpgradeHarness, upgradeHead, type UpgradeHarness } from '../fixtures/ws-upgrade-harness.js'

let h: UpgradeHarness
t.before(async () => {
  h = await startUpgradeHarness()
})
t.teardown(() => h.close())

const CRLF2 = Buffer.from('\r\n\r\n')
const AFTER_HEAD = Buffer.from([0x81, 0x85, 1, 2, 3, 4, 0x69, 0x67, 0x6f, 0x68, 0x6e])

const MALFORMED: ReadonlyArray<readonly [string, string]> = [
  ['header line without a colon', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade websocket\r\nConnection: Upgrade\r\n\r\n'],
  ['space inside a header name', 'HTTP/1.1 101 Switching Protocols\r\nUp grade: websocket\r\nConnection: Upgrade\r\n\r\n'],
  ['bare LF line endings', 'HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\n\n'],
  ['obsolete line folding', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n  folded\r\nConnection: Upgrade\r\n\r\n'],
  ['NUL in a header value', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: web\x00socket\r\nConnection: Upgrade\r\n\r\n'],
  ['whitespace before the colon', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade : websocket\r\nConnection: Upgrade\r\n\r\n'],
  ['not HTTP at all', 'HTTP/1.1 101\r\n\x01\x02\x03\r\n\r\n'],
]

for (const [name, head] of MALFORMED) {
  t.test(`upstream 101 with ${name} → 502, both connections closed, nothing forwarded`, async (t) => {
    h.script = (conn) => conn.socket.write(head)
    const client = await rawClient(h.port)
    client.socket.write(Buffer.concat([Buffer.from(upgradeHead('/media/n1/ws/bad')), AFTER_HEAD]))
    const up = await h.upstream.nextHead()
    const res = splitResponse(await client.closed)
    await up.done
    t.equal(res.status, 502)
    t.match(JSON.parse(res.body.toString()), { code: 'UPSTREAM_ERROR' })
    t.equal(up.received.indexOf(CRLF2), up.received.length - 4, 'the upstream got the upgrade head and nothing after it')
  })
}

t.test('upstream 101 and frames in the same packet: the client gets the 101 head, then the frames, byte for byte', async (t) => {
  const frames = Buffer.concat([Buffer.from([0x81, 0x03]), Buffer.from('one'), Buffer.from([0x82, 0x02, 0xff, 0x00])])
  h.script = (conn) => conn.socket.write(Buffer.concat([Buffer.from(SWITCHING), frames]))
  const client = await rawClient(h.port)
  client.socket.write(upgradeHead('/media/n1/ws/frames'))
  const up = await h.upstream.nextHead()
  const want = Buffer.concat([Buffer.from(SWITCHING), frames])
  const got = await client.until((b) => b.length >= want.length, '101 and frames')
  t.ok(got.equals(want), 'exactly the head as the upstream sent it, then the frames')
  client.socket.end()
  await up.done
})

t.test('an informational 100 before the 101 is not relayed; the 101 is', async (t) => {
  h.script = (conn) => conn.socket.write(`HTTP/1.1 100 Continue\r\n\r\n${SWITCHING}`)
  const client = await rawClient(h.port)
  client.socket.write(upgradeHead('/media/n1/ws/info'))
  const up = await h.upstream.nextHead()
  const got = await client.until((b) => b.length >= SWITCHING.length, 'the 101')
  t.equal(got.toString('latin1'), SWITCHING)
  client.socket.end()
  await up.done
})

t.test('an upstream head over the size limit → 502', async (t) => {
  h.script = (conn) => conn.socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
  const client = await rawClient(h.port)
  client.socket.write(upgradeHead('/media/n1/ws/big'))
  const up = await h.upstream.nextHead()
  const res = splitResponse(await client.closed)
  t.equal(res.status, 502)
  await up.done
})
