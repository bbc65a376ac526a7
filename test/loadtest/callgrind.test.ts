// The pure parts of npm run bench:instr against real callgrind output: totals
// read from files callgrind wrote for a tiny real program (/bin/true), checked
// against callgrind_annotate's PROGRAM TOTALS (the reference reader); the
// per-request arithmetic; and the callgrind_control round trip (instrumentation
// on, zero, dump) on a real valgrind process whose HOST differs from ours —
// vgdb names its FIFOs after HOST, which once made every dump silently go
// missing for the router (HOST is its listen address).

import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { callgrindLauncher, callgrindTotals, dumpCounts, haveCallgrind, instructionsOf, instrumentationOn, perRequest, spread, zeroCounts } from '../../loadtest/src/bench/callgrind.js'

const skip = haveCallgrind() ? false : 'valgrind is not installed (loadtest/scripts/install-valgrind.sh)'

/** The first number on callgrind_annotate's PROGRAM TOTALS line (the first event, Ir). */
function annotateIr(file: string): bigint {
  const r = spawnSync('callgrind_annotate', [file], { encoding: 'utf8' })
  const line = r.stdout.split('\n').find((l) => l.includes('PROGRAM TOTALS'))
  const m = line !== undefined ? /^\s*([\d,]+)/.exec(line) : null
  if (m?.[1] === undefined) throw new Error(`no PROGRAM TOTALS in callgrind_annotate output: ${r.stdout.slice(0, 500)} ${r.stderr}`)
  return BigInt(m[1].replace(/,/g, ''))
}

function runCallgrind(dir: string, name: string, extra: readonly string[]): string {
  const out = join(dir, name)
  const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, ...extra, '/bin/true'], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`valgrind failed: ${r.stderr}`)
  return out
}

t.test('totals of real callgrind files match callgrind_annotate', { skip, timeout: 60_000 }, async (t) => {
  const dir = t.testdir({})
  for (const [name, extra, events] of [
    ['ir-only.out', [], ['Ir']],
    ['cache-sim.out', ['--cache-sim=yes'], ['Ir', 'Dr', 'Dw', 'I1mr', 'D1mr', 'D1mw', 'ILmr', 'DLmr', 'DLmw']],
  ] as const) {
    const file = runCallgrind(dir, name, extra)
    const text = readFileSync(file, 'utf8')
    const totals = callgrindTotals(text)
    t.same([...totals.keys()], events, `${name}: every event named`)
    const ir = instructionsOf(text)
    t.ok(ir > 10_000n, `${name}: /bin/true ran ${ir} instructions`)
    t.equal(ir, annotateIr(file), `${name}: Ir equals callgrind_annotate's total`)
  }
})

t.test('malformed callgrind text is refused with a clear error', async (t) => {
  t.throws(() => instructionsOf('hello\n'), /no "events:" line/)
  t.throws(() => instructionsOf('# callgrind format\nevents: Ir\nfn=main\n1 5\n'), /no "totals:" or "summary:"/)
  t.throws(() => instructionsOf('events: Ir\nsummary: 12x\n'), /not a count/)
  t.throws(() => instructionsOf('events: Dr\nsummary: 12\n'), /no "Ir" event/)
  t.equal(instructionsOf('events: Ir Dr\nsummary: 12\n'), 12n, 'trailing zero events may be left out')
  t.same(callgrindTotals('events: Ir Dr\nsummary: 12\n').get('Dr'), 0n)
})

t.test('per-request arithmetic', async (t) => {
  t.equal(perRequest(1_830_000_000n, 6000), 305_000)
  t.equal(perRequest(7n, 2), 4, 'rounded to whole instructions')
  t.throws(() => perRequest(1n, 0), /positive integer/)
  t.same(spread([305_432, 305_429, 305_440]), { min: 305_429, median: 305_432, max: 305_440, spread: 11 / 305_432 })
  t.same(spread([1, 3]), { min: 1, median: 2, max: 3, spread: 1 })
  t.throws(() => spread([]), /no values/)
})

t.test('callgrind_control round trip on a process with another HOST', { skip, timeout: 120_000 }, async (t) => {
  const dir = t.testdir({})
  const base = join(dir, 'sleeper.callgrind')
  const launcher = callgrindLauncher(base)
  const [cmd, ...args] = launcher
  if (cmd === undefined) throw new Error('empty launcher')
  const child = spawn(cmd, [...args, '/bin/sleep', '60'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HOST: '127.0.0.1', USER: 'bench' } })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const pid = child.pid
  if (pid === undefined) throw new Error('valgrind did not start')
  const deadline = Date.now() + 60_000
  // valgrind is ready for callgrind_control once it says so on stderr.
  while (!stderr.includes('callgrind_control')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`valgrind not ready: ${stderr}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  instrumentationOn(pid, base)
  zeroCounts(pid, base)
  const text = await dumpCounts(pid, base, 60_000)
  t.match(text, /^# callgrind format/, 'a callgrind dump')
  t.match(text, /^desc: Trigger: .*bench-instr/m, 'the dump we asked for')
  t.ok(instructionsOf(text) >= 0n, 'its Ir total reads')
  t.ok(existsSync(`${base}.${pid}.1`), 'written as part 1 next to the base name')
  child.kill('SIGKILL')
  await once(child, 'exit')
})
