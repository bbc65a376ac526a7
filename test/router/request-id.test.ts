// New request IDs: RFC 9562 version-4 UUIDs (format, version and variant
// bits), unique across many refills of the random pool, and random in every
// other bit (each of the 122 random bits is set in roughly half the IDs).

import t from 'tap'
import { newRequestId } from '../../router/src/proxy/request-id.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('version-4 UUIDs, unique over many pool refills', async (t) => {
  const n = 20_000 // 156 refills of the 128-ID pool
  const seen = new Set<string>()
  let bad = ''
  for (let i = 0; i < n; i++) {
    const id = newRequestId()
    if (!UUID_V4.test(id) && bad === '') bad = id
    seen.add(id)
  }
  t.equal(bad, '', 'every ID is a lower-case version-4 UUID')
  t.equal(seen.size, n, 'no ID repeats')
})

t.test('every random bit varies', async (t) => {
  const n = 4096
  const ones = new Array<number>(128).fill(0)
  for (let i = 0; i < n; i++) {
    const hex = newRequestId().replace(/-/g, '')
    for (let nib = 0; nib < 32; nib++) {
      const v = parseInt(hex[nib] ?? '0', 16)
      for (let b = 0; b < 4; b++) if ((v >> (3 - b)) & 1) ones[nib * 4 + b] = (ones[nib * 4 + b] ?? 0) + 1
    }
  }
  // Fixed bits: version nibble 0100 (bits 48–51), variant 10 (bits 64–65).
  const fixed = new Map([[48, 0], [49, n], [50, 0], [51, 0], [64, n], [65, 0]])
  const off: string[] = []
  for (let bit = 0; bit < 128; bit++) {
    const c = ones[bit] ?? 0
    const want = fixed.get(bit)
    // Random bits: 4096 draws, mean 2048, sd 32; 2048 ± 300 is > 9 sd.
    if (want !== undefined ? c !== want : c < 1748 || c > 2348) off.push(`bit ${bit}: ${c}`)
  }
  t.same(off, [], 'fixed bits as RFC 9562 says, the other 122 set about half the time')
})
