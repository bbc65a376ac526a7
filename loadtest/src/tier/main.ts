// `npm run tier` — the whole tier on several hosts (Linux network namespaces
// on one bridge), under load, with faults. This launcher runs in the root
// namespace: it installs iproute2 and HAProxy when missing, removes what a
// killed earlier run left, builds the hosts, runs the conductor on the client
// host, and tears every namespace, veth and process down afterwards — also
// on Ctrl-C, SIGTERM or a crash. Where namespaces cannot be made it prints
// `SKIPPED: <reason>` and exits 0.
//   npm run tier [-- --full] [--json <file>] [--scenarios id,id]

import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { OptionError, mergeOptions, parseFlags, readBool, readOptionalString } from '../lib/options.js'
import { canMakeNamespaces, createTopology, existingNamespaces, removeNamespaces } from './netns.js'
import { checkInterfaceNames, hostNamed, tierHosts } from './plan.js'

const BASE_DIR = '/tmp/er-tier'
const PID_FILE = join(BASE_DIR, 'launcher.pid')
const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..', '..', '..', '..')

function say(msg: string): void {
  process.stderr.write(`[tier] ${msg}\n`)
}

function skip(reason: string): never {
  process.stdout.write(`SKIPPED: ${reason}\n`)
  process.exit(0)
}

/** True when `pid` is a live tier launcher (not this one). */
function otherLauncherAlive(pid: number): boolean {
  if (pid === process.pid) return false
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('tier/main')
  } catch {
    return false
  }
}

let tornDown = false
function teardown(): void {
  if (tornDown) return
  tornDown = true
  const own = existingNamespaces()
  const r = removeNamespaces(own)
  const left = existingNamespaces()
  say(`teardown: ${r.namespaces} namespaces removed, ${r.killed} processes killed${left.length > 0 ? `; STILL PRESENT: ${left.join(' ')}` : ''}`)
  try {
    if (existsSync(PID_FILE) && readFileSync(PID_FILE, 'utf8').trim() === String(process.pid)) rmSync(PID_FILE)
  } catch {
    // best effort
  }
}

function main(): void {
  let full: boolean
  let json: string | undefined
  let scenarios: string
  try {
    const o = mergeOptions({}, parseFlags(process.argv.slice(2)), ['FULL', 'JSON', 'SCENARIOS'])
    full = readBool(o, 'FULL', false)
    json = readOptionalString(o, 'JSON')
    scenarios = readOptionalString(o, 'SCENARIOS') ?? ''
  } catch (err) {
    if (err instanceof OptionError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  if (process.platform !== 'linux') skip(`network namespaces need Linux (this is ${process.platform})`)
  if (process.getuid?.() !== 0) skip('network namespaces need root')

  const deps = spawnSync('bash', [join(repoRoot, 'loadtest/scripts/install-tier-deps.sh')], { stdio: ['ignore', 'inherit', 'inherit'] })
  if (deps.status === 3) skip('iproute2/haproxy are missing and cannot be installed here')
  if (deps.status !== 0) {
    say(`installing iproute2/haproxy failed (exit ${deps.status ?? deps.signal ?? '?'})`)
    process.exit(1)
  }

  mkdirSync(BASE_DIR, { recursive: true })
  if (existsSync(PID_FILE)) {
    const pid = Number(readFileSync(PID_FILE, 'utf8').trim())
    if (Number.isInteger(pid) && otherLauncherAlive(pid)) {
      say(`another tier run is active (pid ${pid}); not touching its namespaces`)
      process.exit(1)
    }
  }
  writeFileSync(PID_FILE, String(process.pid))
  process.on('exit', teardown)

  const stale = existingNamespaces()
  if (stale.length > 0) {
    const r = removeNamespaces(stale)
    say(`removed a previous run's leftovers: ${r.namespaces} namespaces, ${r.killed} processes`)
  }
  const can = canMakeNamespaces()
  if (!can.ok) {
    teardown()
    skip(can.reason)
  }

  for (const old of readdirSync(BASE_DIR)) if (old.startsWith('run-')) rmSync(join(BASE_DIR, old), { recursive: true, force: true })
  const runDir = join(BASE_DIR, `run-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  mkdirSync(runDir, { recursive: true })
  const hosts = tierHosts()
  checkInterfaceNames(hosts)
  try {
    createTopology(hosts)
  } catch (err) {
    say(`building the network failed: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
  say(`${hosts.length} hosts on 10.77.0.0/24; logs in ${runDir}`)

  const jsonPath = resolve(json ?? join(runDir, 'tier.json'))
  const client = hostNamed(hosts, 'client')
  const conductor = spawn('ip', ['netns', 'exec', client.netns, process.execPath, join(here, 'conductor.js'), runDir, full ? '1' : '0', jsonPath, scenarios], { stdio: 'inherit' })
  let signalled = false
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) return
    signalled = true
    say(`${sig}: stopping the run`)
    conductor.kill(sig)
    setTimeout(() => {
      say('the conductor did not stop within 20 s; tearing down anyway')
      process.exit(130)
    }, 20_000).unref()
  }
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('uncaughtException', (err) => {
    say(`launcher crashed: ${err.stack ?? err.message}`)
    process.exit(1)
  })
  conductor.on('exit', (code, signal) => {
    process.exit(signalled ? 130 : code ?? (signal !== null ? 1 : 1))
  })
}

main()
