// Shared helpers for the emulator tests: a started emulator with an SDK
// client (closed in teardown) and an assertion for typed SDK exceptions.

import t from 'tap'
import type { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../infra/local/src/emulator/index.js'
import { emulatorClient } from '../../infra/local/src/emulator/sdk-setup.js'

/** The type of `t` inside a subtest. */
export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

/**
 * Start an emulator on ephemeral ports (quiet log) and an SDK client with its
 * default retries (client errors such as NotFound are never retried); both
 * close in teardown. Tests of throttling make their own one-attempt client.
 */
export async function setup(t: TapTest, options: EmulatorOptions = {}): Promise<{ emu: Emulator; client: ServiceDiscoveryClient }> {
  const emu = await startEmulator({ log: () => {}, ...options })
  const client = emulatorClient(emu.apiEndpoint)
  t.teardown(async () => {
    client.destroy()
    await emu.close()
  })
  return { emu, client }
}

/** Assert that `promise` rejects with an instance of `ctor`; returns the error. */
export async function rejectsWith<E extends Error>(
  t: TapTest,
  promise: Promise<unknown>,
  ctor: abstract new (...args: never[]) => E,
  what: string,
): Promise<E | undefined> {
  try {
    await promise
  } catch (err) {
    t.ok(err instanceof ctor, `${what}: ${ctor.name} (got ${err instanceof Error ? err.name : String(err)})`)
    return err instanceof ctor ? err : undefined
  }
  t.fail(`${what}: expected ${ctor.name}, resolved instead`)
  return undefined
}
