// The `npm start` stack end to end: backends and media nodes registered through
// the SDK are reachable through the router with no route configuration, a
// WebSocket relays through it, and close() deregisters everything.
import t from 'tap'
import WebSocket from 'ws'
import { request } from 'undici'
import { existsSync } from 'node:fs'
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery'
import { startDevStack } from '../../infra/local/src/dev-stack.js'
import { emulatorClient } from '../../infra/local/src/emulator/sdk-setup.js'

t.test('dev stack serves both route templates and cleans up', async (t) => {
  const stack = await startDevStack({ routerPort: 0, adminPort: 0, quiet: true })
  let closed = false
  t.teardown(async () => {
    if (!closed) await stack.close()
  })
  t.same(stack.deployments, ['hello', 'echo'])
  t.same(stack.mediaNodes, ['node-1', 'node-2'])

  const seen = new Set<string>()
  // P2C picks at random between idle instances: 40 requests reach both (all on one: p = 2^-39).
  for (let i = 0; i < 40; i++) {
    const r = await request(`${stack.routerUrl}/services/hello/x`)
    t.equal(r.statusCode, 200)
    const body = JSON.parse(await r.body.text()) as { instance: string; path: string }
    seen.add(body.instance)
    t.equal(body.path, '/x')
  }
  t.same([...seen].sort(), ['hello-1', 'hello-2'])

  t.equal(stack.mediaNodeAdminUrls.length, 2)
  for (const adminUrl of stack.mediaNodeAdminUrls) {
    const m = await request(`${adminUrl}/metrics`)
    t.equal(m.statusCode, 200, `${adminUrl}/metrics`)
    t.match(await m.body.text(), /\nmedia_node_state\{state="ACTIVE"\} 1\n/)
  }

  const status = await request(`${stack.routerUrl}/media/node-2/status`)
  t.match(JSON.parse(await status.body.text()), { nodeId: 'node-2', status: 'ACTIVE' })

  const url = `${stack.routerUrl.replace('http', 'ws')}/media/node-1/ws/dev`
  const open = (): Promise<WebSocket> => new Promise((res, rej) => { const w = new WebSocket(url); w.once('open', () => res(w)); w.once('error', rej) })
  const a = await open()
  const b = await open()
  const got = new Promise<string>((r) => b.once('message', (d: Buffer) => r(d.toString())))
  a.send('through the router')
  t.equal(await got, 'through the router')
  a.close()
  b.close()

  const client = emulatorClient(stack.emulator.apiEndpoint)
  t.teardown(() => client.destroy())
  const before = await client.send(new DiscoverInstancesCommand({ NamespaceName: 'ecs.internal', ServiceName: 'media' }))
  t.equal(before.Instances?.length, 2)
  const stopping = stack.close()
  closed = true
  await stopping
  t.equal(stack.emulator.stats.apiCalls('DeregisterInstance'), 5, 'three backends and two media nodes deregistered')
})

t.test('drainNode marks a media node DRAINING while it still has sessions', async (t) => {
  const stack = await startDevStack({ routerPort: 0, adminPort: 0, quiet: true })
  t.teardown(() => stack.close())
  // A node with no sessions finishes its drain at once and leaves; keep one session open.
  const ws = new WebSocket(`${stack.routerUrl.replace('http', 'ws')}/media/node-2/ws/keep`)
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej) })
  t.teardown(() => ws.terminate())
  await stack.drainNode('node-2')
  const r = await request(`${stack.routerUrl}/media/node-2/status`)
  t.match(JSON.parse(await r.body.text()), { nodeId: 'node-2', status: 'DRAINING' })
  await t.rejects(stack.drainNode('nope'), /no media node/)
})

t.test('DISCOVERY_MODE=static: the stack writes the file of what it started and removes it on close', async (t) => {
  const stack = await startDevStack({ routerPort: 0, adminPort: 0, quiet: true, routerEnv: { DISCOVERY_MODE: 'static' } })
  let closed = false
  t.teardown(async () => {
    if (!closed) await stack.close()
  })
  const file = stack.routerEnv['STATIC_DISCOVERY_FILE']
  t.ok(file !== undefined && existsSync(file), 'file written')
  t.equal(stack.router.config.discoveryMode, 'static')
  const r = await request(`${stack.routerUrl}/services/echo/x?y=1`)
  t.match(await r.body.json(), { deployment: 'echo', instance: 'echo-1', path: '/x', query: { y: '1' } })
  const status = await request(`${stack.routerUrl}/media/node-1/status`)
  t.match(await status.body.json(), { nodeId: 'node-1' })
  closed = true
  await stack.close()
  t.notOk(file !== undefined && existsSync(file), 'file removed')
})
