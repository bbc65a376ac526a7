// The alert rules as Prometheus's own promtool sees them: `promtool check
// rules` accepts the file, `promtool test rules` passes, every alert in the
// rules has a case where it fires and one where it does not, and a broken
// rule makes the unit tests fail (so they test something).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { RULES_FILE, RULES_TEST_FILE, readAlertCases, readAlertRules } from '../../infra/observability/src/alert-rules.js'
import { ensurePrometheus } from '../../infra/observability/src/install.js'

const skip = ensurePrometheus()
if (skip !== undefined) t.comment(`SKIPPED: ${skip}`)

function promtool(args: string[], cwd: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' })
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() }
}

const rules = readAlertRules()
const cases = readAlertCases()

t.test('the alerts the issue asks for are all there, once each', async (t) => {
  const names = rules.map((r) => r.alert)
  t.same([...new Set(names)].sort(), [...names].sort(), 'no duplicate alert names')
  for (const name of ['RouterRoute5xxRatioHigh', 'RouterDiscoveryStale', 'RouterDiscoveryErrors', 'RouterCloudMapThrottled', 'RouterUpstreamEjections', 'RouterWebSocketDrops', 'MediaNodeWebSocketDrops', 'RouterDown', 'MediaNodeDown', 'RouterDrainStuck', 'MediaNodeDrainStuck']) {
    t.ok(names.includes(name), name)
  }
})

t.test('every alert has a firing and a non-firing promtool case, and every case names a real alert', async (t) => {
  const names = new Set(rules.map((r) => r.alert))
  for (const c of cases) t.ok(names.has(c.alertname), `case "${c.test}" at ${c.evalTime} names an alert in the rules (${c.alertname})`)
  for (const name of names) {
    t.ok(cases.some((c) => c.alertname === name && c.expectedAlerts > 0), `${name}: a case where it fires`)
    t.ok(cases.some((c) => c.alertname === name && c.expectedAlerts === 0), `${name}: a case where it does not`)
  }
})

t.test('promtool check rules and promtool test rules pass', { skip }, async (t) => {
  const check = promtool(['check', 'rules', basename(RULES_FILE)], dirname(RULES_FILE))
  t.equal(check.status, 0, check.output)
  t.match(check.output, `SUCCESS: ${rules.length} rules found`)
  const run = promtool(['test', 'rules', basename(RULES_TEST_FILE)], dirname(RULES_TEST_FILE))
  t.equal(run.status, 0, run.output)
  t.match(run.output, /SUCCESS/)
})

t.test('a weakened rule fails its promtool case', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alert-rules-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const original = readFileSync(RULES_FILE, 'utf8')
  // RouterDown waiting 5 minutes instead of 1 no longer fires at 4m.
  const weakened = original.replace(/(expr: up\{job="router"\} == 0\n\s+for: )1m/, '$15m')
  t.not(weakened, original, 'the mutation applies')
  writeFileSync(join(dir, basename(RULES_FILE)), weakened)
  copyFileSync(RULES_TEST_FILE, join(dir, basename(RULES_TEST_FILE)))
  const run = promtool(['test', 'rules', basename(RULES_TEST_FILE)], dir)
  t.not(run.status, 0, 'promtool test rules fails')
  t.match(run.output, /RouterDown/)
})
