// Command line and environment → typed emulator options, checked once with a
// message that names the bad variable or flag. Pure, so it is table-tested.

import { isIP } from 'node:net'
import type { EmulatorOptions } from './index.js'

export const DEFAULT_API_PORT = 9600
export const DEFAULT_DNS_PORT = 9653

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new ConfigError(`${name} must be a port number 0..65535, got "${raw}"`)
  return Number(raw)
}

/**
 * Reads EMULATOR_HOST, EMULATOR_API_PORT, EMULATOR_DNS_PORT,
 * EMULATOR_STATE_FILE and the `--state <file>` flag (the flag wins).
 */
export function parseCliConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Required<Pick<EmulatorOptions, 'host' | 'apiPort' | 'dnsPort'>> & { stateFile?: string } {
  const host = env['EMULATOR_HOST'] === undefined || env['EMULATOR_HOST'] === '' ? '127.0.0.1' : env['EMULATOR_HOST']
  if (isIP(host) === 0) throw new ConfigError(`EMULATOR_HOST must be an IP address, got "${host}"`)
  const apiPort = port(env, 'EMULATOR_API_PORT', DEFAULT_API_PORT)
  const dnsPort = port(env, 'EMULATOR_DNS_PORT', DEFAULT_DNS_PORT)
  let stateFile = env['EMULATOR_STATE_FILE'] === '' ? undefined : env['EMULATOR_STATE_FILE']
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--state') {
      const value = argv[i + 1]
      if (value === undefined || value.startsWith('--')) throw new ConfigError('--state needs a file name')
      stateFile = value
      i++
    } else if (arg !== undefined && arg.startsWith('--state=')) {
      stateFile = arg.slice('--state='.length)
      if (stateFile === '') throw new ConfigError('--state needs a file name')
    } else {
      throw new ConfigError(`unknown argument "${arg ?? ''}" (usage: main.js [--state <file>])`)
    }
  }
  return stateFile === undefined ? { host, apiPort, dnsPort } : { host, apiPort, dnsPort, stateFile }
}
