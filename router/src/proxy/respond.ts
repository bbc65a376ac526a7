// Writing the router's own responses: JSON error bodies on an HTTP response,
// or a complete HTTP/1.1 response on a raw socket (refused upgrades).

import type { ServerResponse } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { RouterError } from '../errors.js'

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

/** A JSON error with X-Request-Id and, when known, `traceresponse` (the trace context the router sent or would have sent upstream). */
export function sendError(res: ServerResponse, err: RouterError, requestId?: string, traceresponse?: string): void {
  const headers: Record<string, string> = { ...err.headers }
  if (requestId !== undefined) headers['x-request-id'] = requestId
  if (traceresponse !== undefined) headers.traceresponse = traceresponse
  sendJson(res, err.statusCode, err.toBody(), headers)
}

/** Write `HTTP/1.1 <status>` with a JSON body on a raw socket, then end it. */
export function writeRawError(socket: Duplex, status: number, body: { error: string; code: string }, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nconnection: close\r\ncontent-type: application/json\r\ncache-control: no-store\r\ncontent-length: ${Buffer.byteLength(text)}\r\n`
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`
  writeRaw(socket, `${head}\r\n${text}`)
}

/** Write a complete response on a raw socket and end it; the socket is destroyed within 5 s even if the peer never reads. */
export function writeRaw(socket: Duplex, response: string | Buffer): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  socket.end(response)
  const t = setTimeout(() => socket.destroy(), 5000)
  t.unref()
  socket.once('close', () => clearTimeout(t))
}
