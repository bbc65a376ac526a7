// A large body streamed up and back down through a router process: bytes
// arrive intact and the router's RSS grows far less than the body (no
// buffering). Node frees socket chunks lazily (V8 collects external memory
// after ~64 MB of growth), so a 50 MB body alone cannot tell buffering from GC
// lag: the default is 400 MB each way (8x the 50 MB; growth plateaus
// near 40-60 MB whatever the size), and the bound is a quarter of the body.
import t from 'tap'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { request } from 'undici'
import { Readable } from 'node:stream'
import { createHash } from 'node:crypto'
import { startUpstream } from '../fixtures/upstream.js'
import { startRouterProcess } from '../fixtures/router-process.js'

const SIZE = Number(process.env.STREAM_TEST_MB ?? 400) * 1024 * 1024

function bodyStream(size: number, hash: ReturnType<typeof createHash>): Readable {
  let left = size
  let n = 0
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null)
        return
      }
      const len = Math.min(64 * 1024, left)
      const chunk = Buffer.alloc(len, n++ % 251)
      hash.update(chunk)
      left -= len
      this.push(chunk)
    },
  })
}

t.test('large body streamed both ways', async (t) => {
  const up = await startUpstream('echo')
  const file = staticDiscoveryFile({ big: [{ id: 'a', port: up.port }] })
  const rp = await startRouterProcess({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, ACCESS_LOG: 'false', MAX_BODY_BYTES: '0' })
  t.teardown(async () => {
    await rp.stop('SIGKILL')
    await up.close()
  })
  // Warm up (JIT, pools) so the baseline is comparable.
  const warm = await request(`http://127.0.0.1:${rp.port}/services/big/echo`, { method: 'POST', body: Buffer.alloc(1024 * 1024) })
  await warm.body.arrayBuffer()
  const baseline = rp.rssBytes()
  let peak = baseline
  const sampler = setInterval(() => (peak = Math.max(peak, rp.rssBytes())), 20)

  const sent = createHash('sha256')
  const got = createHash('sha256')
  const res = await request(`http://127.0.0.1:${rp.port}/services/big/echo`, { method: 'POST', body: bodyStream(SIZE, sent), headers: { 'content-type': 'application/octet-stream' } })
  let received = 0
  for await (const chunk of res.body) {
    const b = chunk as Buffer
    received += b.length
    got.update(b)
  }
  clearInterval(sampler)
  t.equal(res.statusCode, 200)
  t.equal(received, SIZE, 'all bytes came back')
  t.equal(got.digest('hex'), sent.digest('hex'), 'content intact')
  const growth = peak - baseline
  t.comment(`router RSS baseline ${(baseline / 1048576).toFixed(1)} MB, peak growth ${(growth / 1048576).toFixed(1)} MB`)
  t.ok(growth < SIZE / 4, `RSS growth ${(growth / 1048576).toFixed(1)} MB is far below the ${SIZE / 1048576} MB body`)

  const down = await request(`http://127.0.0.1:${rp.port}/services/big/bytes?n=${SIZE}`)
  let n = 0
  for await (const chunk of down.body) n += (chunk as Buffer).length
  t.equal(n, SIZE, 'download intact in size')
})
