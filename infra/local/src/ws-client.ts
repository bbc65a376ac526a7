// A tiny interactive WebSocket client for the local stack: sends each stdin
// line as a text message and prints what arrives. Usage: ws-client.js <url>

import WebSocket from 'ws'
import { createInterface } from 'node:readline'

const url = process.argv[2]
if (url === undefined || !/^wss?:\/\//.test(url)) {
  process.stderr.write('usage: node dist/infra/local/src/ws-client.js ws://127.0.0.1:8080/media/<nodeId>/ws/<sessionId>\n')
  process.exit(2)
}
const ws = new WebSocket(url)
ws.on('open', () => {
  process.stdout.write(`connected to ${url}; type a line to send it, Ctrl-D to close\n`)
  const rl = createInterface({ input: process.stdin })
  rl.on('line', (line) => ws.send(line))
  rl.on('close', () => ws.close(1000, 'done'))
})
ws.on('message', (data: Buffer, isBinary: boolean) => process.stdout.write(`< ${isBinary ? `[${data.length} bytes]` : data.toString()}\n`))
ws.on('unexpected-response', (_req, res) => {
  let body = ''
  res.on('data', (c: Buffer) => (body += c.toString()))
  res.on('end', () => {
    process.stderr.write(`refused: HTTP ${res.statusCode} ${body}\n`)
    process.exit(1)
  })
})
ws.on('close', (code: number, reason: Buffer) => {
  process.stdout.write(`closed ${code} ${reason.toString()}\n`)
  process.exit(0)
})
ws.on('error', (err) => {
  process.stderr.write(`error: ${err.message}\n`)
  process.exit(1)
})
