// Load shapes shared by the scenarios (ramping-vus stages). One function per
// shape so scripts say what they do ("ramp, hold, ramp down") in one line.

/**
 * Ramp to `vus`, hold for `hold`, ramp down.
 * @param {number} vus
 * @param {string} hold k6 duration, e.g. "2m"
 * @returns {{ duration: string, target: number }[]}
 */
export function rampHold(vus, hold) {
  return [
    { duration: '30s', target: vus },
    { duration: hold, target: vus },
    { duration: '15s', target: 0 },
  ]
}

/**
 * Baseline load, a sudden jump to `peak` VUs, back to baseline to see recovery.
 * @param {number} baseline
 * @param {number} peak
 * @returns {{ duration: string, target: number }[]}
 */
export function spike(baseline, peak) {
  return [
    { duration: '20s', target: baseline },
    { duration: '30s', target: baseline },
    { duration: '5s', target: peak },
    { duration: '30s', target: peak },
    { duration: '5s', target: baseline },
    { duration: '30s', target: baseline },
    { duration: '5s', target: 0 },
  ]
}

/**
 * Long steady load for soak runs.
 * @param {number} vus
 * @param {string} hold
 * @returns {{ duration: string, target: number }[]}
 */
export function soak(vus, hold) {
  return [
    { duration: '2m', target: vus },
    { duration: hold, target: vus },
    { duration: '1m', target: 0 },
  ]
}
