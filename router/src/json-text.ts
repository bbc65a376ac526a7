// JSON text for the access log's hot path, the same text JSON.stringify and
// Number#toString give, without their cost in the common case: a string of
// printable ASCII with nothing to escape is quoted as it is (one regular
// expression test; JSON.stringify is a call into the runtime for every value),
// strings that come back again and again (route names, upstream addresses,
// instance ids, a client's user agent) are written once as whole fields and
// remembered (FieldTexts), and milliseconds rounded to the microsecond are
// written from integers (a double's shortest decimal is a slow conversion;
// MsField also takes the field's name and whole milliseconds from a table).
// Fewer, longer pieces also make the line cheaper to flatten when it is
// written. Anything else takes the general route. Pure apart from the bounded
// caches.

/** Printable ASCII but '"' and '\\': nothing for JSON to escape. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/** True when `s` is printable ASCII with nothing to escape: its JSON text is `"${s}"` (non-ASCII text may be plain too, but is not said so). */
export function isPlain(s: string): boolean {
  return PLAIN.test(s)
}

/** `s` as a JSON string literal: exactly JSON.stringify(s). */
export function jsonString(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s)
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

/**
 * A field holding milliseconds, written as `,"<name>":<msText(v)>` with the
 * name and the whole milliseconds (below 1,000) taken from a table: two
 * strings joined per value instead of four.
 */
export class MsField {
  readonly #name: string
  readonly #whole: readonly string[]

  constructor(name: string) {
    this.#name = name
    this.#whole = Array.from({ length: 1000 }, (_, i) => `,"${name}":${i}`)
  }

  /** `,"<name>":<v>` — exactly `,"<name>":${msText(v)}`. */
  text(v: number): string {
    const us = Math.round(v * 1e3)
    if (us >= 0 && us < 1_000_000) {
      const whole = Math.floor(us / 1000)
      return `${this.#whole[whole] ?? ''}${FRACTION[us - whole * 1000] ?? ''}`
    }
    return `,"${this.#name}":${msText(v)}`
  }
}

/**
 * Field texts made once per value and looked up after that (`make` builds the
 * text for a value). For values from a small set; at most `max` are kept, and
 * all are forgotten when that is reached.
 */
export class FieldTexts {
  readonly #texts = new Map<string, string>()
  readonly #make: (s: string) => string
  readonly #max: number

  constructor(make: (s: string) => string, max = 1024) {
    this.#make = make
    this.#max = max
  }

  get(s: string): string {
    let t = this.#texts.get(s)
    if (t === undefined) {
      if (this.#texts.size >= this.#max) this.#texts.clear()
      t = this.#make(s)
      this.#texts.set(s, t)
    }
    return t
  }
}
