// Minimal undici proxy (child process): a keep-alive undici Pool per upstream;
// HTTP requests are forwarded with pool.request(), WebSocket upgrades with
// pool.upgrade() and piped both ways. Same routes as the other proxies.

import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { Duplex } from 'node:stream'
import { Pool } from 'undici'
import { exitWithParent, requireIntEnv, sendToParent } from '../protocol.js'

const httpPool = new Pool(`http://127.0.0.1:${requireIntEnv('UPSTREAM_HTTP_PORT')}`, { connections: 256, pipelining: 1 })
const wsPool = new Pool(`http://127.0.0.1:${requireIntEnv('UPSTREAM_WS_PORT')}`)

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host'])

function forwardHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v
  return out
}

const server = createServer((req, res) => {
  const url = req.url ?? '/'
  if (url === '/health') {
    res.end('ok')
    return
  }
  if (!url.startsWith('/services/bench/')) {
    res.writeHead(404)
    res.end()
    return
  }
  const method = req.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  httpPool
    .request({ path: url.slice('/services/bench'.length), method, headers: forwardHeaders(req.headers), body: hasBody ? req : null })
    .then(
      (up) => {
        const headers: Record<string, string | string[]> = {}
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v
        res.writeHead(up.statusCode, headers)
        up.body.pipe(res)
        up.body.on('error', () => res.destroy())
      },
      () => {
        if (!res.headersSent) res.writeHead(502)
        res.end()
      },
    )
})
server.keepAliveTimeout = 65_000

server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
  const url = req.url ?? '/'
  if (!url.startsWith('/media/u1/')) {
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
    return
  }
  socket.on('error', () => socket.destroy())
  wsPool
    .upgrade({ path: url.slice('/media/u1'.length), method: 'GET', protocol: 'websocket', headers: forwardHeaders(req.headers) })
    .then(
      ({ headers, socket: up }) => {
        let head101 = 'HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: websocket\r\n'
        for (const [k, v] of Object.entries(headers)) {
          if (v === undefined || k === 'connection' || k === 'upgrade') continue
          for (const item of Array.isArray(v) ? v : [v]) head101 += `${k}: ${item}\r\n`
        }
        socket.write(head101 + '\r\n')
        if (head.length > 0) up.write(head)
        up.on('error', () => socket.destroy())
        socket.on('close', () => up.destroy())
        up.on('close', () => socket.destroy())
        up.pipe(socket)
        socket.pipe(up)
      },
      () => socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n'),
    )
})

exitWithParent()
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const a = server.address()
  if (a !== null && typeof a !== 'string') void sendToParent({ type: 'ready', ports: { port: a.port } })
})
process.on('SIGTERM', () => process.exit(0))
