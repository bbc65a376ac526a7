import t from 'tap'
import { downstreamHeaders, requestIdFrom, upstreamRequestHeaders } from '../../router/src/proxy/headers.js'

const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', parentId: '00f067aa0ba902b7', tracestate: 'congo=t61rcWkgMzE' }
const ctx = { clientIp: '10.0.0.9', proto: 'http' as const, requestId: 'rid-1', prefix: '/services/d', upgrade: false, trace }

t.test('hop-by-hop headers are stripped going up', async (t) => {
  const out = upstreamRequestHeaders(
    { host: 'h', connection: 'keep-alive, x-secret', 'keep-alive': 'timeout=5', te: 'trailers', 'transfer-encoding': 'chunked', upgrade: 'websocket', 'proxy-authorization': 'x', 'x-secret': 'y', 'x-app': 'z', trailer: 'a' },
    ctx,
  )
  for (const h of ['connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'x-secret', 'trailer']) t.notOk(h in out, h)
  t.equal(out['x-app'], 'z')
  t.equal(out.host, 'h')
})

t.test('forwarded headers', async (t) => {
  const out = upstreamRequestHeaders({ host: 'api.example.com', 'x-forwarded-for': '1.2.3.4', 'x-forwarded-prefix': '/spoof' }, ctx)
  t.equal(out['x-forwarded-for'], '1.2.3.4, 10.0.0.9')
  t.equal(out['x-forwarded-proto'], 'http')
  t.equal(out['x-forwarded-host'], 'api.example.com')
  t.equal(out['x-forwarded-prefix'], '/services/d')
  t.equal(out['x-request-id'], 'rid-1')
  const https = upstreamRequestHeaders({ 'x-forwarded-proto': 'https' }, ctx)
  t.equal(https['x-forwarded-proto'], 'https', 'ALB scheme kept')
  const ws = upstreamRequestHeaders({ 'x-forwarded-proto': 'wss', upgrade: 'websocket', connection: 'Upgrade' }, { ...ctx, upgrade: true })
  t.equal(ws['x-forwarded-proto'], 'http', 'never ws/wss')
  t.equal(ws.upgrade, 'websocket')
  t.equal(ws.connection, 'Upgrade')
})

t.test('response hop-by-hop stripped, request id echoed', async (t) => {
  const headers = { connection: 'close, X-Internal', 'x-internal': '1', 'keep-alive': 'timeout=1', 'transfer-encoding': 'chunked', 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-request-id': 'upstream-id' }
  // Repeated fields stay separate lines; the upstream's own X-Request-Id is replaced by ours.
  t.same(downstreamHeaders(headers, 'rid', false), ['content-type', 'text/plain', 'set-cookie', 'a=1', 'set-cookie', 'b=2', 'x-request-id', 'rid'])
})

t.test('response Content-Length dropped when it did not frame the body', async (t) => {
  const headers = { 'content-length': '5', connection: 'keep-alive', etag: '"x"' }
  t.same(downstreamHeaders(headers, 'r', true), ['etag', '"x"', 'x-request-id', 'r'])
  t.same(downstreamHeaders(headers, 'r', false), ['content-length', '5', 'etag', '"x"', 'x-request-id', 'r'], 'kept for length-framed bodies')
})

t.test('Expect stays between the client and the router', async (t) => {
  const out = upstreamRequestHeaders({ host: 'h', expect: '100-continue', 'content-length': '5' }, ctx)
  t.notOk('expect' in out)
  t.equal(out['content-length'], '5')
})

t.test('request ids', async (t) => {
  t.equal(requestIdFrom({ 'x-request-id': 'abc-123' }), 'abc-123')
  const generated = requestIdFrom({ 'x-request-id': 'bad id\twith spaces' })
  t.match(generated, /^[0-9a-f-]{36}$/)
  t.not(requestIdFrom({}), requestIdFrom({}))
})

t.test('trace context: the router\'s traceparent and the kept tracestate replace the client\'s; X-Amzn-Trace-Id passes', async (t) => {
  const amzn = 'Root=1-67891233-abcdef012345678912345678'
  const out = upstreamRequestHeaders({ host: 'h', traceparent: '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01', tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7', 'x-amzn-trace-id': amzn }, ctx)
  t.equal(out.traceparent, trace.traceparent)
  t.equal(out.tracestate, 'congo=t61rcWkgMzE')
  t.equal(out['x-amzn-trace-id'], amzn)
  const none = upstreamRequestHeaders({ host: 'h', tracestate: 'a=1' }, { ...ctx, trace: { ...trace, tracestate: undefined } })
  t.notOk('tracestate' in none, 'a tracestate the trace context dropped is not forwarded')
})
