// What a runner scenario is: a named question, run against a target, that
// returns measurements and the objectives (SLOs) they are judged by.

import type { RunnerOptions } from '../config.js'
import type { Slo } from '../lib/slo.js'
import type { NodeAdmin } from '../lib/node-admin.js'

/** Where the load goes. */
export interface Target {
  /** Router base URL, http(s)://host:port (no trailing slash). */
  baseUrl: string
  deployments: string[]
  mediaNodes: string[]
  /** A media node's admin listener (to drain it), when the target knows it. */
  nodeAdmin: (nodeId: string) => NodeAdmin | undefined
}

export interface ScenarioContext {
  target: Target
  options: RunnerOptions
  /** Sets the text of the live progress line. */
  setStatus(text: string): void
}

export interface ScenarioOutcome {
  /** Numbers the SLOs refer to, plus informational ones. Ratios are 0..1, latencies ms. */
  measurements: Record<string, number>
  slos: Slo[]
  /** One-line figures for the summary. */
  notes: string[]
  /** Set when the scenario could not run here; a skip is not a failure. */
  skipped?: string
}

export interface Scenario {
  name: string
  /** The question this scenario answers. */
  question: string
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>
}

/** Formats a millisecond figure for notes. */
export function ms(v: number): string {
  return Number.isFinite(v) ? `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms` : 'n/a'
}

/** Formats a 0..1 ratio as percent. */
export function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(2)} %` : 'n/a'
}

/** URL of a service path under /services/<id>. */
export function serviceUrl(baseUrl: string, deploymentId: string, path: string): string {
  return `${baseUrl}/services/${encodeURIComponent(deploymentId)}${path}`
}
