// Which upstream response heads the router forwards, and with which length
// (router/src/proxy/upstream/framing.ts): table-driven, RFC 9112 §6.1/§6.3
// and nginx's "upstream sent unknown Transfer-Encoding".
import t from 'tap'
import { responseFraming, type ResponseHeaders } from '../../router/src/proxy/upstream/framing.js'

const CASES: ReadonlyArray<readonly [name: string, status: number, method: string, headers: ResponseHeaders, expected: ReturnType<typeof responseFraming> | 'refused']> = [
  ['Content-Length body', 200, 'GET', { 'content-length': '5' }, { ok: true, forwardLength: true, bodiless: false }],
  ['chunked', 200, 'GET', { 'transfer-encoding': 'chunked' }, { ok: true, forwardLength: false, bodiless: false }],
  ['chunked, any case, padded', 200, 'GET', { 'transfer-encoding': ' Chunked ' }, { ok: true, forwardLength: false, bodiless: false }],
  ['close-delimited', 200, 'GET', {}, { ok: true, forwardLength: false, bodiless: false }],
  ['HEAD keeps the length it describes', 200, 'HEAD', { 'content-length': '1000' }, { ok: true, forwardLength: true, bodiless: true }],
  ['HEAD of a chunked resource', 200, 'HEAD', { 'transfer-encoding': 'chunked' }, { ok: true, forwardLength: false, bodiless: true }],
  ['304 keeps its length', 304, 'GET', { 'content-length': '10' }, { ok: true, forwardLength: true, bodiless: true }],
  ['204 never has a length', 204, 'GET', { 'content-length': '0' }, { ok: true, forwardLength: false, bodiless: true }],
  ['gzip', 200, 'GET', { 'transfer-encoding': 'gzip' }, 'refused'],
  ['identity', 200, 'GET', { 'transfer-encoding': 'identity' }, 'refused'],
  ['gzip, chunked (chunked final but not plain)', 200, 'GET', { 'transfer-encoding': 'gzip, chunked' }, 'refused'],
  ['chunked, gzip (chunked not final)', 200, 'GET', { 'transfer-encoding': 'chunked, gzip' }, 'refused'],
  ['chunked, chunked', 200, 'GET', { 'transfer-encoding': 'chunked, chunked' }, 'refused'],
  ['two Transfer-Encoding fields', 200, 'GET', { 'transfer-encoding': ['chunked', 'chunked'] }, 'refused'],
  ['empty Transfer-Encoding', 200, 'GET', { 'transfer-encoding': '' }, 'refused'],
  ['chunked with Content-Length', 200, 'GET', { 'transfer-encoding': 'chunked', 'content-length': '5' }, 'refused'],
  ['gzip on a HEAD', 200, 'HEAD', { 'transfer-encoding': 'gzip' }, 'refused'],
  ['two Content-Length fields', 200, 'GET', { 'content-length': ['5', '5'] }, 'refused'],
]

for (const [name, status, method, headers, expected] of CASES) {
  t.test(name, async (t) => {
    const got = responseFraming(status, method, headers)
    if (expected === 'refused') {
      t.equal(got.ok, false)
      if (!got.ok) t.match(got.problem, /Transfer-Encoding|Content-Length/)
    } else t.same(got, expected)
  })
}
