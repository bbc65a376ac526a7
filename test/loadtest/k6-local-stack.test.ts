// The k6 scenarios' contracts against the real local stack (`npm start`'s
// stack on port 0): the session logic of lib/session-core.js through a thin
// `ws` adapter (router → media node echo, no lost message at close), the
// unknown-id detection of setup(), node discovery through /media/allocate, and
// 05's drain contract: the media node's own POST /admin/drain with its token,
// the node reporting DRAINING, new allocations going elsewhere while the open
// session stays up.

import t from 'tap'
import WebSocket from 'ws'
import { request } from 'undici'
import { setTimeout as sleep } from 'node:timers/promises'
import { startDevStack, type DevStack } from '../../infra/local/src/dev-stack.js'
import { createSession, type SessionOptions, type SessionResult } from '../../loadtest/k6/lib/session-core.js'
import { allocatedNode, distinct, drainAnswerProblem, isUnknownTarget, nodeStatus, unknownIdMessage } from '../../loadtest/k6/lib/router-api.js'
import { mediaUrl, readConfig } from '../../loadtest/k6/lib/config.js'

/** Runs session-core over a `ws` client: the adapter k6/ws is to lib/session.js. */
function runSession(url: string, opts: SessionOptions): Promise<SessionResult> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const timers: NodeJS.Timeout[] = []
    let closed = false
    const s = createSession(opts, {
      send: (text) => ws.send(text),
      close: (code) => ws.close(code),
      every: (fn, ms) => void timers.push(setInterval(() => (closed ? undefined : fn()), ms)),
      after: (fn, ms) => void timers.push(setTimeout(() => (closed ? undefined : fn()), ms)),
      now: () => Date.now(),
    })
    ws.on('open', () => s.onOpen())
    ws.on('message', (data: Buffer) => s.onMessage(data.toString('utf8')))
    ws.on('error', () => s.onError())
    ws.on('close', (code) => {
      closed = true
      for (const x of timers) clearTimeout(x)
      s.onClose(code)
      resolve(s.result())
    })
  })
}

async function get(url: string, init: { method?: 'GET' | 'POST'; token?: string } = {}): Promise<{ status: number; body: string }> {
  const res = await request(url, { method: init.method ?? 'GET', headers: init.token !== undefined ? { authorization: `Bearer ${init.token}` } : {}, headersTimeout: 10_000, bodyTimeout: 10_000 })
  return { status: res.statusCode, body: await res.body.text() }
}

let stack: DevStack
t.before(async () => {
  stack = await startDevStack({ routerPort: 0, adminPort: 0, quiet: true })
})
t.teardown(async () => {
  await stack.close()
})

t.test('sessions through the router at whole-second holds lose nothing (issue 19)', async (t) => {
  const cfg = readConfig({ BASE_URL: stack.routerUrl })
  // 10 msg/s and a 3 s hold: the last tick lands on the close, the case that counted echoes lost.
  const results = await Promise.all(
    [0, 1, 2, 3].map((i) =>
      runSession(mediaUrl(cfg, stack.mediaNodes[i >> 1] ?? '', `k6-core-${i >> 1}`), { clientId: `c${i}`, holdMs: 3000, msgRate: 10, graceMs: 1500, padding: 'x'.repeat(64) }),
    ),
  )
  for (const [i, r] of results.entries()) {
    t.ok(r.opened, `session ${i} opened`)
    t.notOk(r.closedEarly, `session ${i} held`)
    t.equal(r.closeCode, 1000)
    t.ok(r.sent > 0, `session ${i} sent ${r.sent}`)
    t.equal(r.lost, 0, `session ${i}: no echo lost`)
    t.equal(r.unansweredAtClose, 0)
    t.equal(r.echoed, r.sent, `session ${i}: every echo back`)
    t.equal(r.rttsMs.length, r.sent)
    t.ok(r.relayed > 0, `session ${i}: its peer's messages were relayed`)
  }
})

t.test("setup()'s id checks: real ids pass, unknown ones are named with how to list them", async (t) => {
  const base = stack.routerUrl
  const hello = await get(`${base}/services/hello/`)
  t.notOk(isUnknownTarget(hello.status, hello.body), 'hello exists')
  const demo = await get(`${base}/services/demo/`)
  t.ok(isUnknownTarget(demo.status, demo.body), `the old default "demo" is unknown (HTTP ${demo.status})`)
  t.match(unknownIdMessage('deployment', 'demo', `${base}/services/demo/`, demo.status, demo.body, base), /deployment "demo" does not exist.*TARGET_NOT_FOUND.*DEPLOYMENT_IDS/)
  const node = await get(`${base}/media/node-1/status`)
  t.notOk(isUnknownTarget(node.status, node.body), 'node-1 exists')
  const media1 = await get(`${base}/media/media-1/status`)
  t.ok(isUnknownTarget(media1.status, media1.body), `the old default "media-1" is unknown (HTTP ${media1.status})`)
  t.match(unknownIdMessage('node', 'media-1', `${base}/media/media-1/status`, media1.status, media1.body, base), /media node "media-1".*\/media\/allocate/)

  const seen: (string | undefined)[] = []
  for (let i = 0; i < 8; i++) seen.push(allocatedNode((await get(`${base}/media/allocate`)).body))
  t.same(distinct(seen).sort(), ['node-1', 'node-2'], 'discovery through /media/allocate finds both nodes')
})

t.test("05's drain contract: the node's admin API drains it, it reports DRAINING, allocations go elsewhere", async (t) => {
  const cfg = readConfig({ BASE_URL: stack.routerUrl })
  const admin = stack.mediaNodeAdminUrls[stack.mediaNodes.indexOf('node-1')]
  t.ok(admin !== undefined, 'the stack exposes node-1 admin listener')
  if (admin === undefined) return
  const before = nodeStatus((await get(`${admin}/status`)).body)
  t.match(before, { nodeId: 'node-1', status: 'ACTIVE' }, 'GET /status names the node (setup checks this before any load)')

  // A session on node-1 that must outlive the drain.
  const held = runSession(mediaUrl(cfg, 'node-1', 'spans-drain'), { clientId: 'held', holdMs: 4000, msgRate: 5, graceMs: 1000, padding: '' })
  await sleep(500)

  const refused = await get(`${admin}/admin/drain`, { method: 'POST' })
  t.match(drainAnswerProblem(refused.status, refused.body, 'node-1') ?? '', /DRAIN_TOKEN/, 'no token: 401, named')
  const accepted = await get(`${admin}/admin/drain`, { method: 'POST', token: stack.adminToken })
  t.equal(drainAnswerProblem(accepted.status, accepted.body, 'node-1'), undefined, `202 with node-1 DRAINING (${accepted.status} ${accepted.body.slice(0, 80)})`)
  t.match(nodeStatus((await get(`${admin}/status`)).body), { nodeId: 'node-1', status: 'DRAINING' }, 'the node reports DRAINING')

  // New sessions go elsewhere once the router noticed (status cache, DNS TTL): bounded wait.
  let streak = 0
  for (let i = 0; i < 100 && streak < 10; i++) {
    const node = allocatedNode((await get(`${stack.routerUrl}/media/allocate`)).body)
    streak = node === 'node-2' ? streak + 1 : 0
    if (streak === 0) await sleep(200)
  }
  t.equal(streak, 10, 'ten allocations in a row on node-2 after the drain')

  const r = await held
  t.ok(r.opened)
  t.notOk(r.closedEarly, 'the session open on node-1 when it began draining was not cut')
  t.equal(r.lost, 0)
  t.ok(r.echoed > 0)
})
