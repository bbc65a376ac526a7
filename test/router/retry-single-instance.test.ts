// Regression (found by `npm run tier`, partition scenario): a request whose
// connection to the only instance of a target fails before anything was sent
// must not be retried on that same instance. The retry is meant for "another
// instance"; on the same one it only doubles the wait — a partitioned media
// node answered 504 after 2 × UPSTREAM_CONNECT_TIMEOUT_MS (4.3–4.9 s instead
// of ≈ 2 s). Here the instance refuses connections (same path as a connect
// timeout: a failure before send), and the access log must show one attempt.

import t from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import { request } from 'undici'
import { startRouter } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

t.test(
  'a failure before send on the only instance is not retried on it',
  async (t) => {
    const port = await closedPort()
    const file = staticDiscoveryFile({ media: [{ id: 'n1', port }], one: [{ id: 'one-1', port }] })
    const router = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, EJECT_AFTER_FAILURES: '0' })
    t.teardown(() => router.close())
    for (const path of ['/services/one/x', '/media/n1/status']) {
      const res = await request(`${router.url}${path}`)
      await res.body.text()
      t.equal(res.statusCode, 502, path)
      const line = router.logs.find((l) => l['msg'] === 'access' && l['path'] === path)
      t.equal(line?.['attempts'], 1, `${path}: one attempt on the only instance`)
    }
  },
)
