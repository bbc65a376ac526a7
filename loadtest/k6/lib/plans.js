// How long each scenario runs and in what shape, from the config (SCALE
// included): the scripts build their k6 options from these plans, and the
// README's duration table is checked against them by the tap tests.
// Pure: no k6 imports.

import { formatDuration, scaleSeconds } from './duration.js'
import { rampHold, spike, toK6Stages, totalSeconds } from './stages.js'

/**
 * @typedef {import('./config.js').Config} Config
 * @typedef {{ stages: { duration: string, target: number }[], gracefulRampDown: string, nominalS: number, maxS: number }} RampPlan
 */

/**
 * 01: one request per deployment, one session of SMOKE_HOLD_S per node, in turn.
 * @param {Config} cfg
 * @param {number} nodes
 * @returns {{ nominalS: number, maxS: number }}
 */
export function smokePlan(cfg, nodes) {
  const s = nodes * cfg.smokeHoldS
  return { nominalS: s, maxS: s + 10 }
}

/**
 * 02: ramp 30 s, hold DURATION, ramp down 15 s (scaled).
 * @param {Config} cfg
 * @returns {RampPlan}
 */
export function httpLoadPlan(cfg) {
  const st = rampHold(cfg.vus, cfg.durationS, cfg.scale)
  const grace = scaleSeconds(10, cfg.scale, 0.1)
  return { stages: toK6Stages(st), gracefulRampDown: formatDuration(grace), nominalS: totalSeconds(st), maxS: totalSeconds(st) + grace }
}

/**
 * 03: ramp 30 s, hold DURATION, ramp down 15 s (scaled); sessions started in
 * the ramp-down may finish their WS_HOLD_S.
 * @param {Config} cfg
 * @returns {RampPlan}
 */
export function wsSessionsPlan(cfg) {
  const st = rampHold(cfg.wsVus, cfg.durationS, cfg.scale)
  const grace = cfg.wsHoldS + scaleSeconds(10, cfg.scale, 0.1)
  return { stages: toK6Stages(st), gracefulRampDown: formatDuration(grace), nominalS: totalSeconds(st), maxS: totalSeconds(st) + grace }
}

/**
 * 04: baseline 50 s, spike 40 s, recovery 35 s (scaled).
 * @param {Config} cfg
 * @returns {RampPlan & { phases: import('./stages.js').Stage[] }}
 */
export function spikePlan(cfg) {
  const st = spike(cfg.vus, cfg.spikeVus, cfg.scale)
  const grace = scaleSeconds(5, cfg.scale, 0.1)
  return { phases: st, stages: toK6Stages(st), gracefulRampDown: formatDuration(grace), nominalS: totalSeconds(st), maxS: totalSeconds(st) + grace }
}

/**
 * 05: sessions for DRAIN_AT_S + 2 × WS_HOLD_S + 10 s, the drain at DRAIN_AT_S (scaled).
 * @param {Config} cfg
 * @returns {{ sessionsDuration: string, gracefulStop: string, drainStart: string, nominalS: number, maxS: number }}
 */
export function drainPlan(cfg) {
  const total = cfg.drainAtS + 2 * cfg.wsHoldS + scaleSeconds(10, cfg.scale, 0.1)
  const grace = cfg.wsHoldS + scaleSeconds(10, cfg.scale, 0.1)
  return { sessionsDuration: formatDuration(total), gracefulStop: formatDuration(grace), drainStart: formatDuration(cfg.drainAtS), nominalS: total, maxS: total + grace }
}
