// Differential test of response framing (issue 13, item 5): a seeded,
// reproducible corpus of upstream responses — every pair of Transfer-Encoding
// and Content-Length variants, each with 1xx/204/304/200 statuses and GET or
// HEAD, plus sampled tails (extra bytes, a forged second response), early
// closes and split writes — is served by a raw upstream. For each, the bytes
// a raw client receives through the router (then its next request, to an
// honest deployment, on the same connection) are read by Node's own llhttp and
// must be exactly: one well-framed response whose status and body equal what
// Node's http.request reads directly from the same upstream — or a 502 — then
// the honest answer, and nothing else. A response cut short by the router is
// allowed only where Node could not read the upstream's response either.
//
// Replay one case: DIFF_SEED=<seed> DIFF_ONLY=<index> npx tap <this file>.
import t from 'tap'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { startRouter } from '../fixtures/router.js'
import { startFixedUpstream } from '../fixtures/upstream.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { startRawUpstream } from '../fixtures/raw-upstream.js'
import { converse, requestText } from '../fixtures/raw-client.js'
import { headerValues } from '../fixtures/llhttp.js'
import { prng } from '../fixtures/prng.js'

const SEED = Number(process.env.DIFF_SEED ?? 20261203)
const ONLY = process.env.DIFF_ONLY === undefined ? undefined : Number(process.env.DIFF_ONLY)

const TE_VARIANTS: ReadonlyArray<readonly string[]> = [
  [],
  ['chunked'],
  ['Chunked'],
  ['gzip'],
  ['identity'],
  ['gzip, chunked'],
  ['chunked, gzip'],
  ['chunked, chunked'],
  ['gzip', 'chunked'],
  [''],
]

/** Content-Length variants; `n` is the real body length. */
const CL_VARIANTS: ReadonlyArray<(n: number) => readonly string[]> = [
  () => [],
  (n) => [String(n)],
  (n) => [String(Math.max(0, n - 3))],
  (n) => [String(n + 7)],
  (n) => [String(n), String(n)],
  (n) => [String(n), String(n + 1)],
  (n) => [`${n}, ${n}`],
  (n) => [`+${n}`],
  () => ['-1'],
  () => ['abc'],
  (n) => [`0${n}`],
  () => ['99999999999999999999'],
]

const STATUSES = ['200', '204', '304', '103+200', '100+200'] as const
const TAILS = ['none', 'none', 'garbage', 'forged'] as const
const ENDINGS = ['fin', 'fin', 'fin', 'fin', 'keep', 'early'] as const

interface Case {
  readonly index: number
  readonly method: 'GET' | 'HEAD'
  readonly wire: Buffer
  /** Writes the upstream makes of `wire` (split points). */
  readonly splits: readonly number[]
  readonly ending: (typeof ENDINGS)[number]
  /** Framed as RFC 9112 wants and the router accepts (plain or chunked, one right length or none, no 100): must be forwarded whenever Node reads it. */
  readonly wellFormed: boolean
  readonly summary: string
}

function chunkedBody(body: Buffer, rand: () => number): Buffer {
  const parts: Buffer[] = []
  for (let pos = 0; pos < body.length; ) {
    // Tiny chunks for small bodies (many size lines), larger ones for big bodies.
    const n = Math.min(body.length - pos, 1 + Math.floor(rand() * (body.length > 4096 ? 8192 : 7)))
    const ext = rand() < 0.2 ? ';x=y' : ''
    parts.push(Buffer.from(`${n.toString(16)}${ext}\r\n`), body.subarray(pos, pos + n), Buffer.from('\r\n'))
    pos += n
  }
  parts.push(Buffer.from(rand() < 0.3 ? '0\r\nX-Trailer: t\r\n\r\n' : '0\r\n\r\n'))
  return Buffer.concat(parts)
}

interface CaseSpec {
  readonly te: readonly string[]
  readonly clOf: (n: number) => readonly string[]
  readonly status: (typeof STATUSES)[number]
  readonly method: 'GET' | 'HEAD'
  readonly bodyLength: number
}

function makeCase(index: number, spec: CaseSpec, rand: () => number): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const { te, status, method } = spec
  const body = Buffer.from(`body-${index}-${'x'.repeat(spec.bodyLength)}`)
  const cl = spec.clOf(body.length)
  const chunkedLast = te.length > 0 && /(^|,)\s*chunked\s*$/i.test(te.join(','))
  const payload = chunkedLast && rand() < 0.9 ? chunkedBody(body, rand) : body
  const tail = pick(TAILS)
  const ending = pick(ENDINGS)
  const version = rand() < 0.05 ? 'HTTP/1.0' : 'HTTP/1.1'
  const final = status.endsWith('200') ? '200' : status
  let head = ''
  if (status.startsWith('103')) head += `${version} 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n`
  if (status.startsWith('100')) head += `${version} 100 Continue\r\n\r\n`
  head += `${version} ${final} ${final === '200' ? 'OK' : 'X'}\r\nX-Case: ${index}\r\n`
  for (const v of te) head += `Transfer-Encoding: ${v}\r\n`
  for (const v of cl) head += `Content-Length: ${v}\r\n`
  head += '\r\n'
  // A 204/304/HEAD body is exactly what a response-splitting upstream would send.
  let wire = Buffer.concat([Buffer.from(head, 'latin1'), payload])
  if (tail === 'garbage') wire = Buffer.concat([wire, Buffer.from('\r\nGARBAGE\r\n\r\n')])
  if (tail === 'forged') wire = Buffer.concat([wire, Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Forged: yes\r\n\r\nforged')])
  if (ending === 'early') wire = wire.subarray(0, Math.max(head.length, wire.length - 1 - Math.floor(rand() * Math.min(8, payload.length + 1))))
  const splits = [0, 1, 2].filter(() => rand() < 0.4).map(() => Math.floor(rand() * wire.length)).sort((a, b) => a - b)
  const teOk = te.length === 0 || (te.length === 1 && te[0]?.toLowerCase() === 'chunked')
  const clOk = cl.length === 0 || (cl.length === 1 && cl[0] === String(body.length) && te.length === 0)
  const wellFormed = teOk && clOk && !status.startsWith('100') && ending !== 'early' && payload !== body === (te.length > 0)
  const summary = `#${index} ${method} ${status} TE=${JSON.stringify(te)} CL=${JSON.stringify(cl)} tail=${tail} ${ending} ${version}${payload === body ? '' : ' chunked-body'} ${body.length}B`
  return { index, method, wire, splits, ending, wellFormed, summary }
}

/** Every Transfer-Encoding × Content-Length × status × method, then random plain, chunked and length-framed ones. */
function buildCorpus(seed: number): Case[] {
  const rand = prng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const cases: Case[] = []
  for (const te of TE_VARIANTS) {
    for (const clOf of CL_VARIANTS) {
      for (const status of STATUSES) {
        for (const method of ['GET', 'HEAD'] as const) cases.push(makeCase(cases.length, { te, clOf, status, method, bodyLength: Math.floor(rand() * 20) }, rand))
      }
    }
  }
  const plain: ReadonlyArray<readonly string[]> = [[], ['chunked'], ['Chunked']]
  const lengths: ReadonlyArray<(n: number) => readonly string[]> = [() => [], (n) => [String(n)]]
  for (let i = 0; i < 400; i++) {
    const te = pick(plain)
    const bodyLength = rand() < 0.1 ? Math.floor(rand() * 200_000) : Math.floor(rand() * 2000)
    cases.push(makeCase(cases.length, { te, clOf: te.length > 0 && rand() < 0.9 ? lengths[0] ?? (() => []) : pick(lengths), status: pick(STATUSES), method: rand() < 0.2 ? 'HEAD' : 'GET', bodyLength }, rand))
  }
  return cases
}

/** What Node's own http client reads from the upstream for one case. */
interface Direct {
  readonly status: number
  readonly body: string
  readonly complete: boolean
}

function readDirect(port: number, c: Case): Promise<Direct> {
  return new Promise((resolve) => {
    let status = 0
    const chunks: Buffer[] = []
    let settled = false
    let response: IncomingMessage | undefined
    // Complete means llhttp saw the end of the message (res.complete), even if
    // bytes after it then made the socket fail.
    const done = (): void => {
      if (settled) return
      settled = true
      const complete = response?.complete === true
      req.destroy()
      resolve({ status, body: Buffer.concat(chunks).toString('latin1'), complete })
    }
    // Bytes after a complete response make the socket fail; the body read so far still arrives, then 'end'.
    const failed = (): void => {
      if (response?.complete !== true) done()
    }
    const req = httpRequest({ host: '127.0.0.1', port, method: c.method, path: `/case/${c.index}`, agent: false, headers: { connection: 'keep-alive' } }, (res) => {
      response = res
      status = res.statusCode ?? 0
      res.on('data', (d: Buffer) => chunks.push(d))
      res.on('end', done)
      res.on('aborted', failed)
      res.on('error', failed)
    })
    req.on('error', failed)
    req.end()
  })
}

/** Run `fn` over `items`, `width` at a time (a slow case holds up only its own lane). */
async function inLanes<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]
      if (item !== undefined) await fn(item)
    }
  }
  await Promise.all(Array.from({ length: width }, lane))
}

t.test(`response framing through the router equals llhttp's direct reading, or is a 502 (seed ${SEED})`, async (t) => {
  const corpus = buildCorpus(SEED).filter((c) => ONLY === undefined || c.index === ONLY)
  const byIndex = new Map(corpus.map((c) => [c.index, c]))
  const up = await startRawUpstream(t, (req, s: Socket) => {
    const c = byIndex.get(Number(req.url.split('/')[2]))
    if (c === undefined) {
      s.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')
      return
    }
    let from = 0
    for (const at of [...c.splits, c.wire.length]) {
      if (at > from) s.write(c.wire.subarray(from, at))
      from = Math.max(from, at)
    }
    // 'keep': the connection stays open a while (so extra bytes sit on a kept-alive connection), then
    // closes, so a body that never ends still ends for Node and the router alike — no timeouts involved.
    // (Not if the router has sent another request on it meanwhile: then this response was complete.)
    if (c.ending === 'keep') {
      const seen = req.conn.requests.length
      setTimeout(() => (req.conn.requests.length === seen ? s.end() : undefined), 300)
    } else s.end()
  })
  const file = staticDiscoveryFile({ diff: [{ id: 'd', port: up.port }], good: [{ id: 'g', port: await startFixedUpstream(t) }] })
  // Every case ends with the upstream closing, so the router's timeouts never decide an outcome.
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, ACCESS_LOG: 'false', EJECT_AFTER_FAILURES: '0' })
  t.teardown(() => rt.close())

  const counts = { same: 0, refused: 0, cut: 0 }
  const failures: string[] = []
  await inLanes(corpus, 32, async (c) => {
    const direct = await readDirect(up.port, c)
    const conv = await converse(rt.router.port(), [requestText(`/services/diff/case/${c.index}`, c.method), requestText('/services/good/next')], { timeoutMs: 60_000, settleMs: 20 })
    const problems: string[] = []
    const [first, second, ...more] = conv.parsed.messages.filter((m) => m.status >= 200 || m.status === 0)
    // A message cut by the close ends llhttp's reading with HPE_INVALID_EOF_STATE: that is the "cut" case below.
    const cutAtEof = conv.parsed.error?.code === 'HPE_INVALID_EOF_STATE' && conv.closed && conv.parsed.messages.at(-1)?.complete === false
    if (conv.parsed.error !== undefined && !cutAtEof) problems.push(`llhttp rejected what the client received: ${conv.parsed.error.code}`)
    if (first === undefined) problems.push('no response')
    else if (!first.complete) {
      // A cut response: only where llhttp could not read a whole response from the upstream either.
      if (direct.complete) problems.push(`cut, but Node read ${direct.status} ${JSON.stringify(direct.body)} directly`)
      if (!conv.closed) problems.push('cut, yet the connection stayed open')
      counts.cut++
    } else if (first.status === 502) {
      if (c.method !== 'HEAD' && !/"code":"UPSTREAM_ERROR"/.test(first.body.toString())) problems.push('a 502 without the JSON error')
      if (c.wellFormed && direct.complete) problems.push(`refused a well-framed response Node read as ${direct.status} ${JSON.stringify(direct.body)}`)
      if (process.env.DIFF_VERBOSE !== undefined) t.comment(`refused ${c.summary} (Node read ${direct.complete ? direct.status : 'nothing whole'})`)
      counts.refused++
    } else {
      if (!direct.complete) problems.push(`forwarded ${first.status} ${JSON.stringify(first.body.toString('latin1'))} though Node could not read it directly`)
      if (first.status !== direct.status) problems.push(`status ${first.status}, Node read ${direct.status}`)
      if (first.body.toString('latin1') !== direct.body) problems.push(`body ${JSON.stringify(first.body.toString('latin1'))}, Node read ${JSON.stringify(direct.body)}`)
      if (headerValues(first.rawHeaders, 'transfer-encoding').length > 0 && headerValues(first.rawHeaders, 'content-length').length > 0) problems.push('forwarded both Transfer-Encoding and Content-Length')
      counts.same++
    }
    if (first?.complete === true) {
      if (conv.closed && conv.sent < 2) {
        // The router may close after an error; never after a response it forwarded in full.
        if (first.status !== 502) problems.push('closed the client connection after a complete response')
      } else if (second?.status !== 200 || second.body.toString() !== 'genuine') problems.push(`the next request got ${second?.status ?? 'nothing'} ${JSON.stringify(second?.body.toString().slice(0, 40))}`)
    }
    if (more.length > 0) problems.push(`${more.length} more message(s) on the connection`)
    // The forged second response may only ever be body bytes of a close-delimited response, as Node read it too.
    if (conv.parsed.messages.some((m) => headerValues(m.rawHeaders, 'x-forged').length > 0)) problems.push('the forged response reached the client as a response')
    if (problems.length > 0 && process.env.DIFF_VERBOSE !== undefined) t.comment(JSON.stringify({ direct: { ...direct, body: direct.body.slice(0, 200) }, closed: conv.closed, sent: conv.sent, bytes: conv.bytes.toString('latin1').slice(0, 300), wire: c.wire.toString('latin1').slice(0, 300), error: conv.parsed.error }))
    if (problems.length > 0) failures.push(`${c.summary}: ${problems.map((p) => (p.length > 300 ? `${p.slice(0, 300)}…` : p)).join('; ')}`)
  })
  t.comment(`${corpus.length} cases: ${counts.same} forwarded as Node read them, ${counts.refused} refused (502), ${counts.cut} cut where Node could not read them either`)
  t.same(failures.slice(0, 20), [], `${failures.length} case(s) differ`)
  const wellFormed = corpus.filter((c) => c.wellFormed).length
  t.comment(`${wellFormed} of the cases are well framed`)
  if (ONLY === undefined) t.ok(wellFormed > 40 && counts.same >= wellFormed, 'every well-framed case was forwarded')
  t.same(up.errors, [], 'llhttp accepted every request the router sent upstream')
})
