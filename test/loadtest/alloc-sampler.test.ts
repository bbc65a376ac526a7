// The allocation sampler behind `npm run bench:alloc`, in a real Node child:
// SIGUSR2 starts sampling, a known amount is allocated (and dropped, so the
// count must include collected objects), SIGUSR2 writes the profile. The sum
// must match what was allocated and name the allocating function; a malformed
// profile is refused with a clear error.

import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { summarizeAllocProfile, shortScript } from '../../loadtest/src/bench/alloc-profile.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const sampler = join(root, 'loadtest', 'src', 'bench', 'alloc-sampler.ts')

// 2,000 arrays of 1,250 doubles: 10,000 bytes of elements each, plus headers.
const ARRAYS = 2000
const ELEMENT_BYTES = 1250 * 8
const CHILD = `
import { createInterface } from 'node:readline'
const keep = []
function allocateMarked() {
  for (let i = 0; i < ${ARRAYS}; i++) {
    const a = new Array(1250)
    a.fill(i + 0.5)
    keep.push(a)
    if (keep.length > 50) keep.length = 0
  }
}
createInterface({ input: process.stdin }).on('line', () => {
  allocateMarked()
  process.stdout.write('done\\n')
})
process.stdout.write('ready\\n')
`

async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

t.test('sampled bytes match a known allocation, collected objects included', { timeout: 60_000 }, async (t) => {
  const dir = t.testdir({ 'child.mjs': CHILD })
  const out = join(dir, 'profile.json')
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', sampler, join(dir, 'child.mjs')], {
    cwd: root,
    env: { ...process.env, ALLOC_PROFILE_OUT: out },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  await until('ready', () => stdout.includes('ready'))
  t.notOk(existsSync(`${out}.on`), 'nothing sampled before the first signal')
  child.kill('SIGUSR2')
  await until('sampling to start', () => existsSync(`${out}.on`))
  child.stdin.write('go\n')
  await until('the allocation', () => stdout.includes('done'))
  child.kill('SIGUSR2')
  await until('the profile', () => existsSync(out))
  t.equal(stderr, '', 'the sampler reported no error')

  const summary = summarizeAllocProfile(readFileSync(out, 'utf8'))
  const expected = ARRAYS * ELEMENT_BYTES
  const marked = summary.sites.find((s) => s.site.startsWith('allocateMarked '))
  t.ok(marked !== undefined, 'the allocating function is a site', { sites: summary.sites.slice(0, 5) })
  if (marked === undefined) return
  t.equal(summary.sites[0]?.site, marked.site, 'and the largest one')
  t.match(marked.site, /child\.mjs:\d+$/, 'with its script and line')
  // Sampling is statistical (one sample per 4 KiB on average); these arrays are
  // larger than the interval, so nearly every one is sampled.
  t.ok(marked.bytes >= expected * 0.9 && marked.bytes <= expected * 1.15, `about ${expected} bytes counted (got ${marked.bytes})`)
  t.ok(summary.totalBytes >= marked.bytes, 'the total includes every site')
})

t.test('a malformed profile is refused with a clear error', async (t) => {
  t.throws(() => summarizeAllocProfile('[]'), /no head node/)
  t.throws(() => summarizeAllocProfile('{"head":{"callFrame":{},"children":[]}}'), /lacks callFrame, selfSize or children/)
  t.throws(() => summarizeAllocProfile('{"head":'), SyntaxError)
  const dir = t.testdir({})
  const file = join(dir, 'p.json')
  writeFileSync(file, JSON.stringify({ head: { callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, selfSize: 0, children: [{ callFrame: { functionName: '', url: 'file:///x/dist/a.js', lineNumber: 4 }, selfSize: 10, children: [] }] } }))
  t.same(summarizeAllocProfile(readFileSync(file, 'utf8')), { totalBytes: 10, sites: [{ site: '(anonymous) dist/a.js:5', bytes: 10 }] }, 'line numbers are shown 1-based')
})

t.test('script names are shortened to what a reader needs', async (t) => {
  t.equal(shortScript('file:///work/main/dist/router/src/log.js'), 'dist/router/src/log.js')
  t.equal(shortScript('file:///w/node_modules/undici/index.js'), 'node_modules/undici/index.js')
  t.equal(shortScript('node:internal/streams/writable'), 'node:streams/writable')
  t.equal(shortScript('node:events'), 'node:events')
})
