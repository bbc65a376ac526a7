// The tunnel's frame follower: bytes counted, the first close code found in
// masked and unmasked streams whatever the TCP reads cut (every split point of
// a stream with 7-, 16- and 64-bit lengths), a close without a code is 1005,
// and what follows the close frame is only counted.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { FrameScan, NO_STATUS_CODE } from '../../router/src/proxy/ws-frame-scan.js'

/** One frame: FIN + opcode, payload, masked or not; 64-bit length when asked even for small payloads. */
function frame(opcode: number, payload: Buffer, masked: boolean, forceLen64 = false): Buffer {
  const len = payload.length
  let head: Buffer
  if (forceLen64 || len > 65535) {
    head = Buffer.alloc(10)
    head[1] = 127
    head.writeUInt32BE(0, 2)
    head.writeUInt32BE(len, 6)
  } else if (len > 125) {
    head = Buffer.alloc(4)
    head[1] = 126
    head.writeUInt16BE(len, 2)
  } else {
    head = Buffer.alloc(2)
    head[1] = len
  }
  head[0] = 0x80 | opcode
  if (!masked) return Buffer.concat([head, payload])
  head[1] = (head[1] ?? 0) | 0x80
  const mask = randomBytes(4)
  const body = Buffer.from(payload)
  for (let i = 0; i < body.length; i++) body[i] = (body[i] ?? 0) ^ (mask[i & 3] ?? 0)
  return Buffer.concat([head, mask, body])
}

function close(code: number, masked: boolean): Buffer {
  const p = Buffer.alloc(2 + 4)
  p.writeUInt16BE(code, 0)
  p.write('bye!', 2)
  return frame(0x8, p, masked)
}

t.test('close code found at every split of the stream', async (t) => {
  for (const masked of [false, true]) {
    const stream = Buffer.concat([
      frame(0x1, Buffer.from('hello'), masked),
      frame(0x2, Buffer.alloc(300, 7), masked),
      frame(0x2, Buffer.alloc(20, 8), masked, true),
      frame(0x9, Buffer.alloc(0), masked),
      close(4321, masked),
      frame(0x1, Buffer.from('after the close'), masked),
    ])
    let wrong = 0
    for (let cut = 0; cut <= stream.length; cut++) {
      for (const second of [cut, Math.min(stream.length, cut + 1), Math.min(stream.length, cut + 13)]) {
        const s = new FrameScan()
        s.push(stream.subarray(0, cut))
        s.push(stream.subarray(cut, second))
        s.push(stream.subarray(second))
        if (s.closeCode !== 4321 || s.bytes !== stream.length) wrong++
      }
    }
    t.equal(wrong, 0, `${masked ? 'masked' : 'unmasked'}: every split finds 4321 and counts every byte`)
  }
})

t.test('one byte at a time; a close without a code; no close', async (t) => {
  const stream = Buffer.concat([frame(0x1, Buffer.alloc(70_000, 1), true), close(1000, true)])
  const s = new FrameScan()
  for (let i = 0; i < stream.length; i += 1 + (i % 7)) s.push(stream.subarray(i, i + 1 + (i % 7)))
  t.equal(s.closeCode, 1000)
  t.equal(s.bytes, stream.length)
  const empty = new FrameScan()
  empty.push(frame(0x8, Buffer.alloc(0), false))
  t.equal(empty.closeCode, NO_STATUS_CODE)
  const none = new FrameScan()
  none.push(frame(0x1, Buffer.from('x'), false))
  t.equal(none.closeCode, 0)
})
