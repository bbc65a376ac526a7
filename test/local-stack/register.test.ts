// `npm run register`: its command line (table-tested) and what it does against
// a real emulator — registration with attributes, deregistration, and a clear
// error for each way it can go wrong.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DiscoverInstancesCommand } from '@aws-sdk/client-servicediscovery'
import { parseRegisterArgs, RegisterUsageError } from '../../infra/local/src/register-args.js'
import { deregisterService, registerClient, RegisterError, registerService } from '../../infra/local/src/register-service.js'
import { emulatorClient, ensurePrivateDnsNamespace } from '../../infra/local/src/emulator/sdk-setup.js'
import { startEmulator } from '../../infra/local/src/emulator/index.js'

t.test('command line', async (t) => {
  t.same(parseRegisterArgs(['--service', 'myapp', '--port', '3000'], {}), {
    action: 'register', service: 'myapp', host: '127.0.0.1', port: 3000, id: 'myapp-3000', attributes: {}, endpoint: 'http://127.0.0.1:9600', namespace: 'ecs.internal', check: true,
  })
  t.match(parseRegisterArgs(['--service=myapp', '--port=3000', '--host', '10.0.0.5', '--attr', 'weight=3', '--attr', 'version=a=b', '--no-check'], { EMULATOR_ENDPOINT: 'http://127.0.0.1:1234', CLOUDMAP_NAMESPACE: 'svc.local' }), {
    host: '10.0.0.5', id: 'myapp-10-0-0-5-3000', attributes: { weight: '3', version: 'a=b' }, endpoint: 'http://127.0.0.1:1234', namespace: 'svc.local', check: false,
  })
  t.match(parseRegisterArgs(['--service', 'media', '--port', '9000', '--id', 'node-9', '--endpoint', 'http://x:1', '--namespace', 'n.local'], { EMULATOR_ENDPOINT: 'http://y:2' }), { id: 'node-9', endpoint: 'http://x:1', namespace: 'n.local' })
  t.match(parseRegisterArgs(['--deregister', '--service', 'myapp', '--id', 'myapp-3000'], {}), { action: 'deregister', id: 'myapp-3000', port: undefined })
  t.equal(parseRegisterArgs(['--help'], {}), 'help')
  const bad: Array<[string[], RegExp]> = [
    [[], /^--service is required/],
    [['--service', 'myapp'], /^--port is required/],
    [['--service', 'My_App', '--port', '1'], /^--service: expected a DNS label/],
    [['--service', 'a', '--port', '0'], /^--port: expected a port number 1\.\.65535, got "0"/],
    [['--service', 'a', '--port', 'http'], /^--port: expected a port number/],
    [['--service', 'a', '--port', '1', '--host', 'localhost'], /^--host: expected an IPv4 address/],
    [['--service', 'a', '--port', '1', '--attr', 'noequals'], /^--attr: expected key=value/],
    [['--service', 'a', '--port', '1', '--attr', 'AWS_INSTANCE_PORT=2'], /^--attr AWS_INSTANCE_PORT: AWS_\* attributes/],
    [['--service', 'a', '--port', '1', '--id', 'a.b'], /^--id: expected a DNS label/],
    [['--service', 'a', '--port', '1', '--port', '2'], /^--port given twice/],
    [['--service', 'a', '--port'], /^--port needs a value/],
    [['--service', 'a', '--port', '1', '--frobnicate'], /^unknown argument "--frobnicate"/],
    [['--service', 'a', '--port', '1', '--endpoint', 'nope'], /^--endpoint: expected a URL/],
    [['--service', 'a', '--port', '1', '--endpoint', 'ftp://x'], /^--endpoint: expected an http\(s\) URL/],
    [['--deregister', '--service', 'a'], /^--deregister needs --port/],
    [['--service', 'media', '--port', '9000'], /^--service media needs --id NODE/],
    [['--no-check=yes', '--service', 'a', '--port', '1'], /^--no-check takes no value/],
  ]
  for (const [argv, message] of bad) t.throws(() => parseRegisterArgs(argv, {}), { name: 'RegisterUsageError', message }, argv.join(' '))
  t.ok(new RegisterUsageError('x') instanceof Error)
})

t.test('register and deregister against the emulator, with clear errors', async (t) => {
  const emu = await startEmulator({ log: () => undefined })
  const admin = emulatorClient(emu.apiEndpoint)
  const client = registerClient(emu.apiEndpoint)
  const svc = createServer((_req, res) => res.end('mine'))
  await new Promise<void>((r) => svc.listen(0, '127.0.0.1', r))
  t.teardown(async () => {
    client.destroy()
    admin.destroy()
    await emu.close()
    await new Promise<void>((r) => svc.close(() => r()))
  })
  const port = (svc.address() as AddressInfo).port
  const cmd = (argv: string[]) => {
    const parsed = parseRegisterArgs(argv, { EMULATOR_ENDPOINT: emu.apiEndpoint })
    if (parsed === 'help') throw new Error('unexpected help')
    return parsed
  }

  await t.rejects(registerService(cmd(['--service', 'myapp', '--port', String(port)]), client), { name: 'RegisterError', message: /no namespace "ecs\.internal" at http:\/\/127\.0\.0\.1:\d+ \(it has: none\)/ })
  await ensurePrivateDnsNamespace(admin, 'ecs.internal')

  const lines = await registerService(cmd(['--service', 'myapp', '--port', String(port), '--attr', 'weight=3']), client)
  t.match(lines[0], `registered myapp-${port} (127.0.0.1:${port}) in service myapp of ecs.internal`)
  t.match(lines[1], 'the router reaches it at /services/myapp/')
  const found = await admin.send(new DiscoverInstancesCommand({ NamespaceName: 'ecs.internal', ServiceName: 'myapp' }))
  t.same(found.Instances?.map((i) => i.Attributes), [{ weight: '3', AWS_INSTANCE_IPV4: '127.0.0.1', AWS_INSTANCE_PORT: String(port) }])

  t.same(await deregisterService(cmd(['--deregister', '--service', 'myapp', '--port', String(port)]), client), [`deregistered myapp-${port} from service myapp of ecs.internal`])
  const after = await admin.send(new DiscoverInstancesCommand({ NamespaceName: 'ecs.internal', ServiceName: 'myapp' }))
  t.equal(after.Instances?.length, 0)
  await t.rejects(deregisterService(cmd(['--deregister', '--service', 'myapp', '--port', String(port)]), client), { message: new RegExp(`no instance "myapp-${port}" in service myapp`) })
  await t.rejects(deregisterService(cmd(['--deregister', '--service', 'other', '--id', 'x']), client), { message: /no service "other" in ecs\.internal/ })

  // Nothing listening on the port (a server closed just now), and the check switched off.
  const gone = createServer()
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r))
  const closedPort = (gone.address() as AddressInfo).port
  await new Promise<void>((r) => gone.close(() => r()))
  await t.rejects(registerService(cmd(['--service', 'later', '--port', String(closedPort)]), client), { message: new RegExp(`nothing accepts connections on 127\\.0\\.0\\.1:${closedPort} \\(ECONNREFUSED\\): start your service first, or pass --no-check`) })
  t.match(await registerService(cmd(['--service', 'later', '--port', String(closedPort), '--no-check']), client), [/registered later-/])

  // No emulator at the endpoint.
  const nowhere = registerClient(`http://127.0.0.1:${closedPort}`)
  t.teardown(() => nowhere.destroy())
  await t.rejects(registerService({ ...cmd(['--service', 'myapp', '--port', String(port)]), endpoint: `http://127.0.0.1:${closedPort}` }, nowhere), {
    message: new RegExp(`cannot reach the Cloud Map emulator at http://127\\.0\\.0\\.1:${closedPort} \\(ECONNREFUSED\\): is \`npm start\` running\\?`),
  })
  t.ok(new RegisterError('x') instanceof Error)
})
