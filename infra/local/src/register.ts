// `npm run register`: put a service you run behind the router of the local
// stack by registering its host:port in the Cloud Map emulator (or take it
// out with --deregister). Usage: register-args.ts. Exit 0 done, 1 failed,
// 2 bad usage.

import { parseRegisterArgs, REGISTER_USAGE, RegisterUsageError } from './register-args.js'
import { deregisterService, registerClient, RegisterError, registerService } from './register-service.js'

async function main(): Promise<number> {
  let cmd: ReturnType<typeof parseRegisterArgs>
  try {
    cmd = parseRegisterArgs(process.argv.slice(2), process.env)
  } catch (err) {
    if (!(err instanceof RegisterUsageError)) throw err
    process.stderr.write(`npm run register: ${err.message}\n${REGISTER_USAGE}\n`)
    return 2
  }
  if (cmd === 'help') {
    process.stdout.write(`${REGISTER_USAGE}\n`)
    return 0
  }
  const client = registerClient(cmd.endpoint)
  try {
    const lines = cmd.action === 'register' ? await registerService(cmd, client) : await deregisterService(cmd, client)
    process.stdout.write(`${lines.join('\n')}\n`)
    return 0
  } catch (err) {
    if (!(err instanceof RegisterError)) throw err
    process.stderr.write(`npm run register: ${err.message}\n`)
    return 1
  } finally {
    client.destroy()
  }
}

// The SDK's plain-text notice about Node < 22 is not this tool's business.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true'
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`npm run register failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  },
)
