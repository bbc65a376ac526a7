// Durations for the k6 scenarios: parse k6 duration strings ("2m", "1m30s",
// "500ms") into seconds, scale them by the SCALE knob, and write them back in
// a form every k6 since 0.49 accepts ("12500ms"). Pure: no k6 imports, so the
// tap tests import it directly.

const UNIT_S = { h: 3600, m: 60, s: 1, ms: 0.001 }

/**
 * Seconds in a k6 duration string ("2m", "1m30s", "1.5s", "250ms") or a bare
 * number of seconds ("90"). Throws on anything else.
 * @param {string} text
 * @returns {number}
 */
export function parseDurationS(text) {
  const t = String(text).trim()
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t)
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g
  let total = 0
  let consumed = 0
  let m = re.exec(t)
  while (m !== null) {
    if (m.index !== consumed) break
    const unit = /** @type {'h'|'m'|'s'|'ms'} */ (m[2])
    total += Number(m[1]) * UNIT_S[unit]
    consumed = m.index + m[0].length
    m = re.exec(t)
  }
  if (t === '' || consumed !== t.length) throw new Error('not a duration: "' + text + '" (use e.g. 90s, 2m, 1m30s, 500ms)')
  return total
}

/**
 * A k6 duration string for `seconds`, in whole milliseconds (at least 1 ms).
 * @param {number} seconds
 * @returns {string}
 */
export function formatDuration(seconds) {
  return Math.max(1, Math.round(seconds * 1000)) + 'ms'
}

/**
 * `seconds` multiplied by the SCALE knob, never below `floorS`.
 * @param {number} seconds
 * @param {number} scale
 * @param {number} [floorS] default 1
 * @returns {number}
 */
export function scaleSeconds(seconds, scale, floorS) {
  const floor = floorS === undefined ? 1 : floorS
  return Math.max(floor, seconds * scale)
}

/**
 * "1m 25s" style text for README tables and logs.
 * @param {number} seconds
 * @returns {string}
 */
export function humanDuration(seconds) {
  const s = Math.round(seconds)
  const m = Math.floor(s / 60)
  const r = s % 60
  if (m === 0) return r + ' s'
  return r === 0 ? m + ' min' : m + ' min ' + r + ' s'
}
