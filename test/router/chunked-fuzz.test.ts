// Seeded fuzzing of the upstream client's two parsers: the chunked decoder
// must give the same bytes however its input is split, and malformed input —
// chunked bodies or response heads — must only ever end in a protocol error
// (never another exception, never a hang).
import t from 'tap'
import { ChunkedDecoder } from '../../router/src/proxy/upstream/chunked.js'
import { parseResponseHead } from '../../router/src/proxy/upstream/response-head.js'
import { UpstreamClientError } from '../../router/src/proxy/upstream/errors.js'
import { prng } from '../fixtures/prng.js'

const int = (r: () => number, n: number): number => Math.floor(r() * n)

/** A random chunked encoding of `body` (sizes, hex case, zero padding, extensions, trailers). */
function encode(r: () => number, body: Buffer): Buffer {
  const parts: Buffer[] = []
  let i = 0
  while (i < body.length) {
    const n = Math.min(body.length - i, 1 + int(r, r() < 0.3 ? 4 : 5000))
    let size = n.toString(16)
    if (r() < 0.3) size = size.toUpperCase()
    if (r() < 0.2) size = `00${size}`
    const ext = r() < 0.2 ? ';a=b' : r() < 0.1 ? ';x' : ''
    parts.push(Buffer.from(`${size}${ext}\r\n`, 'latin1'), body.subarray(i, i + n), Buffer.from('\r\n'))
    i += n
  }
  parts.push(Buffer.from(r() < 0.3 ? '0\r\nX-Trailer: v\r\n\r\n' : '0\r\n\r\n', 'latin1'))
  return Buffer.concat(parts)
}

interface Outcome {
  data: Buffer
  end: number
  error: string | undefined
}

/** Feeds `wire` to a fresh decoder in random pieces (or whole). */
function decode(wire: Buffer, r: (() => number) | undefined): Outcome {
  const d = new ChunkedDecoder()
  const out: Buffer[] = []
  let pos = 0
  try {
    while (pos < wire.length) {
      const len = r === undefined ? wire.length - pos : 1 + int(r, Math.min(wire.length - pos, r() < 0.5 ? 3 : 4096))
      // Sometimes hand the piece inside a larger buffer, at an offset.
      const pad = r !== undefined && r() < 0.3 ? 7 : 0
      const piece = Buffer.concat([Buffer.alloc(pad, 0x41), wire.subarray(pos, pos + len)])
      const end = d.push(piece, pad, (c) => out.push(Buffer.from(c)))
      if (end !== -1) return { data: Buffer.concat(out), end: pos + end - pad, error: undefined }
      pos += len
    }
    return { data: Buffer.concat(out), end: -1, error: undefined }
  } catch (err) {
    if (err instanceof UpstreamClientError && err.code === 'UPSTREAM_PROTOCOL') return { data: Buffer.concat(out), end: -1, error: 'protocol' }
    return { data: Buffer.alloc(0), end: -1, error: `unexpected: ${String(err)}` }
  }
}

t.test('chunked: round trip under random splits, trailing bytes left alone', async (t) => {
  const r = prng(1)
  let failures = 0
  let first = ''
  for (let i = 0; i < 400; i++) {
    const body = Buffer.from(Array.from({ length: int(r, i % 10 === 0 ? 65_536 : 2000) }, () => int(r, 256)))
    const msg = encode(r, body)
    const wire = Buffer.concat([msg, Buffer.from('HTTP/1.1 200 OK\r\n')])
    const got = decode(wire, r)
    if (got.error !== undefined || got.end !== msg.length || !got.data.equals(body)) {
      failures++
      first ||= `case ${i}: end ${got.end} want ${msg.length}, error ${got.error}, ${got.data.length}/${body.length} bytes`
    }
  }
  t.equal(failures, 0, first)
})

t.test('chunked: mutated input decodes the same whole or split, or fails with a protocol error', async (t) => {
  const r = prng(2)
  let unexpected = 0
  let inconsistent = 0
  let rejected = 0
  let first = ''
  const junk = ['\n', '\r', ' ', ';', '-1', 'ffffffffffffffffff', 'zz', '\x00', '0\r\n\r\n', 'G']
  for (let i = 0; i < 3000; i++) {
    const body = Buffer.from(Array.from({ length: int(r, 300) }, () => 0x61 + int(r, 26)))
    const bytes = [...encode(r, body)]
    for (let m = 1 + int(r, 3); m > 0; m--) {
      const at = int(r, bytes.length)
      const op = int(r, 4)
      if (op === 0) bytes.splice(at, 1)
      else if (op === 1) bytes.splice(at, 0, ...Buffer.from(junk[int(r, junk.length)] ?? 'x', 'latin1'))
      else if (op === 2) bytes[at] = int(r, 256)
      else bytes.length = at
    }
    const wire = Buffer.from(bytes)
    const whole = decode(wire, undefined)
    const split = decode(wire, r)
    if (whole.error?.startsWith('unexpected') === true || split.error?.startsWith('unexpected') === true) {
      unexpected++
      first ||= `case ${i}: ${whole.error ?? ''} ${split.error ?? ''} ${JSON.stringify(wire.toString('latin1'))}`
      continue
    }
    if (whole.error !== undefined) rejected++
    const same = whole.error === split.error && whole.end === split.end && (whole.error !== undefined || whole.data.equals(split.data))
    if (!same) {
      inconsistent++
      first ||= `case ${i}: whole ${whole.error ?? whole.end} vs split ${split.error ?? split.end}: ${JSON.stringify(wire.toString('latin1').slice(0, 200))}`
    }
  }
  t.equal(unexpected, 0, `only protocol errors ${first}`)
  t.equal(inconsistent, 0, `split-invariant ${first}`)
  t.ok(rejected > 100, `mutations were rejected (${rejected} of 3000)`)
})

t.test('response heads: random valid heads parse exactly; corrupted header lines are rejected', async (t) => {
  const r = prng(3)
  const TOKEN = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
  const pick = (s: string): string => s[int(r, s.length)] ?? 'a'
  let wrong = 0
  let missed = 0
  let unexpected = 0
  let first = ''
  for (let i = 0; i < 2000; i++) {
    const pairs: Array<[string, string]> = []
    for (let h = int(r, 12); h > 0; h--) {
      const name = Array.from({ length: 1 + int(r, 12) }, () => pick(TOKEN)).join('')
      const value = Array.from({ length: int(r, 20) }, () => String.fromCharCode(r() < 0.1 ? 0x80 + int(r, 128) : 0x21 + int(r, 94))).join('')
      pairs.push([name, value])
    }
    const lines = pairs.map(([n, v]) => `${n}:${r() < 0.5 ? ' ' : '\t '}${v}${r() < 0.3 ? ' ' : ''}`)
    const status = 100 + int(r, 500)
    const head = [`HTTP/1.1 ${status} Reason`, ...lines].join('\r\n')
    try {
      const parsed = parseResponseHead(head)
      if (parsed.status !== status || JSON.stringify(parsed.rawHeaders) !== JSON.stringify(pairs.flat())) {
        wrong++
        first ||= `valid case ${i}: ${JSON.stringify(head)}`
      }
    } catch (err) {
      // Only Content-Length / Transfer-Encoding semantics may reject a well-formed head; names here are random.
      if (!(err instanceof UpstreamClientError)) unexpected++
      else if (!/content-length/i.test(head)) {
        wrong++
        first ||= `valid case ${i} rejected: ${JSON.stringify(head)}`
      }
    }
    if (lines.length === 0) continue
    // Corrupt one header line in a way the grammar forbids.
    const k = int(r, lines.length)
    const line = lines[k] ?? ''
    const colon = line.indexOf(':')
    const corruptions = [` ${line}`, `${line.slice(0, colon)} ${line.slice(colon)}`, `${line}\x00x`, `${line}\rx`, `${line}\nx`, `${line}\x7f`, line.replace(':', '')]
    const bad = [...lines]
    bad[k] = corruptions[int(r, corruptions.length)] ?? line
    try {
      parseResponseHead([`HTTP/1.1 ${status} Reason`, ...bad].join('\r\n'))
      missed++
      first ||= `corrupted case ${i} accepted: ${JSON.stringify(bad[k])}`
    } catch (err) {
      if (!(err instanceof UpstreamClientError) || err.code !== 'UPSTREAM_PROTOCOL') unexpected++
    }
  }
  t.equal(wrong, 0, first)
  t.equal(missed, 0, first)
  t.equal(unexpected, 0, 'only protocol errors')
})
