// Node baseline proxy (child process): the minimal `http-proxy` setup — keep-
// alive agent to the upstream, /services/bench/* → HTTP upstream, /media/u1/*
// upgrades → WebSocket upstream, prefix stripped, GET /health → 200.

import { createServer, Agent } from 'node:http'
import httpProxy from 'http-proxy'
import { exitWithParent, requireIntEnv, sendToParent } from '../protocol.js'

const httpTarget = `http://127.0.0.1:${requireIntEnv('UPSTREAM_HTTP_PORT')}`
const wsTarget = `http://127.0.0.1:${requireIntEnv('UPSTREAM_WS_PORT')}`
const agent = new Agent({ keepAlive: true, maxSockets: 256 })
const proxy = httpProxy.createProxyServer({ agent, xfwd: false })
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res) {
    if (!res.headersSent) res.writeHead(502)
    res.end()
  } else {
    res.destroy()
  }
})

const server = createServer((req, res) => {
  const url = req.url ?? '/'
  if (url === '/health') {
    res.end('ok')
  } else if (url.startsWith('/services/bench/')) {
    req.url = url.slice('/services/bench'.length)
    proxy.web(req, res, { target: httpTarget })
  } else {
    res.writeHead(404)
    res.end()
  }
})
server.keepAliveTimeout = 65_000
server.on('upgrade', (req, socket, head) => {
  const url = req.url ?? '/'
  if (!url.startsWith('/media/u1/')) {
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
    return
  }
  req.url = url.slice('/media/u1'.length)
  proxy.ws(req, socket, head, { target: wsTarget })
})

exitWithParent()
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const a = server.address()
  if (a !== null && typeof a !== 'string') void sendToParent({ type: 'ready', ports: { port: a.port } })
})
process.on('SIGTERM', () => process.exit(0))
