// The bytes the router writes to a client for an upstream's answer to a
// WebSocket upgrade: the 101 head as llhttp parsed it, or a non-101 response
// made complete (its body, as llhttp framed it, re-sent with Content-Length and
// Connection: close). Names, values and the reason phrase come from llhttp,
// which has already refused CR, LF and other control characters in them.

import { STATUS_CODES, type IncomingMessage } from 'node:http'
import { downstreamHeaders } from './headers.js'

function statusLine(res: IncomingMessage): string {
  const status = res.statusCode ?? 0
  const reason = res.statusMessage !== undefined && res.statusMessage !== '' ? res.statusMessage : (STATUS_CODES[status] ?? '')
  return `HTTP/1.1 ${status} ${reason}\r\n`
}

/** The upstream's 101 head, every header as received (Upgrade, Connection, Sec-WebSocket-*). */
export function switchingProtocolsHead(res: IncomingMessage, setCookie?: string): Buffer {
  let head = statusLine(res)
  const raw = res.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`
  if (setCookie !== undefined) head += `set-cookie: ${setCookie}\r\n`
  // llhttp hands header bytes over as latin1 strings; latin1 writes the same bytes back.
  return Buffer.from(`${head}\r\n`, 'latin1')
}

/**
 * A complete HTTP/1.1 response for the client from the upstream's non-101
 * answer and its whole (decoded) body: hop-by-hop headers and the upstream's
 * framing dropped, X-Request-Id ours, Content-Length of `body`, Connection: close.
 */
export function completeResponse(res: IncomingMessage, body: Buffer, requestId: string, setCookie?: string): Buffer {
  // headersDistinct: every value of every field, names lower-cased.
  const list = downstreamHeaders(res.headersDistinct, requestId, true)
  if (setCookie !== undefined) list.push('set-cookie', setCookie)
  let head = statusLine(res)
  for (let i = 0; i + 1 < list.length; i += 2) head += `${list[i]}: ${list[i + 1]}\r\n`
  // 204 and 304 carry no body and no Content-Length of one.
  const status = res.statusCode ?? 0
  if (status !== 204 && status !== 304) head += `content-length: ${body.length}\r\n`
  head += 'connection: close\r\n\r\n'
  return Buffer.concat([Buffer.from(head, 'latin1'), body])
}
