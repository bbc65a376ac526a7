// The admin dashboard on a cluster primary (ROUTER_WORKERS=2): the primary has
// no discovery of its own; /admin/api/state merges the workers' snapshots
// (sent over IPC and parsed there) into one row per node and instance, counts
// both processes, reads request counts from the aggregated /metrics, and the
// drain action goes from the primary to the node's admin API at the address a
// worker's discovery gave.
import t from 'tap'
import { request } from 'undici'
import { startMediaNode } from '../../media-node/src/index.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { startUpstream } from '../fixtures/upstream.js'
import { startRouterProcess } from '../fixtures/router-process.js'
import { ADMIN_TOKEN } from '../fixtures/router.js'

t.test('dashboard state and drain through the cluster primary', async (t) => {
  const node = await startMediaNode({ nodeId: 'node-a', host: '127.0.0.1', port: 0, registration: false, admin: { port: 0, token: 'cluster-node-token' } })
  t.teardown(() => node.close())
  const up = await startUpstream('a')
  t.teardown(() => up.close())
  const file = staticDiscoveryFile({
    media: [{ id: 'node-a', port: node.port, attributes: { status: 'ACTIVE', admin_port: String(node.adminPort) } }],
    dep: [{ id: 'dep-1', port: up.port }],
  })
  const rp = await startRouterProcess({ ROUTER_WORKERS: '2', DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, ADMIN_TOKEN, MEDIA_ADMIN_TOKEN: 'cluster-node-token', DRAIN_DELAY_MS: '0', ACCESS_LOG: 'false' })
  t.teardown(() => rp.stop('SIGKILL'))
  for (let i = 0; i < 20; i++) {
    const r = await request(`http://127.0.0.1:${rp.port}/services/dep/x`, { reset: true })
    await r.body.text()
  }
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const state = await request(`http://127.0.0.1:${rp.adminPort}/admin/api/state`, { headers: auth })
  t.equal(state.statusCode, 200)
  const view = JSON.parse(await state.body.text()) as { processes: number; nodes: unknown[]; deployments: unknown[]; routes: Array<{ name: string; requests: number }> }
  t.equal(view.processes, 2, 'one snapshot per worker')
  t.match(view.nodes, [{ id: 'node-a', status: 'ACTIVE', statusSource: 'node', adminPort: node.adminPort, drainable: true }])
  t.match(view.deployments, [{ id: 'dep', instances: 1 }], 'the instance both workers know is one row')
  t.equal(view.routes.find((r) => r.name === 'services')?.requests, 20, 'request counts from the aggregated /metrics')

  const drain = await request(`http://127.0.0.1:${rp.adminPort}/admin/api/nodes/node-a/drain`, { method: 'POST', headers: auth })
  t.equal(drain.statusCode, 202)
  await drain.body.text()
  t.equal(node.status().status, 'DRAINING', 'the primary reached the node')
  const page = await request(`http://127.0.0.1:${rp.adminPort}/admin/login`)
  t.equal(page.statusCode, 200, 'the primary serves the pages')
  await page.body.text()
})
