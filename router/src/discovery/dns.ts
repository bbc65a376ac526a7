// DNS discovery: resolves targets through a Cloud Map private DNS namespace with
// Node's dns.promises.Resolver. A service is `<service>.<ns>` (SRV: host+port per
// instance, via the `<instanceId>.<service>.<ns>` A records it names; or A: IPs
// with a fixed port). An instance is `<instanceId>.<service>.<ns>` (A record),
// its port taken from the service's SRV answer.

import { Resolver } from 'node:dns/promises'
import type { Discovery, Endpoint, Resolution, Target } from './discovery.js'
import { DiscoveryUnavailableError, TargetNotFoundError } from '../errors.js'
import type { RecordType } from '../config.js'

export interface DnsDiscoveryOptions {
  readonly namespace: string
  readonly servers: readonly string[]
  readonly timeoutMs: number
  readonly tries: number
  /** Per Cloud Map service: record type and fallback port. */
  readonly recordTypeFor: (service: string) => { recordType: RecordType; defaultPort: number | undefined }
}

interface SrvRecord {
  readonly name: string
  readonly port: number
}

/** Errors meaning "the name does not exist" vs "exists without records of this type". */
function dnsCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code
  return undefined
}

export class DnsDiscovery implements Discovery {
  readonly name = 'dns'
  readonly #resolver: Resolver
  readonly #opts: DnsDiscoveryOptions

  constructor(opts: DnsDiscoveryOptions) {
    this.#opts = opts
    this.#resolver = new Resolver({ timeout: opts.timeoutMs, tries: opts.tries })
    if (opts.servers.length > 0) this.#resolver.setServers([...opts.servers])
  }

  async resolve(target: Target): Promise<Resolution> {
    const { recordType, defaultPort } = target.lookup ?? this.#opts.recordTypeFor(target.service)
    const serviceName = `${target.service}.${this.#opts.namespace}`
    if (target.kind === 'service') {
      return recordType === 'A'
        ? this.#resolveA(serviceName, defaultPort ?? 80, `service ${target.service}`)
        : this.#resolveSrvService(serviceName, target.service)
    }
    const instanceName = `${target.instanceId}.${serviceName}`
    const what = `${target.service} instance ${target.instanceId}`
    // Existence comes from the instance's own A record; the port from the SRV answer.
    const [addrs, srv] = await Promise.all([
      this.#lookupA(instanceName, what),
      recordType === 'SRV' ? this.#lookupSrvOrEmpty(serviceName, what) : Promise.resolve([] as SrvRecord[]),
    ])
    const srvEntry = srv.find((s) => s.name === instanceName)
    const port = srvEntry?.port ?? defaultPort
    if (port === undefined || addrs.records.length === 0) return { endpoints: [], ttlSeconds: addrs.ttl }
    const endpoints = addrs.records.map((address) => ({ id: target.instanceId, host: address, port, attributes: {} }))
    return { endpoints: endpoints.slice(0, 1), ttlSeconds: addrs.ttl }
  }

  async close(): Promise<void> {
    this.#resolver.cancel()
  }

  async #resolveA(name: string, port: number, what: string): Promise<Resolution> {
    const a = await this.#lookupA(name, what)
    return {
      endpoints: a.records.map((host) => ({ id: `${host}:${port}`, host, port, attributes: {} })),
      ttlSeconds: a.ttl,
    }
  }

  async #resolveSrvService(name: string, service: string): Promise<Resolution> {
    const what = `service ${service}`
    let srv: SrvRecord[]
    try {
      srv = await this.#srv(name)
    } catch (err) {
      // NODATA: the name exists (e.g. only per-instance records) but no healthy SRV record.
      if (dnsCode(err) === 'ENODATA') return { endpoints: [], ttlSeconds: 0 }
      throw this.#mapError(err, what)
    }
    if (srv.length === 0) return { endpoints: [], ttlSeconds: 0 }
    // Node's resolveSrv reports no TTL; the instances' A records carry the service's TTL.
    const suffix = `.${name}`
    const results = await Promise.all(
      srv.map(async (s): Promise<{ endpoints: Endpoint[]; ttl: number }> => {
        try {
          const a = await this.#lookupA(s.name, what)
          const id = s.name.endsWith(suffix) ? s.name.slice(0, -suffix.length) : s.name
          return { endpoints: a.records.slice(0, 1).map((host) => ({ id, host, port: s.port, attributes: {} })), ttl: a.ttl }
        } catch (err) {
          // An instance whose A record vanished between the two queries is skipped.
          if (err instanceof TargetNotFoundError) return { endpoints: [], ttl: Number.POSITIVE_INFINITY }
          throw err
        }
      }),
    )
    const ttl = Math.min(...results.map((r) => r.ttl))
    return { endpoints: results.flatMap((r) => r.endpoints), ttlSeconds: Number.isFinite(ttl) ? ttl : 0 }
  }

  async #lookupA(name: string, what: string): Promise<{ records: string[]; ttl: number }> {
    try {
      const recs = await this.#resolver.resolve4(name, { ttl: true })
      return { records: recs.map((r) => r.address), ttl: recs.length > 0 ? Math.min(...recs.map((r) => r.ttl)) : 0 }
    } catch (err) {
      if (dnsCode(err) === 'ENODATA') return { records: [], ttl: 0 }
      throw this.#mapError(err, what)
    }
  }

  /** SRV records of `name`, targets lower-cased without the trailing dot. Rejects like the resolver. */
  async #srv(name: string): Promise<SrvRecord[]> {
    return (await this.#resolver.resolveSrv(name)).map((r) => ({ name: r.name.toLowerCase().replace(/\.$/, ''), port: r.port }))
  }

  async #lookupSrvOrEmpty(name: string, what: string): Promise<SrvRecord[]> {
    try {
      return await this.#srv(name)
    } catch (err) {
      const code = dnsCode(err)
      if (code === 'ENODATA' || code === 'ENOTFOUND') return []
      throw this.#mapError(err, what)
    }
  }

  #mapError(err: unknown, what: string): Error {
    const code = dnsCode(err)
    if (code === 'ENOTFOUND') return new TargetNotFoundError(what, { cause: err })
    if (code === 'ENODATA') return new TargetNotFoundError(what, { cause: err })
    return new DiscoveryUnavailableError(`DNS lookup for ${what} failed: ${code ?? String(err)}`, { cause: err })
  }
}
