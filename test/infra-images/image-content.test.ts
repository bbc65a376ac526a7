// What may ship under /app: judged from a file list and package-lock.json.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { contentProblems, lockPackages } from '../../infra/images/src/image-content.js'

const lock = lockPackages(readFileSync(join(import.meta.dirname, '..', '..', 'package-lock.json'), 'utf8'))

t.test('the real lockfile: tap and typescript are dev, ws and undici required', async (t) => {
  t.ok(lock.dev.includes('node_modules/tap'))
  t.ok(lock.dev.includes('node_modules/typescript'))
  t.ok(lock.required.includes('node_modules/ws'))
  t.ok(lock.required.includes('node_modules/undici'))
  t.notOk(lock.required.some((p) => lock.dev.includes(p)))
})

const prod = lock.required.map((p) => `${p}/package.json`)
const good = ['package.json', 'package-lock.json', 'dist/router/src/main.js', 'dist/router/src/proxy/http.js', ...prod]

t.test('an image with the compiled router and the production packages is clean', async (t) => {
  t.same(contentProblems(good, lock, 'dist/router'), [])
})

t.test('each kind of stray file is named', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['dist/router/src/main.js.map', /source map/],
    ['node_modules/ws/lib/websocket.js.map', /source map/],
    ['dist/router/src/main.ts', /not compiled JavaScript/],
    ['dist/router/test/x.js', /test/],
    ['dist/router/src/x.test.js', /test/],
    ['dist/media-node/src/main.js', /not ours to ship/],
    ['router/src/main.ts', /not ours to ship/],
    ['node_modules/typescript/package.json', /dev dependency: node_modules\/typescript/],
    ['node_modules/tap/package.json', /dev dependency: node_modules\/tap/],
  ]
  for (const [file, problem] of cases) t.match(contentProblems([...good, file], lock, 'dist/router'), [problem], file)
  t.match(contentProblems(good.filter((f) => f !== 'node_modules/ws/package.json'), lock, 'dist/router'), [/production dependency missing: node_modules\/ws/])
})
