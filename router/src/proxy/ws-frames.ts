// The one WebSocket frame the router writes itself: a close frame (RFC 6455
// §5.5.1), unmasked towards clients and masked towards upstream servers.

import { randomBytes } from 'node:crypto'

/** Build a close frame with a status code and a short UTF-8 reason (≤ 123 bytes). */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  const reasonBytes = Buffer.from(reason, 'utf8').subarray(0, 123)
  const payload = Buffer.alloc(2 + reasonBytes.length)
  payload.writeUInt16BE(code, 0)
  reasonBytes.copy(payload, 2)
  const header = Buffer.from([0x88, (masked ? 0x80 : 0) | payload.length])
  if (!masked) return Buffer.concat([header, payload])
  const mask = randomBytes(4)
  const body = Buffer.alloc(payload.length)
  for (let i = 0; i < payload.length; i++) body[i] = (payload[i] ?? 0) ^ (mask[i & 3] ?? 0)
  return Buffer.concat([header, mask, body])
}
