// CLI: run the Cloud Map emulator until SIGINT/SIGTERM, then close cleanly
// (which saves the state file when one is set). Configuration: see cli-config.ts.
//   node dist/infra/local/src/emulator/main.js [--state <file>]

import { ConfigError, parseCliConfig } from './cli-config.js'
import { startEmulator } from './index.js'

function fail(message: string): never {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: message })}\n`)
  process.exit(1)
}

async function main(): Promise<void> {
  let config: ReturnType<typeof parseCliConfig>
  try {
    config = parseCliConfig(process.argv.slice(2), process.env)
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message)
    throw err
  }
  const emulator = await startEmulator(config)
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    emulator
      .close()
      .then(() => {
        process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'cloud map emulator stopped', signal })}\n`)
        process.exit(0)
      })
      .catch((err: unknown) => fail(`close failed: ${String(err)}`))
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

main().catch((err: unknown) => fail(`cloud map emulator failed to start: ${err instanceof Error ? err.message : String(err)}`))
