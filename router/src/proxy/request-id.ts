// New request IDs: random (version 4) UUIDs made as flat strings. Node's
// crypto.randomUUID() joins 20 pieces with `+`, which V8 keeps as a tree of
// about 16 cons-string nodes (≈ 500 bytes) for as long as the ID is held; a
// WebSocket holds its ID for the whole session, for its access-log line. Here
// the 36 characters are written into a buffer and read back as one string.

import { randomFillSync } from 'node:crypto'

/** IDs per refill of the random pool (as Node's own UUID entropy cache). */
const BATCH = 128
const pool = Buffer.alloc(16 * BATCH)
let nextInPool = BATCH
const text = Buffer.alloc(36)
const HEX = Buffer.from('0123456789abcdef', 'latin1')

/** A new RFC 9562 version-4 UUID, lower-case, 36 characters. */
export function newRequestId(): string {
  if (nextInPool === BATCH) {
    randomFillSync(pool)
    nextInPool = 0
  }
  const at = 16 * nextInPool++
  let j = 0
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[j++] = 0x2d // '-'
    let b = pool[at + i] ?? 0
    if (i === 6) b = (b & 0x0f) | 0x40 // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80 // variant 10
    text[j++] = HEX[b >> 4] ?? 0
    text[j++] = HEX[b & 0x0f] ?? 0
  }
  return text.toString('latin1', 0, 36)
}
