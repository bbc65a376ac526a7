// Regression (issue 13, item 4): request-target hygiene, raw sockets on both
// sides. Each rule answers a JSON 4xx — never a 5xx for the client's mistake —
// sends nothing upstream when it refuses, and leaves the client's keep-alive
// connection usable for its next request. Before: a fragment was a 502 counted
// as an upstream error (or forwarded), dot segments reached the upstream
// unresolved (/services/x/../../media/y → /../../media/y), two Host headers
// were forwarded as the first, CONNECT got no response at all, and a request
// without Host got Node's bare, non-JSON 400.
import t from 'tap'
import { startRouter, ADMIN_TOKEN } from '../fixtures/router.js'
import { staticDiscoveryFile } from '../fixtures/static-file.js'
import { startRawUpstream, okResponse } from '../fixtures/raw-upstream.js'
import { converse } from '../fixtures/raw-client.js'
import { headerValues } from '../fixtures/llhttp.js'
import { request } from 'undici'

const NEXT = 'GET /services/x/next HTTP/1.1\r\nHost: t\r\n\r\n'

const REFUSED: ReadonlyArray<readonly [name: string, text: string, status: number, code: string]> = [
  ['a fragment', 'GET /services/x#frag HTTP/1.1\r\nHost: t\r\n\r\n', 400, 'INVALID_REQUEST_TARGET'],
  ['a fragment after the path', 'GET /services/x/a#frag HTTP/1.1\r\nHost: t\r\n\r\n', 400, 'INVALID_REQUEST_TARGET'],
  ['dot segments climbing out of the deployment', 'GET /services/x/../../media/y HTTP/1.1\r\nHost: t\r\n\r\n', 400, 'INVALID_REQUEST_TARGET'],
  ['encoded dot segments climbing out', 'GET /services/x/%2e%2E/%2E%2e/media/y HTTP/1.1\r\nHost: t\r\n\r\n', 400, 'INVALID_REQUEST_TARGET'],
  ['two Host headers', 'GET /services/x/a HTTP/1.1\r\nHost: t\r\nHost: evil\r\n\r\n', 400, 'INVALID_HOST'],
  ['no Host on HTTP/1.1', 'GET /services/x/a HTTP/1.1\r\nAccept: */*\r\n\r\n', 400, 'INVALID_HOST'],
  ['TRACE', 'TRACE /services/x/a HTTP/1.1\r\nHost: t\r\n\r\n', 405, 'METHOD_NOT_ALLOWED'],
]

t.test('request-target rules', async (t) => {
  const up = await startRawUpstream(t, (req, s) => s.write(okResponse(`saw ${req.url}`)))
  const file = staticDiscoveryFile({ x: [{ id: 'a', port: up.port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file })
  t.teardown(() => rt.close())
  const port = rt.router.port()

  for (const [name, text, status, code] of REFUSED) {
    await t.test(name, async (t) => {
      const before = up.requests.length
      const method = text.split(' ')[0] ?? 'GET'
      const conv = await converse(port, [{ method, text }, { method: 'GET', text: NEXT }])
      const [first, second] = conv.parsed.messages
      t.equal(first?.status, status)
      t.match(JSON.parse(first?.body.toString() ?? '{}'), { code, error: String })
      if (status === 405) t.match(headerValues(first?.rawHeaders ?? [], 'allow')[0], /GET/, 'Allow lists the methods')
      t.equal(second?.body.toString(), 'saw /next', 'the connection still serves the next request')
      t.same(
        up.requests.slice(before).map((r) => r.url),
        ['/next'],
        'nothing of the refused request reached the upstream',
      )
    })
  }

  await t.test('CONNECT: 405 JSON with Allow on the raw socket', async (t) => {
    const conv = await converse(port, [{ method: 'CONNECT', text: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n' }])
    const [first] = conv.parsed.messages
    t.equal(first?.status, 405)
    t.match(JSON.parse(first?.body.toString() ?? '{}'), { code: 'METHOD_NOT_ALLOWED' })
    t.match(headerValues(first?.rawHeaders ?? [], 'allow')[0], /GET/)
  })

  await t.test('dot segments inside the deployment are resolved before forwarding', async (t) => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['/services/x/a/../b', '/b'],
      ['/services/x/a/./b/%2e%2e/c?q=../x', '/a/c?q=../x'],
      ['/services/x/a/..', '/'],
    ]
    for (const [path, upstreamPath] of cases) {
      const conv = await converse(port, [{ method: 'GET', text: `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n` }])
      t.equal(conv.parsed.messages[0]?.body.toString(), `saw ${upstreamPath}`, `${path} → ${upstreamPath}`)
    }
  })

  const metrics = await (await request(`${rt.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body.text()
  t.notMatch(metrics, /router_upstream_errors_total\{/, 'no client mistake counted as an upstream error')
  t.notMatch(metrics, /router_http_requests_total\{[^}]*status_class="5xx"\}/, 'no 5xx')
})

t.test('with STRIP_PREFIX=false the resolved path keeps its prefix', async (t) => {
  const up = await startRawUpstream(t, (req, s) => s.write(okResponse(`saw ${req.url}`)))
  const file = staticDiscoveryFile({ x: [{ id: 'a', port: up.port }] })
  const rt = await startRouter({ DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: file, STRIP_PREFIX: 'false' })
  t.teardown(() => rt.close())
  const conv = await converse(rt.router.port(), [
    { method: 'GET', text: 'GET /services/x/a/../b HTTP/1.1\r\nHost: t\r\n\r\n' },
    { method: 'GET', text: 'GET /services/x/.. HTTP/1.1\r\nHost: t\r\n\r\n' },
  ])
  t.equal(conv.parsed.messages[0]?.body.toString(), 'saw /services/x/b')
  t.equal(conv.parsed.messages[1]?.status, 400, 'climbing out of the captured prefix is refused here too')
})
