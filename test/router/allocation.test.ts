// GET /media/allocate: least-loaded ACTIVE node, never a DRAINING one, stable
// per session, 503 JSON when none; and the selection functions as units.
import t from 'tap'
import WebSocket from 'ws'
import { request } from 'undici'
import { startCloudMap } from '../fixtures/cloudmap.js'
import { startRouter } from '../fixtures/router.js'
import { startMediaNode, type MediaNode } from '../../media-node/src/index.js'
import { leastLoaded, rendezvous } from '../../router/src/allocation/select.js'

process.env.AWS_ACCESS_KEY_ID = 'test'
process.env.AWS_SECRET_ACCESS_KEY = 'test'

t.test('selection units', async (t) => {
  t.equal(leastLoaded([{ nodeId: 'a', load: 3 }, { nodeId: 'b', load: 1 }, { nodeId: 'c', load: undefined }])?.nodeId, 'b')
  t.equal(leastLoaded([{ nodeId: 'b', load: 1 }, { nodeId: 'a', load: 1 }])?.nodeId, 'a', 'ties by id')
  t.equal(leastLoaded([]), undefined)
  const nodes = ['n1', 'n2', 'n3', 'n4']
  const first = nodes.map((_, i) => rendezvous(`s${i}`, nodes))
  t.same(nodes.map((_, i) => rendezvous(`s${i}`, [...nodes].reverse())), first, 'order independent')
  // Removing one node moves only the sessions that were on it.
  let moved = 0
  for (let i = 0; i < 200; i++) {
    const before = rendezvous(`s${i}`, nodes)
    const after = rendezvous(`s${i}`, nodes.filter((n) => n !== 'n2'))
    if (before !== 'n2' && before !== after) moved++
  }
  t.equal(moved, 0)
  const spread = new Set(Array.from({ length: 100 }, (_, i) => rendezvous(`session-${i}`, nodes)))
  t.equal(spread.size, 4, 'sessions spread over all nodes')
})

t.test('allocation through the router (API discovery)', async (t) => {
  const cm = await startCloudMap()
  await cm.service('media')
  const nodes: MediaNode[] = []
  for (const id of ['node-a', 'node-b', 'node-c']) {
    nodes.push(
      await startMediaNode({
        nodeId: id,
        host: '127.0.0.1',
        port: 0,
        heartbeatIntervalMs: 0,
        log: () => undefined,
        registration: { endpoint: cm.emulator.apiEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, advertiseIpv4: '127.0.0.1' },
      }),
    )
  }
  await Promise.all(nodes.map((n) => n.whenActive()))
  const rt = await startRouter({ DISCOVERY_MODE: 'cloudmap', CLOUDMAP_ENDPOINT: cm.emulator.apiEndpoint, CLOUDMAP_REGION: 'us-east-1', CLOUDMAP_REVISION_POLL_MS: '100', CACHE_MAX_TTL_MS: '100' })
  const sockets: WebSocket[] = []
  t.teardown(async () => {
    for (const s of sockets) s.terminate()
    await rt.close()
    for (const n of nodes) await n.close()
    await cm.close()
  })
  const open = (node: string): Promise<WebSocket> =>
    new Promise((res, rej) => {
      const w = new WebSocket(`ws://127.0.0.1:${rt.router.port()}/media/${node}/ws/load`)
      w.once('open', () => res(w))
      w.once('error', rej)
    })
  // node-a: 3 connections, node-b: 1, node-c: 0 but DRAINING.
  for (const n of ['node-a', 'node-a', 'node-a', 'node-b']) sockets.push(await open(n))
  const [, , nodeC] = nodes
  if (nodeC === undefined) return
  await nodeC.startDraining()
  const allocate = async (q = ''): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await request(`${rt.url}/media/allocate${q}`, { headers: { host: 'edge.example.com', 'x-forwarded-proto': 'https' } })
    return { status: r.statusCode, body: JSON.parse(await r.body.text()) as Record<string, unknown> }
  }
  // Wait for the router to see node-c's DRAINING attribute.
  for (let i = 0; i < 100; i++) {
    const r = await allocate('?session=probe')
    if (r.body.nodeId !== 'node-c' && (await allocate()).body.nodeId !== 'node-c') break
    await new Promise((res) => setTimeout(res, 50))
  }
  const r = await allocate()
  t.equal(r.status, 200)
  t.equal(r.body.nodeId, 'node-b', 'least loaded ACTIVE node (node-c is draining)')
  t.match(r.body.path, /^\/media\/node-b\/ws\/[0-9a-f-]{36}$/)
  t.equal(r.body.url, `wss://edge.example.com${String(r.body.path)}`)

  const picks = new Set<unknown>()
  for (let i = 0; i < 5; i++) picks.add((await allocate('?session=room-42')).body.nodeId)
  t.equal(picks.size, 1, 'stable for one session')
  const spread = new Set<unknown>()
  for (let i = 0; i < 40; i++) spread.add((await allocate(`?session=s-${i}`)).body.nodeId)
  t.notOk(spread.has('node-c'), 'never a draining node')
  t.equal(spread.size, 2, 'sessions spread over both ACTIVE nodes')

  const bad = await allocate('?session=bad%20id')
  t.equal(bad.status, 400)
  t.match(bad.body, { code: 'INVALID_SESSION' })

  for (const n of nodes) await n.startDraining()
  for (let i = 0; i < 100 && (await allocate()).status !== 503; i++) await new Promise((res) => setTimeout(res, 50))
  const none = await allocate()
  t.equal(none.status, 503)
  t.match(none.body, { code: 'NO_HEALTHY_ENDPOINT' })
})
