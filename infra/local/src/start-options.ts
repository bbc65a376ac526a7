// `npm start` command line and environment → typed options, checked once with
// a message naming the flag or variable. Pure, so it is table-tested.
//   npm start [-- --stack <file>]      STACK_FILE=<file> npm start
// Emulator ports: EMULATOR_API_PORT (9600) and EMULATOR_DNS_PORT (9653), fixed
// by default so `npm run register` and the AWS CLI find the emulator; 0 = any.

import { DEFAULT_API_PORT, DEFAULT_DNS_PORT } from './emulator/cli-config.js'

export interface StartOptions {
  readonly stackFile: string | undefined
  readonly emulatorApiPort: number
  readonly emulatorDnsPort: number
  /** node-1's admin listener; the next nodes on the next ports (MEDIA_ADMIN_PORT, 9101; 0 = any). */
  readonly mediaAdminPort: number
  readonly help: boolean
}

export const START_USAGE = 'usage: npm start [-- --stack <file>]   (or STACK_FILE=<file>; router variables pass through, see README)'

export class StartOptionsError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StartOptionsError'
  }
}

function port(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  if (!/^\d{1,5}$/.test(raw.trim()) || Number(raw) > 65535) throw new StartOptionsError(`${name}: expected a port number 0..65535, got "${raw}"`)
  return Number(raw)
}

export function parseStartOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): StartOptions {
  let stackFile = env['STACK_FILE'] === undefined || env['STACK_FILE'].trim() === '' ? undefined : env['STACK_FILE']
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (arg === '--help' || arg === '-h') help = true
    else if (arg === '--stack') {
      const value = argv[i + 1]
      if (value === undefined || value.startsWith('--') || value === '') throw new StartOptionsError(`--stack needs a file name\n${START_USAGE}`)
      stackFile = value
      i++
    } else if (arg.startsWith('--stack=')) {
      stackFile = arg.slice('--stack='.length)
      if (stackFile === '') throw new StartOptionsError(`--stack needs a file name\n${START_USAGE}`)
    } else throw new StartOptionsError(`unknown argument "${arg}"\n${START_USAGE}`)
  }
  return {
    stackFile,
    emulatorApiPort: port(env, 'EMULATOR_API_PORT', DEFAULT_API_PORT),
    emulatorDnsPort: port(env, 'EMULATOR_DNS_PORT', DEFAULT_DNS_PORT),
    mediaAdminPort: port(env, 'MEDIA_ADMIN_PORT', 9101),
    help,
  }
}
