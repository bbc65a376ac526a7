// Client limits: oversized headers → 431, oversized bodies → 413 (declared or
// chunked), slow clients → 408; each with a JSON body, and the router keeps
// serving others.
import t from 'tap'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { request } from 'undici'
import { connect } from 'node:net'
import { startRouter } from '../fixtures/router.js'
import { startUpstream } from '../fixtures/upstream.js'
import { rawRequest } from '../fixtures/raw-http.js'

t.test('limits', async (t) => {
  const up = await startUpstream('a')
  const file = staticDiscoveryFile({ dep: [{ id: 'a', port: up.port }] })
  const rt = await startRouter({
    DISCOVERY_MODE: 'static',
    STATIC_DISCOVERY_FILE: file,
    MAX_HEADER_BYTES: '4096',
    MAX_BODY_BYTES: '1000',
    CLIENT_HEADERS_TIMEOUT_MS: '400',
    CLIENT_REQUEST_TIMEOUT_MS: '800',
  })
  t.teardown(async () => {
    await rt.close()
    await up.close()
  })
  const port = rt.router.port()

  const big = await rawRequest(port, `GET /services/dep/x HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`)
  t.equal(big.status, 431)
  t.match(JSON.parse(big.body), { code: 'HEADERS_TOO_LARGE' })

  const declared = await rawRequest(port, `POST /services/dep/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n${'b'.repeat(5000)}`)
  t.equal(declared.status, 413)
  t.match(JSON.parse(declared.body), { code: 'PAYLOAD_TOO_LARGE' })

  const chunkedBody = `${(3000).toString(16)}\r\n${'c'.repeat(3000)}\r\n0\r\n\r\n`
  const chunked = await rawRequest(port, `POST /services/dep/upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunkedBody}`)
  t.equal(chunked.status, 413, 'chunked body over the limit')
  t.match(JSON.parse(chunked.body), { code: 'PAYLOAD_TOO_LARGE' })

  const small = await request(`${rt.url}/services/dep/echo`, { method: 'POST', body: 'hello' })
  t.equal(small.statusCode, 200)
  t.equal(await small.body.text(), 'hello', 'bodies under the limit pass')

  // A client that sends half its headers and stalls gets 408 and is closed.
  const slowHeaders = await rawRequest(port, 'GET /services/dep/x HTTP/1.1\r\nHost: t\r\n', 10_000)
  t.equal(slowHeaders.status, 408)
  t.ok(slowHeaders.closed)
  t.match(JSON.parse(slowHeaders.body), { code: 'REQUEST_TIMEOUT' })

  // A client that stalls mid-body: the whole request did not arrive in time.
  const slowBody = await rawRequest(port, 'POST /services/dep/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc', 10_000)
  t.ok(slowBody.closed, 'slow body: connection closed')
  t.ok(slowBody.status === 408 || slowBody.status === 0 || slowBody.status === 200, `slow body status ${slowBody.status}`)

  // Garbage is a 400, and the router still serves.
  const garbage = await rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n')
  t.equal(garbage.status, 400)
  t.match(JSON.parse(garbage.body), { code: 'BAD_REQUEST' })
  const ok = await request(`${rt.url}/services/dep/x`)
  t.equal(ok.statusCode, 200)
  await ok.body.text()
})

t.test('one stalled client does not affect another', async (t) => {
  const up = await startUpstream('a')
  const file = staticDiscoveryFile({ dep: [{ id: 'a', port: up.port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file })
  t.teardown(async () => {
    await rt.close()
    await up.close()
  })
  const stalled = connect(rt.router.port(), '127.0.0.1')
  stalled.on('error', () => undefined)
  stalled.write('POST /services/dep/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\npartial')
  for (let i = 0; i < 20; i++) {
    const r = await request(`${rt.url}/services/dep/x`)
    t.equal(r.statusCode, 200)
    await r.body.text()
  }
  stalled.destroy()
})
