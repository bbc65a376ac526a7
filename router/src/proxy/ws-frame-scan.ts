// What the access log knows of one direction of a WebSocket tunnel: the bytes
// relayed, and the code of the first close frame sent that way. The tunnel does
// not parse messages; this follows frame boundaries only (RFC 6455 §5.2: a
// 2–14 byte head, then a payload it skips), reading the two code bytes of a
// close frame (unmasked with the frame's key when masked). A frame head split
// across TCP reads is kept (≤ 16 bytes) until the next read. After the close
// frame it only counts. State: a few numbers per direction, no allocation per
// read unless a head is split.

/** The longest frame head (2 + 8 length + 4 mask) plus the two code bytes of a close frame. */
const MAX_HEAD = 16
/** Close code reported for a close frame without a code (RFC 6455 §7.1.5). */
export const NO_STATUS_CODE = 1005

// Results of readHead (module scratch: one tunnel's read at a time, synchronous).
let headLength = 0
let payloadLength = 0
let closeCode = 0

/** Read a frame head at b[at..end); false when incomplete. Sets headLength, payloadLength, closeCode (0: not a close frame). */
function readHead(b: Buffer, at: number, end: number): boolean {
  if (end - at < 2) return false
  const b0 = b[at] ?? 0
  const b1 = b[at + 1] ?? 0
  const masked = (b1 & 0x80) !== 0
  let len = b1 & 0x7f
  let h = 2
  if (len === 126) {
    if (end - at < 4) return false
    len = b.readUInt16BE(at + 2)
    h = 4
  } else if (len === 127) {
    if (end - at < 10) return false
    len = b.readUInt32BE(at + 2) * 2 ** 32 + b.readUInt32BE(at + 6)
    h = 10
  }
  const maskAt = at + h
  if (masked) h += 4
  let code = 0
  if ((b0 & 0x0f) === 0x8) {
    if (len >= 2) {
      if (end - at < h + 2) return false
      let c0 = b[at + h] ?? 0
      let c1 = b[at + h + 1] ?? 0
      if (masked) {
        c0 ^= b[maskAt] ?? 0
        c1 ^= b[maskAt + 1] ?? 0
      }
      code = (c0 << 8) | c1
    } else {
      code = NO_STATUS_CODE
    }
  }
  headLength = h
  payloadLength = len
  closeCode = code
  return true
}

export class FrameScan {
  /** Bytes relayed this way. */
  bytes = 0
  /** Code of the first close frame sent this way; 0 = none seen. */
  closeCode = 0
  /** Payload bytes of the current frame still to come. */
  #skip = 0
  /** The start of a frame head that a read cut short. */
  #partial: Buffer | null = null

  /** Account for one chunk relayed this way. */
  push(chunk: Buffer): void {
    const n = chunk.length
    this.bytes += n
    if (this.closeCode !== 0) return
    if (this.#skip >= n) {
      this.#skip -= n
      return
    }
    let i = this.#skip
    this.#skip = 0
    while (i < n) {
      const partial = this.#partial
      const buf = partial !== null ? Buffer.concat([partial, chunk.subarray(i, i + MAX_HEAD)]) : chunk
      const at = partial !== null ? 0 : i
      if (!readHead(buf, at, buf.length)) {
        // Incomplete: everything left of this chunk is the head's start (< MAX_HEAD bytes).
        this.#partial = partial !== null ? buf : Buffer.from(chunk.subarray(i))
        return
      }
      this.#partial = null
      if (closeCode !== 0) {
        this.closeCode = closeCode
        return
      }
      i += partial !== null ? headLength - partial.length : headLength
      const left = n - i
      if (payloadLength >= left) {
        this.#skip = payloadLength - left
        return
      }
      i += payloadLength
    }
  }
}
