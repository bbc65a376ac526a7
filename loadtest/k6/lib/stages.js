// Load shapes shared by the scenarios (ramping-vus stages), scaled by the
// SCALE knob, each stage carrying the phase it belongs to, so a VU can tag its
// requests phase:baseline|spike|recovery and thresholds can be written per
// phase. Pure: no k6 imports (the tap tests import it).

import { formatDuration, scaleSeconds } from './duration.js'

/**
 * @typedef {{ durationS: number, target: number, phase: string }} Stage
 */

/**
 * k6's form of the stages ({duration, target}).
 * @param {Stage[]} stages
 * @returns {{ duration: string, target: number }[]}
 */
export function toK6Stages(stages) {
  return stages.map(function (s) { return { duration: formatDuration(s.durationS), target: s.target } })
}

/**
 * Seconds the stages take together.
 * @param {Stage[]} stages
 * @returns {number}
 */
export function totalSeconds(stages) {
  let total = 0
  for (let i = 0; i < stages.length; i++) total += stages[i].durationS
  return total
}

/**
 * Phase of the stage running `elapsedMs` after the scenario started (the last
 * stage's phase past the end).
 * @param {Stage[]} stages
 * @param {number} elapsedMs
 * @returns {string}
 */
export function phaseAt(stages, elapsedMs) {
  let end = 0
  for (let i = 0; i < stages.length; i++) {
    end += stages[i].durationS * 1000
    if (elapsedMs < end) return stages[i].phase
  }
  return stages.length > 0 ? stages[stages.length - 1].phase : ''
}

/**
 * Ramp to `vus`, hold for `holdS`, ramp down; ramps scale with `scale`.
 * @param {number} vus
 * @param {number} holdS already scaled
 * @param {number} scale
 * @returns {Stage[]}
 */
export function rampHold(vus, holdS, scale) {
  return [
    { durationS: scaleSeconds(30, scale, 0.1), target: vus, phase: 'ramp-up' },
    { durationS: holdS, target: vus, phase: 'steady' },
    { durationS: scaleSeconds(15, scale, 0.1), target: 0, phase: 'ramp-down' },
  ]
}

/** Phases of the spike, in order. */
export const SPIKE_PHASES = ['baseline', 'spike', 'recovery']

/**
 * Baseline load, a sudden jump to `peak` VUs, back to baseline to see recovery
 * (125 s at scale 1). The jump down belongs to "spike" (the queue it left is
 * the spike's), so "recovery" is baseline load after the spike.
 * @param {number} baseline
 * @param {number} peak
 * @param {number} scale
 * @returns {Stage[]}
 */
export function spike(baseline, peak, scale) {
  return [
    { durationS: scaleSeconds(20, scale, 0.1), target: baseline, phase: 'baseline' },
    { durationS: scaleSeconds(30, scale, 0.1), target: baseline, phase: 'baseline' },
    { durationS: scaleSeconds(5, scale, 0.1), target: peak, phase: 'spike' },
    { durationS: scaleSeconds(30, scale, 0.1), target: peak, phase: 'spike' },
    { durationS: scaleSeconds(5, scale, 0.1), target: baseline, phase: 'spike' },
    { durationS: scaleSeconds(30, scale, 0.1), target: baseline, phase: 'recovery' },
    { durationS: scaleSeconds(5, scale, 0.1), target: 0, phase: 'recovery' },
  ]
}
