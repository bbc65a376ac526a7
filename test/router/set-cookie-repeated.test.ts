// Regression: an upstream's repeated Set-Cookie lines reach the client even
// when the router sets a header of its own on the response (Connection: close
// while draining, an affinity cookie). Node 20's writeHead(array) merged with
// setHeader() kept only the last value of each repeated field.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { startRouter } from '../fixtures/router.js'

t.test('repeated Set-Cookie survive Connection: close while draining', async (t) => {
  const up = createServer((req, res) => {
    req.resume()
    res.writeHead(200, [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['content-type', 'text/plain']].flat())
    res.end('ok')
  })
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => up.close(() => r())))
  const file = staticDiscoveryFile({ dep: [{ id: 'i1', port: (up.address() as AddressInfo).port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file })
  t.teardown(() => rt.close())
  for (const serving of [true, false]) {
    rt.router.setServing(serving)
    const res = await request(`${rt.url}/services/dep/x`)
    await res.body.text()
    t.same(res.headers['set-cookie'], ['a=1', 'b=2'], `both cookies (serving=${serving})`)
    if (!serving) t.equal(res.headers['connection'], 'close')
  }
})
