// A client that disconnects while the upstream is still working aborts the
// upstream request (the upstream sees its socket close), and is logged as 499.
import t from 'tap'
import { connect } from 'node:net'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startRouter, eventually } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { classifyUpstreamError } from '../../router/src/proxy/upstream-errors.js'
import { ClientAbort } from '../../router/src/proxy/client-abort.js'

t.test('the abort reason is classified as a client abort', async (t) => {
  const a = new ClientAbort()
  let fired = 0
  a.once('abort', () => fired++)
  a.abort()
  a.abort()
  t.equal(fired, 1)
  t.ok(a.aborted)
  t.equal(classifyUpstreamError(a.reason).clientAborted, true)
})

t.test('client disconnect cancels the upstream request', async (t) => {
  let upstreamClosed = false
  let sawRequest = false
  const up = createServer((req) => {
    sawRequest = true
    req.socket.once('close', () => (upstreamClosed = true))
    // never answers
  })
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => {
    up.closeAllConnections()
    up.close()
  })
  const file = staticDiscoveryFile({ dep: [{ id: 'a', port: (up.address() as AddressInfo).port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, UPSTREAM_HEADERS_TIMEOUT_MS: '60000' })
  t.teardown(() => rt.close())
  const c = connect(rt.router.port(), '127.0.0.1')
  c.write('GET /services/dep/slow HTTP/1.1\r\nHost: t\r\nX-Request-Id: gone-early\r\n\r\n')
  await eventually(() => sawRequest)
  c.destroy()
  await eventually(() => upstreamClosed)
  t.pass('upstream request cancelled')
  rt.router.logger.flush()
  await eventually(() => rt.logs.some((l) => l.requestId === 'gone-early'))
  t.match(rt.logs.find((l) => l.requestId === 'gone-early'), { status: 499 })
})
