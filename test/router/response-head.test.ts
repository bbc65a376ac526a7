// The strict response-head parser's fields: framing and connection headers
// recognised in any letter case, values trimmed of optional whitespace only at
// their ends, Keep-Alive timeouts read afresh whenever the value changes, and
// HTTP/1.0 closing unless it asks to be kept alive.

import t from 'tap'
import { bodyFraming, parseResponseHead } from '../../router/src/proxy/upstream/response-head.js'

const head = (...lines: string[]): string => lines.join('\r\n')

t.test('framing and connection headers in any letter case', async (t) => {
  const h = parseResponseHead(head('HTTP/1.1 200 OK', 'CONTENT-LENGTH: 12', 'Connection: Close', 'X-Other: 1'))
  t.equal(h.contentLength, 12)
  t.equal(h.closes, true, 'Connection: Close closes')
  t.equal(bodyFraming(h, 'GET'), 'length')
  const c = parseResponseHead(head('HTTP/1.1 200 OK', 'transfer-ENCODING: gzip, Chunked'))
  t.equal(c.transferEncoding, true)
  t.equal(c.chunked, true, 'chunked as the final coding, any case')
  t.same(c.rawHeaders, ['transfer-ENCODING', 'gzip, Chunked'], 'names and values passed on as received')
  const near = parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Lengthy: 5', 'Connectionx: close'))
  t.equal(near.contentLength, -1, 'a longer name is another header')
  t.equal(near.closes, false)
})

t.test('values lose optional whitespace at both ends only', async (t) => {
  const h = parseResponseHead(head('HTTP/1.1 200 OK', 'X-A: \t two  words \t', 'X-B:tight', 'X-C:   ', 'Content-Length:\t7 '))
  t.same(h.rawHeaders, ['X-A', 'two  words', 'X-B', 'tight', 'X-C', '', 'Content-Length', '7'])
  t.equal(h.contentLength, 7)
})

t.test('Keep-Alive timeout follows the value of each response', async (t) => {
  t.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'Keep-Alive: timeout=5')).keepAliveMs, 5000)
  t.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'Keep-Alive: timeout=5')).keepAliveMs, 5000, 'same value again')
  t.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'KEEP-ALIVE: max=100, Timeout = 9')).keepAliveMs, 9000, 'a new value is read, any case')
  t.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'Keep-Alive: max=100')).keepAliveMs, -1, 'no timeout in the value')
  t.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'Keep-Alive: timeout=9')).keepAliveMs, 9000)
  t.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'X-Keep: 1')).keepAliveMs, -1, 'no header, no timeout')
})

t.test('HTTP/1.0 closes unless kept alive', async (t) => {
  t.equal(parseResponseHead(head('HTTP/1.0 200 OK', 'Content-Length: 1')).closes, true)
  t.equal(parseResponseHead(head('HTTP/1.0 200 OK', 'connection: Keep-Alive')).closes, false)
  t.equal(parseResponseHead(head('HTTP/1.1 204 No Content')).closes, false)
})

t.test('conflicting or malformed framing is a protocol error', async (t) => {
  t.throws(() => parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 1', 'content-length: 2')), { code: 'UPSTREAM_PROTOCOL' })
  t.throws(() => parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 1x')), { code: 'UPSTREAM_PROTOCOL' })
  t.throws(() => parseResponseHead(head('HTTP/1.1 200 OK', 'Bad Name: 1')), { code: 'UPSTREAM_PROTOCOL' })
  t.throws(() => parseResponseHead(head('HTTP/1.1 200 OK', 'X: a', ' folded')), { code: 'UPSTREAM_PROTOCOL' })
})
