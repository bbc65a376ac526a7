// The router's environment under the local stack: what the stack sets itself
// (pointing the router at its own emulator) and which of the caller's router
// variables pass through. The list of router variables is ENV_DOC in
// router/src/config.ts, so a variable added there passes through unchanged.
// Pure, so it is table-tested.

import { ENV_DOC } from '../../../router/src/config.js'

/** Router variables the stack pins to its own emulator; setting one is an error. */
export const PINNED = ['DNS_SERVERS', 'CLOUDMAP_ENDPOINT'] as const

/** Router variables `npm start` cannot honour, with why. */
export const UNSUPPORTED: Readonly<Record<string, (value: string) => string | undefined>> = {
  ROUTER_WORKERS: (v) =>
    v.trim() === '1' ? undefined : 'npm start runs the router inside its own process, without workers; run `node dist/router/src/main.js` for ROUTER_WORKERS > 1',
}

/** Every router variable name (ENV_DOC) plus LOG_LEVEL, which the logger reads. */
export function routerVariableNames(): string[] {
  return [...ENV_DOC.map(([name]) => name), 'LOG_LEVEL']
}

/** The router variables set (non-empty) in `env`, and nothing else. */
export function pickRouterVariables(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const name of routerVariableNames()) {
    const value = env[name]
    if (value !== undefined && value.trim() !== '') picked[name] = value
  }
  return picked
}

export interface StackFacts {
  readonly namespace: string
  /** `ip:port` of the emulator's DNS server. */
  readonly dnsServer: string
  readonly apiEndpoint: string
  readonly routerPort: number
  readonly adminPort: number
  readonly adminToken: string
  /** Static discovery file written by the stack (DISCOVERY_MODE=static without one of the caller's). */
  readonly staticFile?: string
}

/** What the stack sets when the caller does not: [name, value, why]. */
export function stackDefaults(facts: StackFacts): Array<readonly [string, string, string]> {
  return [
    ['HOST', '127.0.0.1', 'only this machine reaches the router'],
    ['ADMIN_HOST', '127.0.0.1', 'same for the admin port'],
    ['PORT', String(facts.routerPort), 'the usual port'],
    ['ADMIN_PORT', String(facts.adminPort), 'the usual admin port'],
    ['ADMIN_TOKEN', facts.adminToken, 'so /admin/routes works out of the box'],
    ['CLOUDMAP_NAMESPACE', facts.namespace, 'the namespace the stack creates and registers into'],
    ['DISCOVERY_MODE', 'dns', 'the emulator answers DNS'],
    ['CLOUDMAP_REGION', 'us-east-1', 'the emulator accepts any region'],
    ['DRAIN_DELAY_MS', '0', 'no load balancer to wait for: Ctrl-C stops at once'],
    ['DEPLOYMENT_CONTROL', 'true', "the admin dashboard's blue/green buttons write the emulator's registries (not with DISCOVERY_MODE=static)"],
    ...(facts.staticFile !== undefined ? [['STATIC_DISCOVERY_FILE', facts.staticFile, 'DISCOVERY_MODE=static: what the stack started'] as const] : []),
  ]
}

/** Pinned values: always the stack's own emulator. */
export function pinnedValues(facts: StackFacts): Record<(typeof PINNED)[number], string> {
  return { DNS_SERVERS: facts.dnsServer, CLOUDMAP_ENDPOINT: facts.apiEndpoint }
}

export class StackEnvError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StackEnvError'
  }
}

/**
 * The router's environment: the stack's defaults, then the caller's router
 * variables over them, then the pinned emulator addresses. Throws
 * StackEnvError naming the variable when the caller sets a pinned or an
 * unsupported one. Unknown names in `caller` are ignored.
 */
export function composeRouterEnv(facts: StackFacts, caller: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const given = pickRouterVariables(caller)
  for (const name of PINNED) {
    if (given[name] !== undefined) throw new StackEnvError(`${name}: set by the local stack to its own Cloud Map emulator (${pinnedValues(facts)[name]}); unset it, or run the router alone (node dist/router/src/main.js) to use another`)
  }
  for (const [name, check] of Object.entries(UNSUPPORTED)) {
    const value = given[name]
    const problem = value === undefined ? undefined : check(value)
    if (problem !== undefined) throw new StackEnvError(`${name}: ${problem}`)
  }
  const env: Record<string, string> = {}
  for (const [name, value] of stackDefaults(facts)) env[name] = value
  const out: Record<string, string> = { ...env, ...given, ...pinnedValues(facts) }
  // Static discovery reads no registry to write: the default does not apply (an explicit setting is the router's to refuse).
  if (out['DISCOVERY_MODE'] === 'static' && given['DEPLOYMENT_CONTROL'] === undefined) delete out['DEPLOYMENT_CONTROL']
  return out
}
