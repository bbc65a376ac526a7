// Regression (found by `npm run tier`, media-kill scenario): a SIGKILLed media
// node's Cloud Map entry outlives it (nobody deregisters a killed task), and its
// replacement gets the same address. /media/allocate then read the new node's
// /status under the dead id, found it ACTIVE and least loaded, and handed out
// sessions under the dead id; the new node accepted them (the router strips the
// prefix), so clients sat on a node other than the one they were told.
// Now allocation skips an entry whose node answers with another id, and the
// media node refuses (404 WRONG_NODE) an upgrade the router forwards for
// another node id (X-Forwarded-Prefix).

import t from 'tap'
import WebSocket from 'ws'
import { request } from 'undici'
import { startMediaNode } from '../../media-node/src/index.js'
import { startRouter } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'

t.test('a stale entry pointing at another node is never allocated, and that node refuses sessions under the stale id', async (t) => {
  const node = await startMediaNode({ nodeId: 'real', host: '127.0.0.1', port: 0, registration: false })
  t.teardown(() => node.close())
  // "dead" sorts before "real": with equal load the old code picked it every time.
  const file = staticDiscoveryFile({ media: [{ id: 'dead', port: node.port }, { id: 'real', port: node.port }] })
  const router = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file })
  t.teardown(() => router.close())

  const named = new Set<string>()
  for (let i = 0; i < 10; i++) {
    const res = await request(`${router.url}/media/allocate`)
    const body: unknown = await res.body.json()
    t.equal(res.statusCode, 200)
    if (typeof body === 'object' && body !== null && 'nodeId' in body && typeof body.nodeId === 'string') named.add(body.nodeId)
  }
  t.same([...named], ['real'], 'only the node that answers as itself is allocated')

  const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const ws = new WebSocket(`${router.url.replace('http', 'ws')}/media/dead/ws/s1`)
    ws.on('open', () => reject(new Error('a session opened under the dead id')))
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    ws.on('error', () => undefined)
  })
  t.equal(refused.status, 404)
  t.match(JSON.parse(refused.body), { code: 'WRONG_NODE' })

  const ws = new WebSocket(`${router.url.replace('http', 'ws')}/media/real/ws/s1`)
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve())
    ws.on('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode ?? 0}`)))
  })
  t.equal(node.status().activeConnections, 1, 'its own id still works')
  ws.close()
})
