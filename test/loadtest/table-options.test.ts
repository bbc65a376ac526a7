// Table formatting, flag/env parsing and the runner's typed options.

import t from 'tap'
import { formatMarkdownTable, formatTable, visibleWidth } from '../../loadtest/src/lib/table.js'
import { OptionError, parseDurationMs, parseFlags, readIntList, readBool, mergeOptions } from '../../loadtest/src/lib/options.js'
import { parseRunnerOptions } from '../../loadtest/src/config.js'
import { formatElapsed } from '../../loadtest/src/lib/progress.js'

t.test('formatTable aligns columns', async (t) => {
  const out = formatTable([{ header: 'name' }, { header: 'rps', align: 'right' }], [
    ['direct', '12345'],
    ['nginx', '9'],
  ])
  t.equal(out, ['name      rps', '------  -----', 'direct  12345', 'nginx       9'].join('\n'))
  t.throws(() => formatTable([{ header: 'a' }], [['1', '2']]), RangeError)
  t.equal(formatTable([{ header: 'a' }, { header: 'b' }], [['x']]).split('\n')[2], 'x', 'missing cells are empty')
  t.equal(visibleWidth('\u001b[31mred\u001b[0m'), 3)
})

t.test('formatMarkdownTable', async (t) => {
  const md = formatMarkdownTable([{ header: 'a' }, { header: 'b', align: 'right' }], [['x|y', '1']])
  t.equal(md, ['| a | b |', '|---|---:|', '| x\\|y | 1 |'].join('\n'))
})

t.test('parseFlags', async (t) => {
  t.same(parseFlags(['--ws-count=9000', '--rounds', '2', '--smoke']), { WS_COUNT: '9000', ROUNDS: '2', SMOKE: '1' })
  t.throws(() => parseFlags(['oops']), OptionError)
  t.throws(() => parseFlags(['--bad_name!=1']), OptionError)
  t.throws(() => mergeOptions({}, { NOPE: '1' }, ['ROUNDS']), /unknown flag --nope/)
  t.same(mergeOptions({ ROUNDS: '1' }, { ROUNDS: '2' }, ['ROUNDS']), { ROUNDS: '2' }, 'flags override env')
})

t.test('durations, lists, booleans', async (t) => {
  t.equal(parseDurationMs('250ms'), 250)
  t.equal(parseDurationMs('10s'), 10_000)
  t.equal(parseDurationMs('2m'), 120_000)
  t.equal(parseDurationMs('1.5'), 1500, 'bare number is seconds')
  t.throws(() => parseDurationMs('ten'), OptionError)
  t.same(readIntList({ C: '50, 200' }, 'C', [1]), [50, 200])
  t.throws(() => readIntList({ C: '50,x' }, 'C', [1]), /C must be a comma-separated list/)
  t.equal(readBool({ B: 'yes' }, 'B', false), true)
  t.throws(() => readBool({ B: 'maybe' }, 'B', false), OptionError)
  t.equal(formatElapsed(1500), '1.5s')
  t.equal(formatElapsed(125_000), '2m05s')
})

t.test('parseRunnerOptions', async (t) => {
  const local = parseRunnerOptions({})
  t.equal(local.baseUrl, undefined, 'no BASE_URL → local stack')
  t.same(local.deploymentIds, [], 'ids come from the stack')
  t.same(local.scenarios, ['smoke', 'http-load', 'ws-sessions', 'spike', 'drain'])
  const remote = parseRunnerOptions({ BASE_URL: 'https://edge.example.com/', DEPLOYMENT_ID: 'web', VUS: '7', WS_HOLD_S: '2.5', SLO_HTTP_P95_MS: '100' })
  t.equal(remote.baseUrl, 'https://edge.example.com')
  t.same(remote.deploymentIds, ['web'])
  t.same(remote.nodeIds, [], 'no guessed node id: discovered through /media/allocate (issue 19)')
  t.equal(remote.connections, 7, 'VUS is an alias for CONNECTIONS')
  t.equal(remote.wsHoldMs, 2500)
  t.equal(remote.slo.httpP95Ms, 100)
  const flagged = parseRunnerOptions({}, { SCENARIOS: 'smoke,spike', DURATION: '5s' })
  t.same(flagged.scenarios, ['smoke', 'spike'])
  t.equal(flagged.durationMs, 5000)
  t.throws(() => parseRunnerOptions({ BASE_URL: 'ftp://x' }), /BASE_URL must be http/)
  t.throws(() => parseRunnerOptions({ SCENARIOS: 'smoke,soak' }), /unknown "soak"/)
  t.throws(() => parseRunnerOptions({ VUS: '-1' }), /VUS must be between/)
  t.throws(() => parseRunnerOptions({ DEPLOYMENT_IDS: 'Bad_Id' }), /DNS labels/)
  t.throws(() => parseRunnerOptions({ WS_SESSIONS: '20000' }), /WS_SESSIONS must be between 0 and 9000/)
})
