// `npm start`: run the local stack in the foreground, print what to try, and
// stop cleanly on Ctrl-C (the router stops, backends and nodes deregister).
// Options: `--stack <file>` / STACK_FILE (stack-file.ts), EMULATOR_API_PORT
// (9600), EMULATOR_DNS_PORT (9653); every router variable passes through to
// the router (router-env.ts), e.g. DISCOVERY_MODE=cloudmap or PORT.
// MEDIA_ADMIN_PORT (9101): node-1's admin listener, node-2 on the next port (same token).

import { readFileSync } from 'node:fs'
import { startDevStack } from './dev-stack.js'
import { pickRouterVariables } from './router-env.js'
import { parseStackFile, type StackFile } from './stack-file.js'
import { parseStartOptions, START_USAGE } from './start-options.js'
import { createLogger } from '../../../router/src/log.js'
import { quietSdkNodeNotice } from '../../../router/src/discovery/sdk-logger.js'

function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`)
  process.exit(1)
}

function readStackFile(file: string): StackFile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    fail(`cannot read the stack file ${file}: ${err instanceof Error ? err.message : String(err)}`)
  }
  return parseStackFile(text, file)
}

async function main(): Promise<void> {
  const options = parseStartOptions(process.argv.slice(2), process.env)
  if (options.help) {
    process.stdout.write(`${START_USAGE}\n`)
    return
  }
  const stackFile = options.stackFile === undefined ? undefined : readStackFile(options.stackFile)
  const routerEnv = pickRouterVariables(process.env)
  // The router's Cloud Map client takes the SDK's default credentials; the emulator accepts any.
  if (routerEnv['DISCOVERY_MODE'] === 'cloudmap' && (process.env.AWS_ACCESS_KEY_ID ?? '') === '') {
    process.env.AWS_ACCESS_KEY_ID = 'local'
    process.env.AWS_SECRET_ACCESS_KEY = 'local'
  }
  // The SDK's plain-text notice about Node < 22 becomes one JSON line (as in the router).
  quietSdkNodeNotice(createLogger({ base: { component: 'local-stack' } }))
  const stack = await startDevStack({
    emulatorApiPort: options.emulatorApiPort,
    emulatorDnsPort: options.emulatorDnsPort,
    routerEnv,
    ...(stackFile !== undefined ? { stackFile } : {}),
    mediaAdminPort: options.mediaAdminPort,
  })
  const u = stack.routerUrl
  const env = stack.routerEnv
  const [dep] = stack.deployments
  const [node] = stack.mediaNodes
  const api = stack.emulator.apiEndpoint
  process.stdout.write(
    `${JSON.stringify({
      time: new Date().toISOString(),
      component: 'local-stack',
      level: 'info',
      msg: 'local stack ready',
      routerUrl: u,
      adminUrl: stack.adminUrl,
      emulatorApi: api,
      emulatorDns: `${stack.emulator.dns.host}:${stack.emulator.dns.port}`,
      discoveryMode: env['DISCOVERY_MODE'],
      deployments: stack.deployments,
      mediaNodes: stack.mediaNodes,
      services: stack.services.map((s) => `${s.service}/${s.id}`),
    })}\n`,
  )
  const passed = Object.keys(routerEnv).sort()
  const banner = [
    '',
    '  Local stack is up: Cloud Map emulator, demo deployments and media nodes registered through the AWS SDK,',
    `  and the router resolving them (DISCOVERY_MODE=${env['DISCOVERY_MODE'] ?? 'dns'}${env['STATIC_DISCOVERY_FILE'] !== undefined ? `, ${env['STATIC_DISCOVERY_FILE']}` : ''}). No routes configured anywhere.`,
    '',
    `  Emulator API  ${api}   DNS  ${stack.emulator.dns.host}:${stack.emulator.dns.port} (udp+tcp)`,
    `  Deployments   ${stack.deployments.join(', ') || '(none)'}`,
    `  Media nodes   ${stack.mediaNodes.join(', ') || '(none)'}`,
    ...(stack.services.length > 0 ? [`  Your services ${stack.services.map((s) => `${s.service}/${s.id} (${s.host}:${s.port})`).join(', ')}`] : []),
    `  Router vars   ${passed.length > 0 ? `passed through: ${passed.join(', ')}` : 'none set; any router variable (README) passes through'}`,
    `  Node admin    ${stack.mediaNodes.map((n, i) => `${n} ${stack.mediaNodeAdminUrls[i] ?? '?'}`).join(', ')}   (POST /admin/drain, GET /status; same bearer token)`,
    '',
    '  Try:',
    `    curl -s ${u}/services/${dep ?? 'hello'}/anything?x=1        # repeat it: hello-1 and hello-2 both answer`,
    `    curl -s -d '{"a":1}' ${u}/services/echo/path?q=1       # the echo deployment echoes the request`,
    `    curl -s ${u}/media/${node ?? 'node-1'}/status`,
    `    curl -s ${u}/services/nope/x                    # 404 JSON: unknown deployment`,
    `    curl -s ${u}/services/Bad.Name/x                # 400 JSON: not a DNS label, no lookup made`,
    `    curl -s ${stack.adminUrl}/metrics | grep router_`,
    `    curl -s ${stack.mediaNodeAdminUrls[0] ?? ''}/metrics | grep media_node_   # each media node's admin port`,
    `    curl -s -H 'authorization: Bearer ${stack.adminToken}' ${stack.adminUrl}/admin/routes`,
    `    open ${stack.adminUrl}/admin/   # the admin dashboard; log in with the admin token (DISCOVERY_MODE=cloudmap for its drain button)`,
    '',
    '  Your own service behind the router (it runs on, say, port 3000):',
    `    npm run register -- --service myapp --port 3000${api === 'http://127.0.0.1:9600' ? '' : ` --endpoint ${api}`}   # then: curl -s ${u}/services/myapp/`,
    '',
    '  The AWS CLI against the emulator (DiscoverInstances needs the host prefix off, see README):',
    `    AWS_DISABLE_HOST_PREFIX_INJECTION=true AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \\`,
    `      aws servicediscovery discover-instances --endpoint-url ${api} --namespace-name ${env['CLOUDMAP_NAMESPACE'] ?? 'ecs.internal'} --service-name ${dep ?? 'hello'}`,
    '',
    '  WebSocket through the router (type lines; open it in two terminals to see the relay):',
    `    node dist/infra/local/src/ws-client.js ws://127.0.0.1:${stack.router.port()}/media/${node ?? 'node-1'}/ws/demo-session`,
    '',
    '  Ctrl-C stops everything and deregisters the backends.',
    '',
  ].join('\n')
  process.stdout.write(`${banner}\n`)
  let stopping = false
  const stop = (): void => {
    if (stopping) process.exit(1)
    stopping = true
    process.stdout.write('\nstopping: deregistering backends and media nodes...\n')
    stack
      .close()
      .then(() => {
        process.stdout.write('stopped cleanly\n')
        process.exit(0)
      })
      .catch((err: unknown) => {
        process.stderr.write(`stop failed: ${String(err)}\n`)
        process.exit(1)
      })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err)
  const taken = typeof err === 'object' && err !== null && Reflect.get(err, 'code') === 'EADDRINUSE'
  fail(taken ? `${message}: a port is taken (another npm start?); set PORT, ADMIN_PORT, EMULATOR_API_PORT or EMULATOR_DNS_PORT (0 = any free port)` : message)
})
