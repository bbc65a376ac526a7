// Bench upstream (child process): a node:http server answering every request
// with a small body, and a `ws` echo server. Reports its ports over IPC.

import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'
import { exitWithParent, sendToParent } from './protocol.js'

const BODY = Buffer.from('hello from upstream\n')

const http = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length })
  res.end(BODY)
})
http.keepAliveTimeout = 65_000

const wsHttp = createServer((_req, res) => {
  res.writeHead(426, { 'content-length': 0 })
  res.end()
})
const wss = new WebSocketServer({ server: wsHttp, perMessageDeflate: false, clientTracking: false })
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))
  ws.on('error', () => ws.terminate())
})

function listen(server: ReturnType<typeof createServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
      const a = server.address()
      if (a === null || typeof a === 'string') reject(new Error('no address'))
      else resolve(a.port)
    })
  })
}

exitWithParent()
const [httpPort, wsPort] = await Promise.all([listen(http), listen(wsHttp)])
await sendToParent({ type: 'ready', ports: { http: httpPort, ws: wsPort } })
process.on('SIGTERM', () => process.exit(0))
