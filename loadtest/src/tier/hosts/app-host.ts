// An app host of the tier: one instance of each demo deployment (alpha on
// APP_PORT, beta on APP_PORT+1, …) on this host's address, each registering
// itself in Cloud Map through the API (demo-backend.ts), plus the fault
// switch `POST /fault?deployment=alpha&delayMs=5000` (every answer of that
// deployment's instance here waits that long; 0 turns it off).
// Env: HOST_IP, INSTANCE_SUFFIX, DEPLOYMENTS, APP_PORT, CONTROL_PORT,
// CLOUDMAP_ENDPOINT, CLOUDMAP_NAMESPACE. SIGTERM deregisters and exits 0.

import { startDemoBackend, type DemoBackend } from '../../../../infra/local/src/demo-backend.js'
import { emulatorClient } from '../../../../infra/local/src/emulator/sdk-setup.js'
import { logLine, startControl } from './control.js'

function env(name: string): string {
  const v = process.env[name]
  if (v === undefined || v === '') throw new Error(`${name} is required`)
  return v
}

async function main(): Promise<void> {
  const host = env('HOST_IP')
  const suffix = env('INSTANCE_SUFFIX')
  const deployments = env('DEPLOYMENTS').split(',')
  const firstPort = Number(env('APP_PORT'))
  const client = emulatorClient(env('CLOUDMAP_ENDPOINT'))
  const namespace = env('CLOUDMAP_NAMESPACE')
  const delays = new Map<string, number>(deployments.map((d) => [d, 0]))
  const backends: DemoBackend[] = []
  for (const [i, deployment] of deployments.entries()) {
    backends.push(
      await startDemoBackend({ client, namespace, deployment, instanceId: `${deployment}-${suffix}`, host, port: firstPort + i, delayMs: () => delays.get(deployment) ?? 0 }),
    )
  }
  await startControl(host, Number(env('CONTROL_PORT')), {
    fault: (p) => {
      const deployment = p.get('deployment') ?? ''
      const ms = Number(p.get('delayMs'))
      if (!delays.has(deployment)) throw new Error(`unknown deployment "${deployment}"`)
      if (!Number.isInteger(ms) || ms < 0 || ms > 600_000) throw new Error('delayMs must be 0..600000')
      delays.set(deployment, ms)
      logLine({ msg: 'fault set', deployment, delayMs: ms })
    },
    status: () => ({ registered: true, delays: Object.fromEntries(delays), instances: backends.map((b) => ({ id: b.instanceId, port: b.port })) }),
  })
  logLine({ msg: 'app host ready', host, instances: backends.map((b) => b.instanceId) })
  process.once('SIGTERM', () => {
    void Promise.all(backends.map((b) => b.close())).finally(() => process.exit(0))
  })
}

main().catch((err: unknown) => {
  logLine({ level: 'error', msg: 'app host failed', error: err instanceof Error ? err.message : String(err) })
  process.exit(1)
})
