// JSON text for the access log's hot path, the same text JSON.stringify and
// Number#toString give, without their cost in the common case: a string of
// printable ASCII with nothing to escape is quoted as it is (JSON.stringify
// is a call into the runtime for every value), and milliseconds rounded to
// the microsecond are written from integers (a double's shortest decimal is
// a slow conversion). Anything else takes the general route. Pure.

/** `s` as a JSON string literal: exactly JSON.stringify(s). */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // Control characters, '"', '\\' and everything beyond ASCII take the general route.
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(s)
  }
  return `"${s}"`
}

/** '' for 0, then '.001' … '.999' without trailing zeros ('.5', '.25'). */
const FRACTION: readonly string[] = Array.from({ length: 1000 }, (_, i) => (i === 0 ? '' : `.${String(i).padStart(3, '0').replace(/0+$/, '')}`))

/** Below this many ms a double's spacing is far under a microsecond, so the decimal written below is also its shortest one. */
const EXACT_BELOW_MS = 2 ** 31

/** Milliseconds rounded to the microsecond, as JSON text: exactly String(Math.round(v * 1e3) / 1e3). */
export function msText(v: number): string {
  const us = Math.round(v * 1e3)
  if (us >= 0 && us < EXACT_BELOW_MS * 1000) {
    const whole = Math.floor(us / 1000)
    return `${whole}${FRACTION[us - whole * 1000] ?? ''}`
  }
  return String(us / 1e3)
}
