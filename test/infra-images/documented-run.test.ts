// The README's `docker run` commands: what the image test reads the stop
// timeout from, and that the documented timeout covers the router's whole
// default drain (and fits ECS's 120 s maximum).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { documentedStopTimeoutSeconds, shellCommands } from '../../infra/images/src/documented-run.js'
import { loadConfig } from '../../router/src/config.js'
import { drainHardLimitMs } from '../../router/src/lifecycle/drain.js'

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8')

t.test('shell commands: fenced blocks only, continuations joined, comments dropped', async (t) => {
  const md = ['text `docker run x`', '```sh', 'docker run -d \\', '  --stop-timeout 30 \\', '  img   # comment', 'echo hi', '```', '```json', '{"a": 1}', '```', '', '```', 'ls', '```'].join('\n')
  t.same(shellCommands(md), ['docker run -d --stop-timeout 30 img', 'echo hi', 'ls'])
  t.equal(documentedStopTimeoutSeconds(md, 'img'), 30)
  t.throws(() => documentedStopTimeoutSeconds(md, 'other'), /found 0/)
  t.throws(() => documentedStopTimeoutSeconds('```sh\ndocker run img\n```\n', 'img'), /no --stop-timeout/)
  t.throws(() => documentedStopTimeoutSeconds('```sh\ndocker run --stop-timeout 5 img\ndocker run --stop-timeout=6 img\n```\n', 'img'), /found 2/)
})

t.test('README: the router’s documented stop timeout covers its whole default drain, within ECS’s 120 s', async (t) => {
  const stopSeconds = documentedStopTimeoutSeconds(readme, 'edge-router')
  const hardLimitMs = drainHardLimitMs(loadConfig({}).drain)
  t.ok(stopSeconds * 1000 >= hardLimitMs, `--stop-timeout ${stopSeconds} s >= the drain's hard limit ${hardLimitMs / 1000} s: SIGKILL never cuts a drain short`)
  t.ok(stopSeconds <= 120, 'no more than ECS allows')
  t.equal(documentedStopTimeoutSeconds(readme, 'media-node'), stopSeconds, 'the media node is stopped the same way')
})
