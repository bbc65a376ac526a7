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

/** A path capture as the name to look up, or undefined when it is not a DNS label. */
export function captureLabel(s: string): string | undefined {
  return LABEL.test(s) ? s : undefined
}
