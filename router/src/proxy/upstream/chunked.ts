// Incremental decoder for a chunked message body (RFC 9112 §7.1): feeds on
// socket chunks split anywhere, hands out the data as zero-copy slices,
// discards chunk extensions and trailers, and rejects malformed framing.

import { protocolError } from './errors.js'
import { BAD_FIELD_CHAR, FIELD_LINE } from './response-head.js'

/** Decoder states. */
const State = { Size: 0, Data: 1, DataCr: 2, DataLf: 3, Trailer: 4, Done: 5 } as const
type State = (typeof State)[keyof typeof State]

const HEX = /^[0-9a-fA-F]{1,13}$/
/** Longest chunk-size line (with extensions) or trailer line accepted. */
const MAX_LINE = 8192
/** Most trailer bytes accepted in all. */
const MAX_TRAILERS = 65536

export class ChunkedDecoder {
  #state: State = State.Size
  #remaining = 0
  #line = ''
  #trailerBytes = 0

  /**
   * Decodes `buf` from `offset`, passing body data to `onData`. Returns the
   * index just past the end of the message once the last chunk and trailers
   * are in, or -1 when more input is needed. Throws a protocol error.
   */
  push(buf: Buffer, offset: number, onData: (chunk: Buffer) => void): number {
    let i = offset
    const len = buf.length
    while (i < len) {
      switch (this.#state) {
        case State.Size:
        case State.Trailer: {
          const nl = buf.indexOf(10, i)
          if (nl === -1) {
            this.#line += buf.toString('latin1', i, len)
            if (this.#line.length > MAX_LINE) throw protocolError('chunk line too long')
            return -1
          }
          const line = this.#line + buf.toString('latin1', i, nl)
          this.#line = ''
          i = nl + 1
          if (line.length > MAX_LINE + 1 || !line.endsWith('\r')) throw protocolError('chunk line not ended by CRLF')
          const text = line.slice(0, -1)
          if (this.#state === State.Size) this.#sizeLine(text)
          else if (text === '') {
            this.#state = State.Done
            return i
          } else {
            this.#trailerBytes += text.length
            if (this.#trailerBytes > MAX_TRAILERS) throw protocolError('trailers too large')
            if (!FIELD_LINE.test(text)) throw protocolError('invalid trailer field')
          }
          break
        }
        case State.Data: {
          const n = Math.min(this.#remaining, len - i)
          onData(i === 0 && n === len ? buf : buf.subarray(i, i + n))
          i += n
          this.#remaining -= n
          if (this.#remaining === 0) this.#state = State.DataCr
          break
        }
        case State.DataCr:
          if (buf[i] !== 13) throw protocolError('chunk data not followed by CRLF')
          i++
          this.#state = State.DataLf
          break
        case State.DataLf:
          if (buf[i] !== 10) throw protocolError('chunk data not followed by CRLF')
          i++
          this.#state = State.Size
          break
        case State.Done:
          return i
      }
    }
    return this.#state === State.Done ? i : -1
  }

  #sizeLine(text: string): void {
    const semi = text.indexOf(';')
    const size = semi === -1 ? text : text.slice(0, semi).replace(/[\t ]+$/, '')
    if (!HEX.test(size)) throw protocolError('invalid chunk size')
    if (semi !== -1 && BAD_FIELD_CHAR.test(text)) throw protocolError('invalid chunk extension')
    const n = parseInt(size, 16)
    if (n === 0) this.#state = State.Trailer
    else {
      this.#remaining = n
      this.#state = State.Data
    }
  }
}
