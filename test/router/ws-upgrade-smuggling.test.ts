// Upgrade smuggling (issue 13, item 2): bytes a client sends after its upgrade
// request's head must not reach the upstream before the upstream's 101. The
// router used to write them on connect, so an upstream that refused the
// upgrade and kept the connection alive executed a second request (here with
// a forged X-Forwarded-For) that never appeared in the router's access log.
// Raw sockets on both sides: the upstream records every byte it received.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { rawClient } from '../fixtures/raw-http.js'
import { SWITCHING, splitResponse, startUpgradeHarness, upgradeHead, type UpgradeHarness } from '../fixtures/ws-upgrade-harness.js'

let h: UpgradeHarness
t.before(async () => {
  h = await startUpgradeHarness()
})
t.teardown(() => h.close())

const SMUGGLED = 'GET /internal/admin HTTP/1.1\r\nHost: media.internal\r\nX-Forwarded-For: 10.6.6.6\r\nContent-Length: 0\r\n\r\n'
const CRLF2 = Buffer.from('\r\n\r\n')

/** A barrier through the router's event loop: a request it answers after handling what arrived before. */
async function routerRoundTrip(port: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/health`)
  await res.arrayBuffer()
}

for (const [status, reason] of [
  [403, 'Forbidden'],
  [200, 'OK'],
] as const) {
  t.test(`upgrade + a second request in one packet, upstream answers ${status} keep-alive: the upstream never sees the second request`, async (t) => {
    h.script = (conn) => {
      conn.socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\nno way`)
    }
    const logsBefore = h.router.logs.length
    const client = await rawClient(h.port)
    client.socket.write(upgradeHead('/media/n1/ws/room') + SMUGGLED)
    const up = await h.upstream.nextHead()
    const raw = await client.closed
    await up.done
    const seen = up.received.toString('latin1')
    t.equal(up.received.indexOf(CRLF2), up.received.length - 4, 'the upstream received exactly one request head and nothing after it')
    t.notMatch(seen, /internal\/admin|10\.6\.6\.6/, 'no byte of the smuggled request reached the upstream')
    t.match(seen, /^GET \/ws\/room HTTP\/1\.1\r\n/, 'the upgrade request itself was forwarded')
    t.ok(up.closed, 'the router closed the upstream connection (never reused)')

    const res = splitResponse(raw)
    t.equal(res.status, status, `the client got the upstream's ${status}`)
    t.equal(res.body.toString(), 'no way', 'with its body')
    t.match(res.head, /\r\ncontent-length: 6(\r\n|$)/)
    t.match(res.head, /\r\nconnection: close(\r\n|$)/)
    t.notMatch(res.head, /keep-alive/, 'hop-by-hop headers of the upstream are not relayed')
    t.equal(splitResponse(res.body).status, 0, 'and nothing after that response (no answer to the smuggled request)')
    const line = h.router.logs.slice(logsBefore).find((l) => l['kind'] === 'websocket')
    t.match(line, { kind: 'websocket', status, route: 'media', path: '/media/n1/ws/room' }, 'one access-log line for the refused upgrade')
  })
}

t.test('upgrade + bytes in the same packet, upstream answers 101: the bytes arrive only after the 101, in order, none lost', async (t) => {
  // More than one socket read's worth, so part is in the upgrade's `head` and part still unread on the socket.
  const early = randomBytes(300_000)
  const later = randomBytes(70_000)
  const fromUpstream = Buffer.from([0x81, 0x05, ...Buffer.from('hello')])
  let before101: Buffer | undefined
  let answer = (): void => {}
  const answered = new Promise<void>((r) => (answer = r))
  h.script = (conn) => {
    void routerRoundTrip(h.port).then(() => {
      before101 = conn.received
      // The 101 and a first frame in one packet.
      conn.socket.write(Buffer.concat([Buffer.from(SWITCHING), fromUpstream]))
      answer()
    })
  }
  const client = await rawClient(h.port)
  const head = upgradeHead('/media/n1/ws/ordered')
  client.socket.write(Buffer.concat([Buffer.from(head), early]))
  const up = await h.upstream.nextHead()
  await answered
  t.ok(before101 !== undefined && before101.indexOf(CRLF2) === before101.length - 4, 'before its 101 the upstream had received the upgrade head and nothing else')
  const forwardedHead = before101 ?? Buffer.alloc(0)

  const expected = Buffer.concat([Buffer.from(SWITCHING), fromUpstream])
  const got = await client.until((b) => b.length >= expected.length, 'the 101 and the first frame')
  t.ok(got.subarray(0, expected.length).equals(expected), 'the client got the 101 head and the frame that came in the same packet')

  client.socket.write(later)
  const want = Buffer.concat([forwardedHead, early, later])
  await up.until((b) => b.length >= want.length)
  t.equal(up.received.length, want.length, 'the upstream received exactly the head, the early bytes and the later bytes')
  t.ok(up.received.equals(want), 'in the order the client sent them')
  client.socket.destroy()
  await up.done
})
