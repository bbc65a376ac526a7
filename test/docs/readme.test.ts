// The README stays true: every router variable is documented, the quick start
// has exactly the two commands, and every script it names exists.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { ENV_DOC } from '../../router/src/config.js'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }

t.test('every router env var is in the README table with its default', async (t) => {
  for (const [name, def] of ENV_DOC) {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${name}\` |`))
    t.ok(row !== undefined, `${name} documented`)
    if (row !== undefined && !def.startsWith('(')) t.ok(row.includes(`\`${def}\``), `${name} default ${def}`)
  }
})

t.test('quick start commands and scripts', async (t) => {
  t.match(readme, 'npm ci && npm start')
  t.match(readme, 'npm ci && npm test')
  for (const m of readme.matchAll(/`npm run ([a-z:]+)`/g)) {
    const script = m[1]
    if (script !== undefined) t.ok(pkg.scripts[script] !== undefined, `script ${script} exists`)
  }
  t.ok(pkg.scripts.start !== undefined && pkg.scripts.test !== undefined)
})

t.test('CI runs the README test command', async (t) => {
  const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8')
  t.match(ci, /npm ci/)
  t.match(ci, /npm test/)
  t.match(ci, /set -euo pipefail/)
})
