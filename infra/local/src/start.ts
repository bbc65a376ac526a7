// `npm start`: run the local stack in the foreground, print what to try, and
// stop cleanly on Ctrl-C (the router stops, backends and nodes deregister).
// Env: PORT (8080), ADMIN_PORT (9090), ADMIN_TOKEN.

import { startDevStack } from './dev-stack.js'

function port(name: string, def: number): number {
  const v = process.env[name]
  if (v === undefined || v === '') return def
  if (!/^\d+$/.test(v) || Number(v) > 65535) {
    process.stderr.write(`${name}: expected a port number, got "${v}"\n`)
    process.exit(1)
  }
  return Number(v)
}

async function main(): Promise<void> {
  const stack = await startDevStack({
    routerPort: port('PORT', 8080),
    adminPort: port('ADMIN_PORT', 9090),
    ...(process.env.ADMIN_TOKEN !== undefined && process.env.ADMIN_TOKEN !== '' ? { adminToken: process.env.ADMIN_TOKEN } : {}),
  })
  const u = stack.routerUrl
  const [dep] = stack.deployments
  const [node] = stack.mediaNodes
  const banner = [
    '',
    '  Local stack is up: Cloud Map emulator, demo deployments and media nodes registered through the AWS SDK,',
    '  and the router resolving them through the emulator DNS. No routes configured anywhere.',
    '',
    `  Emulator API  ${stack.emulator.apiEndpoint}   DNS  ${stack.emulator.dns.host}:${stack.emulator.dns.port} (udp+tcp)`,
    `  Deployments   ${stack.deployments.join(', ')}`,
    `  Media nodes   ${stack.mediaNodes.join(', ')}`,
    '',
    '  Try:',
    `    curl -s ${u}/services/${dep ?? 'hello'}/anything?x=1        # repeat it: hello-1 and hello-2 both answer`,
    `    curl -s ${u}/media/${node ?? 'node-1'}/status`,
    `    curl -s ${u}/services/nope/x                    # 404 JSON: unknown deployment`,
    `    curl -s ${u}/services/Bad.Name/x                # 400 JSON: not a DNS label, no lookup made`,
    `    curl -s ${stack.adminUrl}/metrics | grep router_`,
    `    curl -s ${stack.mediaNodeAdminUrls[0] ?? ''}/metrics | grep media_node_   # each media node's admin port`,
    `    curl -s -H 'authorization: Bearer ${stack.adminToken}' ${stack.adminUrl}/admin/routes`,
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
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
