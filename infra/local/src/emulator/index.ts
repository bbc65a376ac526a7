// startEmulator(): the embedded stand-in for AWS Cloud Map used by `npm start`
// and the tests. Wires the state (optionally persisted to a JSON file), the
// AWS JSON 1.1 API server, the DNS server (UDP + TCP on one port), call
// counters and the fault switches (faults.ts: API hang/slow/throttle, DNS
// drop/SERVFAIL), also reachable over HTTP at /emulator/faults.

import { isIP, isIPv6 } from 'node:net'
import { ApiServer, FAULTS_PATH } from './api-server.js'
import type { DnsZone } from './dns-answers.js'
import { handleQuery, servfailFor } from './dns-handler.js'
import { Faults, type ApiFault, type DnsMode, type FaultsPatch, type FaultsView } from './faults.js'
import { Counters } from './counters.js'
import { DnsServer } from './dns-server.js'
import { DebouncedSaver, loadStateFile } from './state-file.js'
import { EmulatorState } from './state.js'

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
    /** API calls held right now by the `hang` or `slow` fault (received, not answered). */
    apiHeld(): number
    reset(): void
  }
  /**
   * Share 0..1 of calls answered RequestLimitExceeded; by default of
   * DiscoverInstances/DiscoverInstancesRevision, or of the named operations.
   */
  setThrottle(share: number, operations?: readonly string[]): void
  /** API fault: `{mode: 'hang'}` (accept, never answer), `{mode: 'slow', delayMs}`, `{mode: 'normal'}`; optionally only for `operations`. */
  setApiFault(fault: ApiFault): void
  /** 'answer' (default), 'drop' (receive DNS queries, never reply: a DNS timeout) or 'servfail'. */
  setDnsMode(mode: DnsMode): void
  /** Every fault switch now (the same as GET /emulator/faults). */
  faults(): FaultsView
  /** Change some switches at once (the same as PUT /emulator/faults). */
  setFaults(patch: FaultsPatch): FaultsView
  /** All switches back to normal (the same as DELETE /emulator/faults). */
  clearFaults(): FaultsView
  /** URL of the fault switches' HTTP endpoint. */
  readonly faultsUrl: string
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
  const faults = new Faults()

  const api = new ApiServer({
    state,
    log,
    onCall: (operation) => counters.api(operation),
    faults,
  })
  const dns = new DnsServer(
    host,
    (query, transport) => {
      zones ??= state.dnsZones()
      const handled = handleQuery(query, transport, zones)
      counters.dns(handled.questions)
      const mode = faults.dns
      return mode === 'drop' ? undefined : mode === 'servfail' ? servfailFor(query) : handled.response
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
    stats: { ...counters.view(), apiHeld: () => api.heldCalls },
    setThrottle: (share, operations) => void faults.apply({ throttle: { share, ...(operations !== undefined ? { operations } : {}) } }),
    setApiFault: (fault) => void faults.apply({ api: fault }),
    setDnsMode: (mode) => void faults.apply({ dns: mode }),
    faults: () => faults.view(),
    setFaults: (patch) => faults.apply(patch),
    clearFaults: () => faults.clear(),
    faultsUrl: `${apiEndpoint}${FAULTS_PATH}`,
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
