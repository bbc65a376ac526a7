// The README's "Put your own service behind the router" steps, performed as
// written against a real stack: a tiny HTTP service of the test's own on port 0
// stands in for step 1, the documented `npm run register` line runs (with that
// port) as a child process, and the documented curl URL is requested through
// the router. Then the documented deregistration removes it.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { request } from 'undici'
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery'
import { startDevStack } from '../../infra/local/src/dev-stack.js'
import { emulatorClient } from '../../infra/local/src/emulator/sdk-setup.js'

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8')
const run = promisify(execFile)

/** The fenced block after the own-service-steps marker. */
function documentedSteps(): string[] {
  const at = readme.indexOf('<!-- own-service-steps')
  const open = readme.indexOf('```sh\n', at)
  const close = readme.indexOf('```', open + 6)
  if (at === -1 || open === -1 || close === -1) throw new Error('README: own-service-steps block not found')
  return readme.slice(open + 6, close).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
}

/** argv of a documented `npm run register -- ...` line with the port replaced. */
function npmArgs(line: string, port: number): string[] {
  const words = line.split(/\s+/)
  t.same(words.slice(0, 3), ['npm', 'run', 'register'], line)
  t.ok(words.includes('3000'), 'the documented port is 3000')
  return words.slice(1).map((w) => (w === '3000' ? String(port) : w))
}

t.test('the two documented steps put a service of ours behind the router', async (t) => {
  const steps = documentedSteps()
  const register = steps.find((l) => l.startsWith('npm run register'))
  const curl = steps.find((l) => l.startsWith('curl'))
  t.ok(register !== undefined && curl !== undefined, 'README has the register and curl lines')
  if (register === undefined || curl === undefined) return
  const deregister = /`(npm run register -- --deregister [^`]+)`/.exec(readme)?.[1]
  t.ok(deregister !== undefined, 'README shows how to deregister')

  const stack = await startDevStack({ routerPort: 0, adminPort: 0, quiet: true })
  t.teardown(() => stack.close())
  // Step 1: our own service, on a port of the system's choosing.
  const seen: string[] = []
  const mine = createServer((req, res) => {
    seen.push(req.url ?? '')
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('my own service answers')
  })
  await new Promise<void>((r) => mine.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => mine.close(() => r())))
  const port = (mine.address() as AddressInfo).port

  // Step 2, exactly as documented (the test's stack has its own emulator port, hence EMULATOR_ENDPOINT).
  const env = { ...process.env, EMULATOR_ENDPOINT: stack.emulator.apiEndpoint }
  const out = await run('npm', npmArgs(register, port), { cwd: ROOT, env, timeout: 120_000 })
  t.match(out.stdout, `registered myapp-${port} (127.0.0.1:${port}) in service myapp of ecs.internal`)

  const url = /(http:\/\/127\.0\.0\.1:8080\S*)/.exec(curl)?.[1]
  t.ok(url !== undefined, 'curl line names the router on :8080')
  const r = await request((url ?? '').replace('http://127.0.0.1:8080', stack.routerUrl))
  t.equal(r.statusCode, 200)
  t.equal(await r.body.text(), 'my own service answers')
  t.same(seen, ['/'], 'the router stripped /services/myapp')

  await run('npm', npmArgs(deregister ?? '', port), { cwd: ROOT, env, timeout: 120_000 })
  const client = emulatorClient(stack.emulator.apiEndpoint)
  t.teardown(() => client.destroy())
  const left = await client.send(new DiscoverInstancesCommand({ NamespaceName: 'ecs.internal', ServiceName: 'myapp' }))
  t.equal(left.Instances?.length, 0, 'deregistered')
})
