// The access log is written in batches (router/src/log.ts): a line can wait up
// to FLUSH_INTERVAL_MS in memory. Through a real router process, every line of
// the requests answered before SIGTERM is on stdout when the process is gone:
// after a full drain (exit 0) and when a second signal cuts the drain short
// (exit 1). Lines are told apart by their X-Request-Id.
import t from 'tap'
import { request } from 'undici'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { startUpstream } from '../fixtures/upstream.js'
import { startRouterProcess, type RouterProcess } from '../fixtures/router-process.js'

const N = 30

async function sendRequests(rp: RouterProcess, tag: string): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < N; i++) {
    const id = `${tag}-${i}`
    const r = await request(`http://127.0.0.1:${rp.port}/services/dep/x`, { headers: { 'x-request-id': id } })
    await r.body.text()
    if (r.statusCode !== 200) throw new Error(`${id}: ${r.statusCode}`)
    ids.push(id)
  }
  return ids
}

function loggedIds(rp: RouterProcess): string[] {
  const ids: string[] = []
  for (const l of rp.lines) {
    if (!l.includes('"msg":"access"')) continue
    const v = (JSON.parse(l) as Record<string, unknown>)['requestId']
    if (typeof v === 'string') ids.push(v)
  }
  return ids
}

t.test('SIGTERM: every access line is written before the process exits', async (t) => {
  const up = await startUpstream('dep')
  t.teardown(() => up.close())
  const rp = await startRouterProcess({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: staticDiscoveryFile({ dep: [{ id: 'a', port: up.port }] }), DRAIN_DELAY_MS: '0' })
  t.teardown(() => rp.stop('SIGKILL'))
  const sent = await sendRequests(rp, 'term')
  rp.child.kill('SIGTERM')
  t.equal(await rp.exited, 0, 'drained, exit 0')
  t.same(loggedIds(rp), sent, `all ${N} lines, in order`)
})

t.test('a second SIGTERM cuts the drain short: the lines are still written', async (t) => {
  const up = await startUpstream('dep')
  t.teardown(() => up.close())
  const rp = await startRouterProcess({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: staticDiscoveryFile({ dep: [{ id: 'a', port: up.port }] }), DRAIN_DELAY_MS: '600000' })
  t.teardown(() => rp.stop('SIGKILL'))
  const before = await sendRequests(rp, 'first')
  rp.child.kill('SIGTERM')
  while (!rp.lines.some((l) => l.includes('draining: /health is 503'))) await new Promise((r) => setTimeout(r, 10))
  // Still answering during the drain delay; these lines are the freshest in the buffer.
  const during = await sendRequests(rp, 'during')
  rp.child.kill('SIGTERM')
  t.equal(await rp.exited, 1, 'exited at once (non-zero)')
  t.same(loggedIds(rp), [...before, ...during], `all ${2 * N} lines, in order`)
})
