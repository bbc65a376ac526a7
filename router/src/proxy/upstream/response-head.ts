// Parses an HTTP/1.1 response head (status line and header fields, without
// the final CRLF CRLF) strictly: anything a conforming server would not send
// — obs-fold, whitespace before the colon, control characters, conflicting
// Content-Length — is a protocol error, so a confused upstream cannot make the
// router mis-frame the next response on a kept-alive connection.

import { protocolError } from './errors.js'

/** How the body of a response is delimited (RFC 9112 §6.3). */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close'

export interface ResponseHead {
  readonly status: number
  /** Flat [name, value, …] in received order and case. */
  readonly rawHeaders: string[]
  /** Content-Length, or -1 when absent. */
  readonly contentLength: number
  /** Transfer-Encoding present; `chunked` says whether chunked is its final coding. */
  readonly transferEncoding: boolean
  readonly chunked: boolean
  /** The upstream will not keep the connection open (HTTP/1.0 or Connection: close). */
  readonly closes: boolean
  /** Keep-Alive: timeout=N in milliseconds, or -1. */
  readonly keepAliveMs: number
}

/** RFC 9110 field grammar: token characters for names, field-value characters (HTAB, SP, VCHAR, obs-text). */
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]"
const FIELD_CHAR = '[\\t\\x20-\\x7e\\x80-\\xff]'
/** A character no field value (or status line, or chunk extension) may hold. */
export const BAD_FIELD_CHAR = /[^\t\x20-\x7e\x80-\xff]/
/** One field line (a header or trailer), without its CRLF. */
export const FIELD_LINE = new RegExp(`^${TOKEN}+:${FIELD_CHAR}*$`)
/**
 * Every header line after the status line, checked in one pass: CRLF, a token
 * name, a colon right after it, then only field-value characters. Rejects
 * obs-fold, whitespace before the colon, and bare CR, LF or NUL.
 */
const HEADER_LINES = new RegExp(`(?:\\r\\n${TOKEN}+:${FIELD_CHAR}*)*$`, 'y')
const DIGITS = /^\d{1,15}$/

/** s.slice(from, to) without optional whitespace (SP, HTAB) at either end: one slice, no copy first. */
function owsTrimmedSlice(s: string, from: number, to: number): string {
  let a = from
  let b = to
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--
  return s.slice(a, b)
}

/** True when `name` is `lowerName` in any letter case (compared in place: no lower-cased copy). */
function isNamed(name: string, lowerName: string): boolean {
  if (name.length !== lowerName.length) return false
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i)
    if (c >= 0x41 && c <= 0x5a) c |= 0x20
    if (c !== lowerName.charCodeAt(i)) return false
  }
  return true
}

/** Keep-Alive timeout in ms, or -1; the last value is remembered (an upstream sends the same one each time). */
let lastKeepAlive = ''
let lastKeepAliveMs = -1
function keepAliveTimeoutMs(value: string): number {
  if (value !== lastKeepAlive) {
    const m = /(?:^|[,;\s])timeout\s*=\s*(\d{1,9})/i.exec(value)
    lastKeepAliveMs = m?.[1] !== undefined ? Number(m[1]) * 1000 : -1
    lastKeepAlive = value
  }
  return lastKeepAliveMs
}

/** True when a comma-separated header value lists `token` (case-insensitive). */
function listHas(value: string, token: string): boolean {
  const v = value.toLowerCase()
  if (v === token) return true
  if (!v.includes(',')) return v.trim() === token
  for (const part of v.split(',')) if (part.trim() === token) return true
  return false
}

/** Parses `head` (latin1, lines joined by CRLF, no trailing blank line). Throws a protocol error. */
export function parseResponseHead(head: string): ResponseHead {
  let eol = head.indexOf('\r\n')
  if (eol === -1) eol = head.length
  const statusLine = head.slice(0, eol)
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (statusLine.length < 12 || !statusLine.startsWith('HTTP/1.') || statusLine[8] !== ' ') throw protocolError('bad status line')
  const minor = statusLine.charCodeAt(7)
  if (minor !== 0x30 && minor !== 0x31) throw protocolError('unsupported HTTP version')
  const code = statusLine.slice(9, 12)
  if (!/^\d{3}$/.test(code) || (statusLine.length > 12 && statusLine[12] !== ' ')) throw protocolError('bad status code')
  if (BAD_FIELD_CHAR.test(statusLine)) throw protocolError('control character in the status line')
  const status = Number(code)
  if (status < 100) throw protocolError('bad status code')

  HEADER_LINES.lastIndex = eol
  if (!HEADER_LINES.test(head)) throw protocolError('malformed header field')

  const rawHeaders: string[] = []
  let contentLength = -1
  let transferEncoding = false
  let chunked = false
  let closes = minor === 0x30
  let keepAliveMs = -1
  let start = eol + 2
  while (start < head.length) {
    let end = head.indexOf('\r\n', start)
    if (end === -1) end = head.length
    // HEADER_LINES proved every line is `token:value`: the colon is inside this line.
    const colon = head.indexOf(':', start)
    const name = head.slice(start, colon)
    const value = owsTrimmedSlice(head, colon + 1, end)
    start = end + 2
    rawHeaders.push(name, value)
    switch (name.length) {
      case 14:
        if (isNamed(name, 'content-length')) {
          if (!DIGITS.test(value)) throw protocolError('invalid Content-Length')
          const n = Number(value)
          if (contentLength !== -1 && contentLength !== n) throw protocolError('conflicting Content-Length')
          contentLength = n
        }
        break
      case 17:
        if (isNamed(name, 'transfer-encoding')) {
          transferEncoding = true
          // The final coding decides; "gzip, chunked" is chunked, "chunked, gzip" is not.
          const codings = value.toLowerCase().split(',')
          chunked = codings[codings.length - 1]?.trim() === 'chunked'
        }
        break
      case 10:
        if (isNamed(name, 'connection')) {
          if (listHas(value, 'close')) closes = true
          else if (minor === 0x30 && listHas(value, 'keep-alive')) closes = false
        } else if (isNamed(name, 'keep-alive')) {
          const ms = keepAliveTimeoutMs(value)
          if (ms >= 0) keepAliveMs = ms
        }
        break
    }
  }
  return { status, rawHeaders, contentLength, transferEncoding, chunked, closes, keepAliveMs }
}

/** How the body that follows `head` is delimited, given the request method. */
export function bodyFraming(head: ResponseHead, method: string): BodyFraming {
  const s = head.status
  if (method === 'HEAD' || s === 204 || s === 304 || (s >= 100 && s < 200)) return 'none'
  if (head.transferEncoding) return head.chunked ? 'chunked' : 'close'
  if (head.contentLength >= 0) return head.contentLength === 0 ? 'none' : 'length'
  return 'close'
}
