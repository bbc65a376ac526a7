// The alert rules (../prometheus/alerts.yml) and their promtool unit tests
// (../prometheus/alerts.test.yml) read into typed values, so a test can check
// that every alert has a firing and a non-firing case. Parsing only: promtool
// itself checks and runs them.

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

export const RULES_FILE = fileURLToPath(new URL('../prometheus/alerts.yml', import.meta.url))
export const RULES_TEST_FILE = fileURLToPath(new URL('../prometheus/alerts.test.yml', import.meta.url))

export interface AlertRule {
  readonly group: string
  readonly alert: string
  readonly expr: string
}

/** One `alert_rule_test` entry: an alert evaluated at a time, and how many alerts it expects. */
export interface AlertCase {
  readonly test: string
  readonly alertname: string
  readonly evalTime: string
  readonly expectedAlerts: number
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what}: expected a mapping`)
  return v as Record<string, unknown>
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what}: expected a list`)
  return v
}

function text(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`${what}: expected a non-empty string`)
  return v
}

/** Alerting rules of a Prometheus rule file (recording rules are skipped). */
export function parseAlertRules(source: string): AlertRule[] {
  const rules: AlertRule[] = []
  for (const [gi, g] of list(record(parse(source), 'rule file').groups, 'groups').entries()) {
    const group = record(g, `groups[${gi}]`)
    const name = text(group.name, `groups[${gi}].name`)
    for (const [ri, r] of list(group.rules, `${name}.rules`).entries()) {
      const rule = record(r, `${name}.rules[${ri}]`)
      if (rule.alert === undefined) continue
      rules.push({ group: name, alert: text(rule.alert, `${name}.rules[${ri}].alert`), expr: text(rule.expr, `${name}.rules[${ri}].expr`) })
    }
  }
  return rules
}

/** Every alert case of a `promtool test rules` file. */
export function parseAlertCases(source: string): AlertCase[] {
  const cases: AlertCase[] = []
  for (const [ti, tc] of list(record(parse(source), 'test file').tests, 'tests').entries()) {
    const test = record(tc, `tests[${ti}]`)
    const name = typeof test.name === 'string' ? test.name : `tests[${ti}]`
    for (const [ci, c] of list(test.alert_rule_test ?? [], `${name}.alert_rule_test`).entries()) {
      const entry = record(c, `${name}.alert_rule_test[${ci}]`)
      cases.push({
        test: name,
        alertname: text(entry.alertname, `${name}.alert_rule_test[${ci}].alertname`),
        evalTime: text(entry.eval_time, `${name}.alert_rule_test[${ci}].eval_time`),
        expectedAlerts: list(entry.exp_alerts ?? [], `${name}.alert_rule_test[${ci}].exp_alerts`).length,
      })
    }
  }
  return cases
}

export function readAlertRules(): AlertRule[] {
  return parseAlertRules(readFileSync(RULES_FILE, 'utf8'))
}

export function readAlertCases(): AlertCase[] {
  return parseAlertCases(readFileSync(RULES_TEST_FILE, 'utf8'))
}
