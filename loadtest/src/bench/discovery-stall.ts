// npm run bench:discovery — what discovery adds to a request while its server
// hangs. For each discovery mode, the router's own DiscoveryCache in front of
// the real backend (DnsDiscovery against the emulator's DNS; CloudMapDiscovery
// on the AWS SDK against the emulator's API) is asked for one warmed target
// the way a request asks (`peek() ?? await resolve()`), back to back, with the
// answers' TTL clamped to 20 ms so a refresh falls due again and again. Phase
// "healthy": the backend answers. Phase "hung": DNS drops every query / the
// API accepts and never answers (timeouts 60 s, so calls stay pending). Each
// lookup's time is recorded (µs); reported with how many backend calls were
// started and how many lookups were served while one was pending.

import { startEmulator } from '../../../infra/local/src/emulator/index.js'
import { emulatorClient, ensurePrivateDnsNamespace, ensureService, registerInstance } from '../../../infra/local/src/emulator/sdk-setup.js'
import { DiscoveryCache } from '../../../router/src/discovery/cache.js'
import type { Discovery, Target } from '../../../router/src/discovery/discovery.js'
import { DnsDiscovery } from '../../../router/src/discovery/dns.js'
import { CloudMapDiscovery } from '../../../router/src/discovery/cloudmap.js'
import { SdkCloudMapApi } from '../../../router/src/discovery/cloudmap-api.js'
import { quietSdkNodeNotice, sdkLogger } from '../../../router/src/discovery/sdk-logger.js'
import { createLogger } from '../../../router/src/log.js'
import { OptionError, mergeOptions, parseFlags, readDurationMs } from '../lib/options.js'
import { summarize } from '../lib/percentiles.js'

const KNOWN = ['DURATION']
const NAMESPACE = 'bench.internal'
const TARGET: Target = { kind: 'service', service: 'dep' }

function log(line: string): void {
  process.stdout.write(line + '\n')
}

interface PhaseResult {
  lookups: number
  backendCalls: number
  servedWhilePending: number
  errors: number
  micros: ReturnType<typeof summarize>
}

/** Back-to-back lookups for `durationMs`; each one timed. */
async function phase(cache: DiscoveryCache, calls: () => number, durationMs: number): Promise<PhaseResult> {
  const samples: number[] = []
  let servedWhilePending = 0
  let errors = 0
  const callsBefore = calls()
  const until = performance.now() + durationMs
  while (performance.now() < until) {
    const pendingBefore = cache.refreshing(TARGET)
    const t0 = performance.now()
    try {
      cache.peek(TARGET) ?? (await cache.resolve(TARGET))
    } catch {
      errors++
    }
    samples.push((performance.now() - t0) * 1000)
    if (pendingBefore && cache.refreshing(TARGET)) servedWhilePending++
    // Let the event loop run (sockets, timers), as it does between requests.
    await new Promise((r) => setImmediate(r))
  }
  return { lookups: samples.length, backendCalls: calls() - callsBefore, servedWhilePending, errors, micros: summarize(samples) }
}

async function main(): Promise<void> {
  // The SDK's default credential chain; the emulator accepts any keys.
  process.env['AWS_ACCESS_KEY_ID'] ??= 'bench'
  process.env['AWS_SECRET_ACCESS_KEY'] ??= 'bench'
  const opts = mergeOptions(process.env, parseFlags(process.argv.slice(2)), KNOWN)
  const durationMs = readDurationMs(opts, 'DURATION', 5000, 500)
  const emu = await startEmulator({ log: () => undefined })
  const client = emulatorClient(emu.apiEndpoint)
  const nsId = await ensurePrivateDnsNamespace(client, NAMESPACE)
  const serviceId = await ensureService(client, { namespaceId: nsId, name: 'dep', records: [{ type: 'SRV', ttl: 1 }, { type: 'A', ttl: 1 }] })
  await registerInstance(client, { serviceId, instanceId: 'i-1', ipv4: '127.0.0.1', port: 9 })
  client.destroy()
  const logger = createLogger({ level: 'error' })
  quietSdkNodeNotice(logger)
  const cacheOptions = { minTtlMs: 20, maxTtlMs: 20, negativeTtlMs: 20, maxStaleMs: 600_000, staleRetryMs: 20, maxEntries: 10 }
  log(`# npm run bench:discovery (DURATION=${durationMs} ms per phase), Node ${process.version}`)
  log('| mode | phase | lookups | backend calls started | served while a call was pending | errors | p50 µs | p99 µs | max µs |')
  log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const mode of ['dns', 'cloudmap'] as const) {
    let calls = 0
    const backend: Discovery =
      mode === 'dns'
        ? new DnsDiscovery({ namespace: NAMESPACE, servers: [`${emu.dns.host}:${emu.dns.port}`], timeoutMs: 60_000, tries: 1, recordTypeFor: () => ({ recordType: 'SRV', defaultPort: undefined }) })
        : new CloudMapDiscovery({
            api: new SdkCloudMapApi({ region: 'us-east-1', endpoint: emu.apiEndpoint, connectTimeoutMs: 60_000, requestTimeoutMs: 60_000, logger: sdkLogger(logger) }),
            namespace: NAMESPACE,
            healthStatus: 'ALL',
            revisionPollMs: 20,
            fullRefreshMs: 60_000,
            backoffBaseMs: 20,
            backoffMaxMs: 20,
            defaultPortFor: () => undefined,
          })
    const counted: Discovery = { name: backend.name, resolve: (t, s) => (calls++, backend.resolve(t, s)), close: () => backend.close() }
    const cache = new DiscoveryCache(counted, cacheOptions)
    await cache.resolve(TARGET)
    for (const name of ['healthy', 'hung'] as const) {
      if (name === 'hung') {
        if (mode === 'dns') emu.setDnsMode('drop')
        else emu.setApiFault({ mode: 'hang' })
      }
      const r = await phase(cache, () => calls, durationMs)
      const f = (v: number): string => v.toFixed(1)
      log(`| ${mode} | ${name} | ${r.lookups} | ${r.backendCalls} | ${r.servedWhilePending} | ${r.errors} | ${f(r.micros.p50)} | ${f(r.micros.p99)} | ${f(r.micros.max)} |`)
    }
    emu.clearFaults()
    await cache.close()
  }
  await emu.close()
}

main().catch((err: unknown) => {
  if (err instanceof OptionError) process.stderr.write(`${err.message}\n`)
  else process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
