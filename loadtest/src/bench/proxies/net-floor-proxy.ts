// The Node floor (child process): what proxying costs on `node:net` alone,
// with no HTTP server, no HTTP client library, no routing, logs or metrics.
// Bench-only and deliberately incomplete — keep-alive requests without
// bodies, Content-Length responses, no validation — so it is a lower
// bound for any Node proxy, not something to deploy. HTTP: the request head
// is parsed just enough to rewrite the path and drop hop-by-hop headers, then
// sent on a pooled upstream socket; the response is relayed as one write.
// WebSockets: the head is rewritten and the two sockets are piped.

import { connect, createServer, type Socket } from 'node:net'
import { exitWithParent, requireIntEnv, sendToParent } from '../protocol.js'

const HTTP_PORT = requireIntEnv('UPSTREAM_HTTP_PORT')
const WS_PORT = requireIntEnv('UPSTREAM_WS_PORT')
const CRLF2 = Buffer.from('\r\n\r\n')

interface ClientState {
  buf: Buffer | null
  /** A request is in flight; further bytes wait in `pending`. */
  busy: boolean
  pending: Buffer | null
}
interface UpstreamState {
  client: Socket | null
  clientState: ClientState | null
  /** Body bytes still expected, or -1 while reading the head. */
  remaining: number
  buf: Buffer | null
}

const clients = new WeakMap<Socket, ClientState>()
const upstreams = new WeakMap<Socket, UpstreamState>()
const idle: Socket[] = []

function upstreamFor(send: (s: Socket) => void): void {
  const s = idle.pop()
  if (s !== undefined) {
    send(s)
    return
  }
  const u = connect({ port: HTTP_PORT, host: '127.0.0.1', noDelay: true })
  upstreams.set(u, { client: null, clientState: null, remaining: -1, buf: null })
  u.on('connect', () => send(u))
  u.on('data', onUpstreamData)
  u.on('error', () => u.destroy())
}

function onUpstreamData(this: Socket, chunk: Buffer): void {
  const st = upstreams.get(this)
  const client = st?.client
  if (st === undefined || client === null || client === undefined) {
    this.destroy()
    return
  }
  let buf = st.buf !== null ? Buffer.concat([st.buf, chunk]) : chunk
  st.buf = null
  if (st.remaining === -1) {
    const end = buf.indexOf(CRLF2)
    if (end === -1) {
      st.buf = buf
      return
    }
    const lines = buf.toString('latin1', 0, end).split('\r\n')
    let head = `${lines[0] ?? ''}\r\n`
    let length = 0
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] ?? ''
      const name = line.slice(0, line.indexOf(':')).toLowerCase()
      if (name === 'connection' || name === 'keep-alive') continue
      if (name === 'content-length') length = Number(line.slice(name.length + 1).trim())
      head += `${line}\r\n`
    }
    head += '\r\n'
    const body = buf.subarray(end + 4)
    const out = Buffer.allocUnsafe(head.length + body.length)
    out.write(head, 0, 'latin1')
    body.copy(out, head.length)
    client.write(out)
    st.remaining = length - body.length
    buf = Buffer.alloc(0)
  } else {
    client.write(buf)
    st.remaining -= buf.length
  }
  if (st.remaining <= 0) {
    const cs = st.clientState
    st.client = null
    st.clientState = null
    st.remaining = -1
    idle.push(this)
    if (cs !== null) {
      cs.busy = false
      const next = cs.pending
      cs.pending = null
      if (next !== null) onClientData.call(client, next)
    }
  }
}

function onClientData(this: Socket, chunk: Buffer): void {
  const cs = clients.get(this)
  if (cs === undefined) return
  if (cs.busy) {
    cs.pending = cs.pending !== null ? Buffer.concat([cs.pending, chunk]) : chunk
    return
  }
  const buf = cs.buf !== null ? Buffer.concat([cs.buf, chunk]) : chunk
  cs.buf = null
  const end = buf.indexOf(CRLF2)
  if (end === -1) {
    cs.buf = buf
    return
  }
  const lines = buf.toString('latin1', 0, end).split('\r\n')
  const [method = 'GET', target = '/'] = (lines[0] ?? '').split(' ')
  if (target === '/health') {
    this.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
    return
  }
  if (target.startsWith('/media/u1/')) {
    tunnel(this, method, target.slice('/media/u1'.length), lines, buf.subarray(end + 4))
    return
  }
  if (!target.startsWith('/services/bench/')) {
    this.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
    return
  }
  let head = `${method} ${target.slice('/services/bench'.length)} HTTP/1.1\r\n`
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const name = line.slice(0, line.indexOf(':')).toLowerCase()
    if (name !== 'connection' && name !== 'keep-alive' && name !== 'host') head += `${line}\r\n`
  }
  head += `host: 127.0.0.1\r\nx-forwarded-for: ${this.remoteAddress ?? ''}\r\n\r\n`
  const rest = buf.subarray(end + 4)
  cs.busy = true
  if (rest.length > 0) cs.pending = rest
  upstreamFor((u) => {
    const st = upstreams.get(u)
    if (st === undefined) return
    st.client = this
    st.clientState = cs
    u.write(head, 'latin1')
  })
}

function tunnel(client: Socket, method: string, path: string, lines: string[], rest: Buffer): void {
  client.removeListener('data', onClientData)
  let head = `${method} ${path} HTTP/1.1\r\n`
  for (let i = 1; i < lines.length; i++) head += `${lines[i] ?? ''}\r\n`
  const up = connect({ port: WS_PORT, host: '127.0.0.1', noDelay: true })
  up.write(`${head}\r\n`, 'latin1')
  if (rest.length > 0) up.write(rest)
  up.pipe(client)
  client.pipe(up)
  up.on('error', () => client.destroy())
  client.on('error', () => up.destroy())
  up.on('close', () => client.destroy())
  client.on('close', () => up.destroy())
}

const server = createServer({ noDelay: true }, (s) => {
  clients.set(s, { buf: null, busy: false, pending: null })
  s.on('data', onClientData)
  s.on('error', () => s.destroy())
})

exitWithParent()
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const a = server.address()
  if (a !== null && typeof a !== 'string') void sendToParent({ type: 'ready', ports: { port: a.port } })
})
process.on('SIGTERM', () => process.exit(0))
