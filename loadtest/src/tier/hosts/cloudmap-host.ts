// The cloudmap host of the tier: the Cloud Map emulator (API and DNS on port
// 53 of this host's address) plus its fault switches over HTTP:
//   POST /fault?dns=answer|drop|servfail|down   DNS answers, stays silent, or its sockets close
//   POST /fault?api=answer|hang                 API answers, or accepts and never answers
// Env: HOST_IP, API_PORT, DNS_PORT, CONTROL_PORT. SIGTERM closes it.

import { startEmulator } from '../../../../infra/local/src/emulator/index.js'
import { logLine, startControl } from './control.js'
import { applyEmulatorFault, type EmulatorFaults } from './emulator-faults.js'

function env(name: string): string {
  const v = process.env[name]
  if (v === undefined || v === '') throw new Error(`${name} is required`)
  return v
}

async function main(): Promise<void> {
  const host = env('HOST_IP')
  const emulator = await startEmulator({ host, apiPort: Number(env('API_PORT')), dnsPort: Number(env('DNS_PORT')), log: (e) => logLine({ component: 'emulator', ...e }) })
  const faults: EmulatorFaults = { dns: 'answer', api: 'answer' }
  await startControl(host, Number(env('CONTROL_PORT')), {
    fault: async (p) => {
      await applyEmulatorFault(emulator, faults, p)
      logLine({ msg: 'fault set', ...faults })
    },
    status: () => ({ ...faults, apiEndpoint: emulator.apiEndpoint, dns: emulator.dns }),
  })
  logLine({ msg: 'cloudmap host ready', apiEndpoint: emulator.apiEndpoint, dns: emulator.dns })
  process.once('SIGTERM', () => {
    void emulator.close().finally(() => process.exit(0))
  })
}

main().catch((err: unknown) => {
  logLine({ level: 'error', msg: 'cloudmap host failed', error: err instanceof Error ? err.message : String(err) })
  process.exit(1)
})
