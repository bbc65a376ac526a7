// The emulator CLI: configuration parsing (table), and the real process:
// one JSON "listening" line, SIGTERM closes cleanly and saves the state,
// a bad variable exits 1 naming it.

import t from 'tap'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { ConfigError, DEFAULT_API_PORT, DEFAULT_DNS_PORT, parseCliConfig } from '../../infra/local/src/emulator/cli-config.js'
import { emulatorClient, ensurePrivateDnsNamespace } from '../../infra/local/src/emulator/sdk-setup.js'
import { isObject } from '../../infra/local/src/emulator/validate.js'

const MAIN = new URL('../../infra/local/src/emulator/main.ts', import.meta.url).pathname

t.test('parseCliConfig', async (t) => {
  t.same(parseCliConfig([], {}), { host: '127.0.0.1', apiPort: DEFAULT_API_PORT, dnsPort: DEFAULT_DNS_PORT })
  t.same(parseCliConfig([], { EMULATOR_HOST: '0.0.0.0', EMULATOR_API_PORT: '0', EMULATOR_DNS_PORT: '5353', EMULATOR_STATE_FILE: '/tmp/s.json' }), {
    host: '0.0.0.0',
    apiPort: 0,
    dnsPort: 5353,
    stateFile: '/tmp/s.json',
  })
  t.equal(parseCliConfig(['--state', 'a.json'], { EMULATOR_STATE_FILE: 'b.json' }).stateFile, 'a.json', 'flag wins')
  t.equal(parseCliConfig(['--state=c.json'], {}).stateFile, 'c.json')
  const bad: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [[], { EMULATOR_API_PORT: 'http' }, /EMULATOR_API_PORT/],
    [[], { EMULATOR_DNS_PORT: '70000' }, /EMULATOR_DNS_PORT/],
    [[], { EMULATOR_DNS_PORT: '-1' }, /EMULATOR_DNS_PORT/],
    [[], { EMULATOR_HOST: 'not a host' }, /EMULATOR_HOST/],
    [['--state'], {}, /--state/],
    [['--verbose'], {}, /unknown argument/],
  ]
  for (const [argv, env, message] of bad) t.throws(() => parseCliConfig(argv, env), { name: 'ConfigError', message }, `${argv.join(' ')} ${JSON.stringify(env)}`)
  t.ok(new ConfigError('x') instanceof Error)
})

function run(env: NodeJS.ProcessEnv, args: string[] = []): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
}

function exitCode(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)))
}

t.test('the process logs where it listens, and SIGTERM saves the state', async (t) => {
  const dir = t.testdir({})
  const stateFile = join(dir, 'state.json')
  const child = run({ EMULATOR_API_PORT: '0', EMULATOR_DNS_PORT: '0' }, ['--state', stateFile])
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const exited = exitCode(child)
  const stdout = child.stdout
  if (stdout === null) throw new Error('no stdout')
  const lines = createInterface({ input: stdout })
  let listening: Record<string, unknown> | undefined
  for await (const line of lines) {
    const entry: unknown = JSON.parse(line)
    if (isObject(entry) && entry['msg'] === 'cloud map emulator listening') {
      listening = { ...entry }
      break
    }
  }
  t.match(listening, { api: /^http:\/\/127\.0\.0\.1:\d+$/, dns: { host: '127.0.0.1', port: Number }, stateFile })
  const api = listening?.['api']
  if (typeof api !== 'string') throw new Error('no api endpoint logged')
  const client = emulatorClient(api)
  await ensurePrivateDnsNamespace(client, 'cli.local')
  client.destroy()
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'clean exit')
  t.match(JSON.parse(await readFile(stateFile, 'utf8')), { namespaces: [{ name: 'cli.local' }] })
})

t.test('a bad variable exits 1 naming it', async (t) => {
  const child = run({ EMULATOR_API_PORT: 'abc' })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  t.equal(await exitCode(child), 1)
  t.match(stderr, /EMULATOR_API_PORT/)
})
