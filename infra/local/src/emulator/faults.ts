// Fault switches for tests and fault drills: what the API and the DNS server
// do instead of answering normally. Set programmatically (Emulator methods) or
// over HTTP (`/emulator/faults` on the API port, see api-server.ts); the JSON
// shape is the same both ways and is checked here.
//   api:      normal | hang (accept, read the request, never answer) | slow (answer after delayMs)
//   throttle: a share 0..1 of calls answered RequestLimitExceeded (deterministic, throttle.ts)
//   dns:      answer | drop (never reply) | servfail (reply SERVFAIL)
// `operations` limits an API fault or the throttle to those operations; the
// throttle defaults to DiscoverInstances and DiscoverInstancesRevision, an API
// fault to every operation.

import { invalidInput, requestLimitExceeded, type AwsError } from './aws-errors.js'
import { THROTTLED_OPERATIONS } from './operations.js'
import { Throttle } from './throttle.js'
import { asObject, type JsonObject } from './validate.js'

export const API_MODES = ['normal', 'hang', 'slow'] as const
export const DNS_MODES = ['answer', 'drop', 'servfail'] as const
export type ApiMode = (typeof API_MODES)[number]
export type DnsMode = (typeof DNS_MODES)[number]

/** Longest `slow` delay: 10 minutes. */
const MAX_DELAY_MS = 600_000

export interface ApiFault {
  readonly mode: ApiMode
  /** For `slow`: how long each answer is held. */
  readonly delayMs?: number
  /** Only these operations; absent: every operation. */
  readonly operations?: readonly string[]
}

export interface ThrottleFault {
  readonly share: number
  /** Absent: DiscoverInstances and DiscoverInstancesRevision. */
  readonly operations?: readonly string[]
}

/** Everything that is switched on now (also the body of GET /emulator/faults). */
export interface FaultsView {
  readonly api: ApiFault
  readonly throttle: ThrottleFault
  readonly dns: DnsMode
}

/** A change to some of the switches (the body of PUT /emulator/faults). */
export interface FaultsPatch {
  readonly api?: ApiFault
  readonly throttle?: ThrottleFault
  readonly dns?: DnsMode
}

/** What the API server does with one call. */
export type ApiAction = { readonly kind: 'error'; readonly error: AwsError } | { readonly kind: 'hang' } | { readonly kind: 'delay'; readonly ms: number }

const NORMAL: ApiFault = { mode: 'normal' }

export class Faults {
  #api: ApiFault = NORMAL
  #throttleFault: ThrottleFault = { share: 0 }
  readonly #throttle = new Throttle()
  #dns: DnsMode = 'answer'

  get dns(): DnsMode {
    return this.#dns
  }

  view(): FaultsView {
    return { api: this.#api, throttle: this.#throttleFault, dns: this.#dns }
  }

  /** Apply a checked patch; switches it does not name keep their state. */
  apply(patch: FaultsPatch): FaultsView {
    if (patch.api !== undefined) this.#api = checkApi(patch.api)
    if (patch.throttle !== undefined) {
      const t = checkThrottle(patch.throttle)
      this.#throttle.set(t.share)
      this.#throttleFault = t
    }
    if (patch.dns !== undefined) this.#dns = checkDns(patch.dns)
    return this.view()
  }

  /** Every switch back to normal. */
  clear(): FaultsView {
    return this.apply({ api: NORMAL, throttle: { share: 0 }, dns: 'answer' })
  }

  /** What to do with a call of `operation`, or undefined to answer it normally. */
  actionFor(operation: string): ApiAction | undefined {
    const api = this.#api
    if (api.mode !== 'normal' && (api.operations === undefined || api.operations.includes(operation))) {
      return api.mode === 'hang' ? { kind: 'hang' } : { kind: 'delay', ms: api.delayMs ?? 0 }
    }
    const throttled = this.#throttleFault.operations?.includes(operation) ?? THROTTLED_OPERATIONS.has(operation)
    if (throttled && this.#throttle.next()) return { kind: 'error', error: requestLimitExceeded('Rate exceeded') }
    return undefined
  }
}

function oneOf<T extends string>(allowed: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value)
}

function checkApi(api: ApiFault): ApiFault {
  if (!oneOf(API_MODES, api.mode)) throw new RangeError(`api.mode must be one of ${API_MODES.join(', ')}, got ${String(api.mode)}`)
  if (api.mode === 'slow' && !(Number.isInteger(api.delayMs) && (api.delayMs ?? -1) >= 0 && (api.delayMs ?? 0) <= MAX_DELAY_MS)) {
    throw new RangeError(`api.delayMs must be an integer 0..${MAX_DELAY_MS} for mode slow, got ${String(api.delayMs)}`)
  }
  return { mode: api.mode, ...(api.mode === 'slow' ? { delayMs: api.delayMs } : {}), ...checkOperations(api.operations, 'api.operations') }
}

function checkThrottle(t: ThrottleFault): ThrottleFault {
  if (!Number.isFinite(t.share) || t.share < 0 || t.share > 1) throw new RangeError(`throttle.share must be within 0..1, got ${String(t.share)}`)
  return { share: t.share, ...checkOperations(t.operations, 'throttle.operations') }
}

function checkDns(mode: DnsMode): DnsMode {
  if (!oneOf(DNS_MODES, mode)) throw new RangeError(`dns must be one of ${DNS_MODES.join(', ')}, got ${String(mode)}`)
  return mode
}

function checkOperations(ops: readonly string[] | undefined, what: string): { operations?: readonly string[] } {
  if (ops === undefined) return {}
  if (!Array.isArray(ops) || ops.length === 0 || !ops.every((o) => typeof o === 'string' && /^[A-Za-z]{1,64}$/.test(o))) {
    throw new RangeError(`${what} must be a non-empty list of operation names`)
  }
  return { operations: [...ops] }
}

/** Reads a PUT /emulator/faults body; throws InvalidInput naming the bad field. */
export function parseFaultsPatch(body: unknown): FaultsPatch {
  const obj = asObject(body, 'faults')
  for (const key of Object.keys(obj)) if (key !== 'api' && key !== 'throttle' && key !== 'dns') throw invalidInput(`unknown fault switch ${JSON.stringify(key)} (api, throttle, dns)`)
  try {
    const patch: { api?: ApiFault; throttle?: ThrottleFault; dns?: DnsMode } = {}
    if (obj['api'] !== undefined) patch.api = checkApi(readApi(obj['api']))
    if (obj['throttle'] !== undefined) patch.throttle = checkThrottle(readThrottle(obj['throttle']))
    const dns = obj['dns']
    if (dns !== undefined) {
      if (!oneOf(DNS_MODES, dns)) throw new RangeError(`dns must be one of ${DNS_MODES.join(', ')}`)
      patch.dns = dns
    }
    return patch
  } catch (err) {
    throw err instanceof RangeError ? invalidInput(err.message) : err
  }
}

function readApi(v: unknown): ApiFault {
  const o: JsonObject = asObject(v, 'api')
  const mode = o['mode']
  if (!oneOf(API_MODES, mode)) throw new RangeError(`api.mode must be one of ${API_MODES.join(', ')}`)
  return {
    mode,
    ...(o['delayMs'] !== undefined ? { delayMs: typeof o['delayMs'] === 'number' ? o['delayMs'] : Number.NaN } : {}),
    ...(o['operations'] !== undefined ? { operations: stringList(o['operations']) } : {}),
  }
}

function readThrottle(v: unknown): ThrottleFault {
  if (typeof v === 'number') return { share: v }
  const o: JsonObject = asObject(v, 'throttle')
  return {
    share: typeof o['share'] === 'number' ? o['share'] : Number.NaN,
    ...(o['operations'] !== undefined ? { operations: stringList(o['operations']) } : {}),
  }
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : []
}
