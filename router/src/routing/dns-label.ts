// Validation of path captures as DNS labels. This runs before any lookup, so the
// router can only ever resolve `<label>.<namespace>` names (no SSRF).

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/**
 * True when `s` is a DNS label as Cloud Map service/instance names are used here:
 * 1-63 characters of lower-case a-z, 0-9 and '-', not starting or ending with '-'.
 * Upper case, dots, percent-escapes and anything else are rejected, not normalised.
 */
export function isDnsLabel(s: string): boolean {
  return LABEL.test(s)
}

const CAPTURE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/

/**
 * A path capture as the name to look up: one DNS label, upper-case letters
 * accepted and returned in lower case (DNS compares names without case, and
 * Cloud Map allows no two DNS-discoverable services differing only by case:
 * docs/cloud-map-facts.md, "Case"). Undefined for anything else: dots,
 * escapes, '_', empty, over 63 characters. Checked before any lookup.
 */
export function captureLabel(s: string): string | undefined {
  if (LABEL.test(s)) return s
  return CAPTURE.test(s) ? s.toLowerCase() : undefined
}
