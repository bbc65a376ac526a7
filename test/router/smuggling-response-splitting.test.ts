// Regression (issue 13, item 1): cross-client response injection. An
// upstream answered with a Transfer-Encoding other than chunked *and* a
// Content-Length, then more bytes and FIN; the router read the body until
// close but forwarded the Content-Length, Node wrote past it, and the extra
// bytes became the answer to the client's *next* request on its keep-alive
// connection (behind an ALB that connection is shared between users).
//
// Raw sockets on both sides: a raw upstream that records exactly what reached
// it, and a raw client that sends a second request on the same connection and
// reads what comes back with Node's own llhttp. The second request goes to a
// different, honest deployment: it must get that deployment's answer, and
// nothing may follow it.
import t from 'tap'
import { startRouter } from '../fixtures/router.js'
import { startFixedUpstream } from '../fixtures/upstream.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { startRawUpstream } from '../fixtures/raw-upstream.js'
import { converse, requestText } from '../fixtures/raw-client.js'
import { headerValues } from '../fixtures/llhttp.js'

const FORGED = 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Forged: yes\r\n\r\nforged'

/** What the malicious upstream answers, by path; each is followed by FIN. */
const ATTACKS: Record<string, string> = {
  // The cases: a transfer coding the router does not apply, with a Content-Length.
  '/identity-with-length': `HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello${FORGED}`,
  '/gzip-with-length': `HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello${FORGED}`,
  // Without a Content-Length: read until close, and must not be passed on as a plain body.
  '/gzip-until-close': `HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello${FORGED}`,
  '/gzip-then-chunked': `HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${FORGED}`,
  '/chunked-then-gzip': `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n${FORGED}`,
  '/chunked-with-length': `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n${FORGED}`,
  // Well framed, with a second response right behind it: the extra bytes reach nobody.
  '/length-then-extra': `HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello${FORGED}`,
  '/chunked-then-extra': `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${FORGED}`,
  '/204-with-body': `HTTP/1.1 204 No Content\r\n\r\n${FORGED}`,
  '/304-with-body': `HTTP/1.1 304 Not Modified\r\nContent-Length: 6\r\n\r\n${FORGED}`,
}

/** Only "chunked" may frame a body; the rest are 502. */
const REFUSED = new Set(['/identity-with-length', '/gzip-with-length', '/gzip-until-close', '/gzip-then-chunked', '/chunked-then-gzip', '/chunked-with-length'])

t.test("an upstream's extra bytes never answer the client's next request", async (t) => {
  const evil = await startRawUpstream(t, (req, s) => {
    const answer = ATTACKS[req.url]
    if (answer === undefined) s.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')
    else s.end(answer)
  })
  const file = staticDiscoveryFile({ evil: [{ id: 'e', port: evil.port }], good: [{ id: 'g', port: await startFixedUpstream(t) }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file })
  t.teardown(() => rt.close())

  for (const path of Object.keys(ATTACKS)) {
    await t.test(path, async (t) => {
      const method = 'GET'
      const conv = await converse(rt.router.port(), [requestText(`/services/evil${path}`, method), requestText('/services/good/next')])
      t.equal(conv.parsed.error, undefined, `llhttp reads the client's bytes without error (${conv.parsed.error?.code ?? ''})`)
      const [first, second, ...more] = conv.parsed.messages
      t.ok(first?.complete, 'the first response is complete')
      if (REFUSED.has(path)) {
        t.equal(first?.status, 502, 'refused: 502')
        t.match(first?.body.toString() ?? '', /"code":"UPSTREAM_ERROR"/)
      } else {
        t.equal(first?.status, Number(ATTACKS[path]?.slice(9, 12)), 'the upstream status')
        t.equal(first?.body.toString(), first?.status === 200 ? 'hello' : '', 'exactly the framed body')
      }
      const raw = first?.rawHeaders ?? []
      t.notOk(headerValues(raw, 'transfer-encoding').length > 0 && headerValues(raw, 'content-length').length > 0, 'never Transfer-Encoding and Content-Length together')
      t.equal(headerValues(raw, 'x-forged').length, 0)
      t.equal(conv.sent, 2, 'the connection stayed open for the next request')
      t.equal(second?.status, 200, 'the next request is answered by the honest deployment')
      t.equal(second?.body.toString(), 'genuine', 'with its own body, not the forged one')
      t.same(more, [], 'nothing follows on the connection')
      t.notMatch(conv.bytes.toString('latin1'), /forged/, 'no byte of the forged response reached the client')
      // What reached the malicious upstream: this one request, alone on its connection.
      const conns = evil.conns.filter((c) => c.requests.some((r) => r.url === path))
      t.equal(conns.length, 1)
      t.same(conns[0]?.requests.map((r) => r.url), [path])
    })
  }
  // (undici opens a connection with nothing to send after an aborted request, nodejs/undici#5845: allowed, unused.)
  t.ok(evil.conns.every((c) => c.requests.length <= 1), 'no connection carried a second request after a refused or polluted response')
  t.same(evil.errors, [], 'llhttp accepted everything the router sent upstream')
})
