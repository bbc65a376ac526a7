// `npm start` as a user runs it (dist/infra/local/src/start.js, built by
// pretest): router variables pass through (API discovery and round-robin
// here), a stack file adds a deployment and registers a service the test runs
// itself, the echo deployment echoes, Ctrl-C stops cleanly; bad input exits 1
// naming what is wrong before anything starts.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { parseStartOptions } from '../../infra/local/src/start-options.js'

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const START = join(ROOT, 'dist/infra/local/src/start.js')
const BASE_ENV = { PATH: process.env.PATH ?? '', PORT: '0', ADMIN_PORT: '0', EMULATOR_API_PORT: '0', EMULATOR_DNS_PORT: '0', MEDIA_ADMIN_PORT: '0' }

interface Ready {
  routerUrl: string
  adminUrl: string
  emulatorApi: string
  discoveryMode: string
  deployments: string[]
  services: string[]
}

function runStart(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [START, ...args], { cwd: ROOT, env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const ready = new Promise<Ready>((res, rej) => {
    let buf = ''
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString()
      let i: number
      while ((i = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        lines.push(line)
        if (line.includes('"msg":"local stack ready"')) res(JSON.parse(line) as Ready)
      }
    })
    void exited.then((code) => rej(new Error(`npm start exited ${String(code)}: ${stderr}`)))
  })
  return { child, lines, exited, ready, stderr: () => stderr }
}

t.test('router variables pass through; a stack file adds deployments and your own service', async (t) => {
  const seen: string[] = []
  const mine = createServer((req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`)
    res.end('from my own service')
  })
  await new Promise<void>((r) => mine.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => mine.close(() => r())))
  const dir = mkdtempSync(join(tmpdir(), 'start-test-'))
  const file = join(dir, 'stack.json')
  writeFileSync(file, JSON.stringify({ deployments: [{ name: 'blue', instances: 2 }], services: [{ service: 'mine', port: (mine.address() as AddressInfo).port }] }))

  const run = runStart(['--stack', file], { DISCOVERY_MODE: 'cloudmap', SERVICES_BALANCER: 'round-robin', ACCESS_LOG: 'false' })
  t.teardown(() => void run.child.kill('SIGKILL'))
  const ready = await run.ready
  t.equal(ready.discoveryMode, 'cloudmap')
  t.same(ready.deployments, ['hello', 'echo', 'blue'])
  t.same(ready.services, [`mine/mine-${(mine.address() as AddressInfo).port}`])

  const r = await request(`${ready.routerUrl}/services/mine/hi?x=1`)
  t.equal(r.statusCode, 200)
  t.equal(await r.body.text(), 'from my own service')
  t.same(seen, ['GET /hi?x=1'])

  // Round-robin alternates strictly; P2C between two idle instances would not (1 in 128 for 8 in a row).
  const order: string[] = []
  for (let i = 0; i < 8; i++) {
    const b = await request(`${ready.routerUrl}/services/blue/`)
    order.push(((await b.body.json()) as { instance: string }).instance)
  }
  for (let i = 1; i < order.length; i++) t.not(order[i], order[i - 1], `request ${i} went to the other instance`)

  const echo = await request(`${ready.routerUrl}/services/echo/a/b?q=1&q=2&z=`, { method: 'PUT', body: '{"hello":"world"}', headers: { 'content-type': 'application/json', 'x-mine': 'yes' } })
  t.match(await echo.body.json(), { deployment: 'echo', method: 'PUT', path: '/a/b', query: { q: ['1', '2'], z: '' }, headers: { 'x-mine': 'yes', 'content-type': 'application/json', 'x-forwarded-prefix': '/services/echo' }, body: '{"hello":"world"}' })
  const blue = await request(`${ready.routerUrl}/services/blue/x`, { method: 'POST', body: Buffer.from([0xff, 0x00]) })
  t.match(await blue.body.json(), { deployment: 'blue', bodyBase64: '/wA=' }, 'stack file deployments echo too; non-UTF-8 bodies as base64')

  // The router's own start-up line (its log is written asynchronously, so it is checked last).
  t.ok(run.lines.some((l) => l.includes('"msg":"router listening"') && l.includes('"discovery":"cloudmap"')), 'the router runs API discovery')

  run.child.kill('SIGINT')
  t.equal(await run.exited, 0)
  t.ok(run.lines.includes('stopped cleanly'))
})

t.test('bad input exits 1 naming the problem, before anything listens', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'start-test-'))
  const bad = join(dir, 'bad.json')
  writeFileSync(bad, '{"services": [{"service": "mine", "port": "3000"}]}')
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['--stack', bad], {}, /bad\.json: services\[0\]\.port: expected an integer 1\.\.65535, got "3000"/],
    [[], { STACK_FILE: join(dir, 'missing.json') }, /cannot read the stack file .*missing\.json/],
    [[], { ROUTER_WORKERS: '2' }, /ROUTER_WORKERS: npm start runs the router inside its own process/],
    [[], { SERVICES_BALANCER: 'fastest' }, /SERVICES_BALANCER/],
  ]
  // In parallel: each is a Node process loading the AWS SDK.
  const runs = cases.map(([args, env, message]) => {
    const run = runStart(args, env)
    run.ready.catch(() => undefined)
    return { run, args, env, message }
  })
  for (const { run, args, env, message } of runs) {
    t.equal(await run.exited, 1, `${args.join(' ')} ${JSON.stringify(env)} exits 1`)
    t.match(run.stderr(), message)
    t.notOk(run.lines.some((l) => l.includes('listening')), 'nothing started')
  }
})

t.test('npm start options: --stack, STACK_FILE, emulator ports fixed by default', async (t) => {
  t.same(parseStartOptions([], {}), { stackFile: undefined, emulatorApiPort: 9600, emulatorDnsPort: 9653, mediaAdminPort: 9101, help: false })
  t.same(parseStartOptions(['--stack', 'a.json'], { STACK_FILE: 'b.json', EMULATOR_API_PORT: '0', EMULATOR_DNS_PORT: '5353' }), { stackFile: 'a.json', emulatorApiPort: 0, emulatorDnsPort: 5353, mediaAdminPort: 9101, help: false })
  t.equal(parseStartOptions(['--stack=c.json'], {}).stackFile, 'c.json')
  t.equal(parseStartOptions([], { STACK_FILE: 'b.json' }).stackFile, 'b.json')
  t.equal(parseStartOptions(['-h'], {}).help, true)
  t.throws(() => parseStartOptions(['--stak'], {}), { name: 'StartOptionsError', message: /^unknown argument "--stak"\nusage: npm start/ })
  t.throws(() => parseStartOptions(['--stack'], {}), { message: /^--stack needs a file name/ })
  t.throws(() => parseStartOptions(['--stack='], {}), { message: /^--stack needs a file name/ })
  t.throws(() => parseStartOptions([], { EMULATOR_API_PORT: 'x' }), { message: /^EMULATOR_API_PORT: expected a port number 0\.\.65535, got "x"/ })
  t.throws(() => parseStartOptions([], { EMULATOR_DNS_PORT: '65536' }), { message: /^EMULATOR_DNS_PORT/ })
})
