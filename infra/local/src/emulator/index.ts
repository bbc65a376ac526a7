// startEmulator(): the embedded stand-in for AWS Cloud Map used by `npm start`
// and the tests. Wires the state (optionally persisted to a JSON file), the
// AWS JSON 1.1 API server, the DNS server (UDP + TCP on one port), call
// counters, the DiscoverInstances throttle switch and the DNS drop switch.

import { isIP, isIPv6 } from 'node:net'
import { ApiServer } from './api-server.js'
import { requestLimitExceeded, type AwsError } from './aws-errors.js'
import type { DnsZone } from './dns-answers.js'
import { handleQuery } from './dns-handler.js'
import { Counters } from './counters.js'
import { DnsServer } from './dns-server.js'
import { THROTTLED_OPERATIONS } from './operations.js'
import { DebouncedSaver, loadStateFile } from './state-file.js'
import { EmulatorState } from './state.js'
import { Throttle } from './throttle.js'

export interface EmulatorOptions {
  /** IP address for both servers (an IP, so DNS clients can use it as a server). Default '127.0.0.1'. */
  host?: string
  /** API (HTTP) port. Default 0 (ephemeral). */
  apiPort?: number
  /** DNS port; UDP and TCP share the number. Default 0 (ephemeral). */
  dnsPort?: number
  /** When set: loaded at start if present, saved after every mutation (debounced) and on close. */
  stateFile?: string
  /** Log sink. Default: one JSON line per entry on stdout. */
  log?: (entry: Record<string, unknown>) => void
}

export interface Emulator {
  readonly apiEndpoint: string
  readonly dns: { host: string; port: number }
  /** Counters for tests. */
  readonly stats: {
    /** Total DNS questions answered or dropped (a malformed message counts as one). */
    dnsQueries(): number
    /** Questions for one name: lower-cased, no trailing dot. */
    dnsQueriesFor(name: string): number
    /** API calls for one operation, or all calls when omitted. */
    apiCalls(operation?: string): number
    reset(): void
  }
  /** Fraction 0..1 of DiscoverInstances/DiscoverInstancesRevision calls answered RequestLimitExceeded. */
  setThrottle(share: number): void
  /** 'answer' (default) or 'drop': receive DNS queries but never reply (simulates a DNS timeout). */
  setDnsMode(mode: 'answer' | 'drop'): void
  /** Close the DNS sockets (queries then get ECONNREFUSED / time out). */
  stopDns(): Promise<void>
  /** Listen again on the same DNS port. */
  startDns(): Promise<void>
  close(): Promise<void>
}

const SAVE_DEBOUNCE_MS = 50

function defaultLog(entry: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`)
}

function checkPort(value: number | undefined, name: string): number {
  const port = value ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`${name} must be an integer 0..65535, got ${String(value)}`)
  return port
}

/** Start the API and DNS servers; resolves once both listen. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1'
  if (isIP(host) === 0) throw new RangeError(`host must be an IP address, got "${host}"`)
  const apiPort = checkPort(options.apiPort, 'apiPort')
  const dnsPort = checkPort(options.dnsPort, 'dnsPort')
  const log = options.log ?? defaultLog

  const state = new EmulatorState()
  let saver: DebouncedSaver | undefined
  if (options.stateFile !== undefined) {
    const file = options.stateFile
    const snapshot = await loadStateFile(file)
    if (snapshot !== undefined) state.load(snapshot)
    saver = new DebouncedSaver(file, () => state.toSnapshot(), SAVE_DEBOUNCE_MS, (err) =>
      log({ level: 'error', msg: 'saving state failed', file, err: String(err) }),
    )
    const active = saver
    state.onChange(() => active.schedule())
  }

  let zones: DnsZone[] | undefined
  state.onChange(() => {
    zones = undefined
  })

  const counters = new Counters()
  const throttle = new Throttle()
  let dnsMode: 'answer' | 'drop' = 'answer'

  const api = new ApiServer({
    state,
    log,
    onCall: (operation) => counters.api(operation),
    intercept: (operation): AwsError | undefined =>
      THROTTLED_OPERATIONS.has(operation) && throttle.next() ? requestLimitExceeded('Rate exceeded') : undefined,
  })
  const dns = new DnsServer(
    host,
    (query, transport) => {
      zones ??= state.dnsZones()
      const handled = handleQuery(query, transport, zones)
      counters.dns(handled.questions)
      return dnsMode === 'drop' ? undefined : handled.response
    },
    (err) => log({ level: 'warn', msg: 'dns socket error', err: String(err) }),
  )

  let boundApi: number
  let boundDns: number
  try {
    boundApi = await api.listen(host, apiPort)
    boundDns = await dns.listen(dnsPort)
  } catch (err) {
    await Promise.all([api.close(), dns.close()])
    throw err
  }
  const urlHost = isIPv6(host) ? `[${host}]` : host
  const apiEndpoint = `http://${urlHost}:${boundApi}`
  log({ level: 'info', msg: 'cloud map emulator listening', api: apiEndpoint, dns: { host, port: boundDns, transports: ['udp', 'tcp'] }, stateFile: options.stateFile ?? null })

  let closed = false
  return {
    apiEndpoint,
    dns: { host, port: boundDns },
    stats: counters.view(),
    setThrottle: (share) => throttle.set(share),
    setDnsMode: (mode) => {
      if (mode !== 'answer' && mode !== 'drop') throw new RangeError(`dns mode must be 'answer' or 'drop'`)
      dnsMode = mode
    },
    stopDns: () => dns.close(),
    startDns: async () => {
      if (closed) throw new Error('emulator is closed')
      await dns.listen(boundDns)
    },
    close: async () => {
      if (closed) return
      closed = true
      await Promise.all([api.close(), dns.close()])
      await saver?.flush()
    },
  }
}
