// Pure DNS answering: a snapshot of the private DNS namespaces plus one
// question in, the response code and records out. No sockets, no state, no
// clock, so the rules below are table-tested directly. The rules follow how
// Cloud Map creates Route 53 records (docs/cloud-map-facts.md):
//   <service>.<ns>           A/AAAA: up to 8 healthy instance IPs (MULTIVALUE)
//                            SRV: `1 1 <port> <InstanceId>.<service>.<ns>` each
//   <id>.<service>.<ns>      A/AAAA of that instance, for services with SRV
// Unknown names inside a namespace get NXDOMAIN, names outside every namespace
// get REFUSED, known names without data of the asked type get NODATA; negative
// answers carry the zone's SOA in the authority section.

import type { Answer } from 'dns-packet'

export type DnsRcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED'

/** One instance as DNS sees it. */
export interface DnsInstance {
  /** The Cloud Map InstanceId, as registered (case kept). */
  readonly id: string
  readonly ipv4?: string | undefined
  readonly ipv6?: string | undefined
  readonly port?: number | undefined
  /** False when the custom health status is UNHEALTHY. */
  readonly healthy: boolean
}

/** One service with a DNS configuration. */
export interface DnsService {
  /** Lower-case service name (a relative name, may contain dots, e.g. `_http._tcp`). */
  readonly name: string
  readonly routingPolicy: 'MULTIVALUE' | 'WEIGHTED'
  /** TTL per configured record type; a missing type means "no such records". */
  readonly ttl: Readonly<Partial<Record<'A' | 'AAAA' | 'SRV', number>>>
  readonly instances: readonly DnsInstance[]
}

/** One private (or public) DNS namespace = one authoritative zone. */
export interface DnsZone {
  /** Lower-case zone name without trailing dot. */
  readonly name: string
  /** SOA record TTL, also used as the negative-caching TTL (SOA minimum). */
  readonly soaTtl: number
  readonly services: readonly DnsService[]
}

export interface DnsQuestion {
  readonly name: string
  readonly type: string
}

export interface DnsAnswer {
  readonly rcode: DnsRcode
  /** AA flag: set for every answer from one of our zones. */
  readonly authoritative: boolean
  readonly answers: Answer[]
  readonly authorities: Answer[]
}

/**
 * Picks which `k` of `n` candidates to return (indices). Route 53 picks at
 * random; tests may pass a deterministic picker.
 */
export type Picker = (n: number, k: number) => number[]

/** Multivalue answers carry at most this many records (Route 53 MULTIVALUE). */
export const MAX_MULTIVALUE = 8

/** Random k-of-n, order shuffled (Fisher-Yates on the index list). */
export const randomPicker: Picker = (n, k) => {
  const indices = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[indices[i], indices[j]] = [indices[j] ?? j, indices[i] ?? i]
  }
  return indices.slice(0, k)
}

/** Lower-case, no trailing dot: the form every lookup here uses. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase()
  return lower.endsWith('.') ? lower.slice(0, -1) : lower
}

/** The zone holding `name` (longest suffix match), if any. */
export function findZone(zones: readonly DnsZone[], name: string): DnsZone | undefined {
  let best: DnsZone | undefined
  for (const zone of zones) {
    if (name === zone.name || name.endsWith(`.${zone.name}`)) {
      if (best === undefined || zone.name.length > best.name.length) best = zone
    }
  }
  return best
}

function soaRecord(zone: DnsZone): Answer {
  return {
    type: 'SOA',
    name: zone.name,
    ttl: zone.soaTtl,
    class: 'IN',
    data: {
      mname: `ns-emulator.${zone.name}`,
      rname: `hostmaster.${zone.name}`,
      serial: 1,
      refresh: 7200,
      retry: 900,
      expire: 1209600,
      minimum: zone.soaTtl,
    },
  }
}

function negative(zone: DnsZone, rcode: 'NOERROR' | 'NXDOMAIN'): DnsAnswer {
  return { rcode, authoritative: true, answers: [], authorities: [soaRecord(zone)] }
}

function positive(answers: Answer[]): DnsAnswer {
  return { rcode: 'NOERROR', authoritative: true, answers, authorities: [] }
}

/** Healthy instances capped by the routing policy (8 for MULTIVALUE, 1 for WEIGHTED). */
function chooseInstances(service: DnsService, usable: readonly DnsInstance[], pick: Picker): DnsInstance[] {
  const limit = service.routingPolicy === 'WEIGHTED' ? 1 : MAX_MULTIVALUE
  if (usable.length <= limit && service.routingPolicy === 'MULTIVALUE') return [...usable]
  return pick(usable.length, Math.min(limit, usable.length)).flatMap((i) => {
    const chosen = usable[i]
    return chosen === undefined ? [] : [chosen]
  })
}

function addressRecords(owner: string, type: 'A' | 'AAAA', ttl: number, instances: readonly DnsInstance[]): Answer[] {
  return instances.flatMap((instance): Answer[] => {
    const address = type === 'A' ? instance.ipv4 : instance.ipv6
    return address === undefined ? [] : [{ type, name: owner, ttl, class: 'IN', data: address }]
  })
}

/** Answers at `<service>.<zone>`. */
function answerService(zone: DnsZone, service: DnsService, owner: string, qtype: string, pick: Picker): DnsAnswer {
  const healthy = service.instances.filter((instance) => instance.healthy)
  if (qtype === 'A' || qtype === 'AAAA') {
    const ttl = service.ttl[qtype]
    if (ttl === undefined) return negative(zone, 'NOERROR')
    const usable = healthy.filter((instance) => (qtype === 'A' ? instance.ipv4 : instance.ipv6) !== undefined)
    const answers = addressRecords(owner, qtype, ttl, chooseInstances(service, usable, pick))
    return answers.length === 0 ? negative(zone, 'NOERROR') : positive(answers)
  }
  if (qtype === 'SRV') {
    const ttl = service.ttl.SRV
    if (ttl === undefined) return negative(zone, 'NOERROR')
    const usable = healthy.filter((instance) => instance.port !== undefined)
    const answers = chooseInstances(service, usable, pick).map((instance): Answer => ({
      type: 'SRV',
      name: owner,
      ttl,
      class: 'IN',
      data: { priority: 1, weight: 1, port: instance.port ?? 0, target: `${instance.id}.${service.name}.${zone.name}` },
    }))
    return answers.length === 0 ? negative(zone, 'NOERROR') : positive(answers)
  }
  return negative(zone, 'NOERROR')
}

/** Answers at `<InstanceId>.<service>.<zone>` (SRV services only). */
function answerInstance(zone: DnsZone, service: DnsService, instance: DnsInstance, owner: string, qtype: string): DnsAnswer {
  const srvTtl = service.ttl.SRV
  if (srvTtl === undefined) return negative(zone, 'NXDOMAIN')
  if ((qtype === 'A' || qtype === 'AAAA') && instance.healthy) {
    // Cloud Map creates these records with the service's TTL for that type;
    // an SRV-only service has no A TTL of its own, so the SRV TTL is used.
    const ttl = service.ttl[qtype] ?? srvTtl
    const answers = addressRecords(owner, qtype, ttl, [instance])
    if (answers.length > 0) return positive(answers)
  }
  return negative(zone, 'NOERROR')
}

/** Every name that exists in the zone, for NODATA on empty non-terminals. */
function hasDescendant(zone: DnsZone, relative: string): boolean {
  const suffix = `.${relative}`
  for (const service of zone.services) {
    if (service.name.endsWith(suffix)) return true
    if (service.ttl.SRV !== undefined) {
      for (const instance of service.instances) {
        if (`${instance.id.toLowerCase()}.${service.name}`.endsWith(suffix)) return true
      }
    }
  }
  return false
}

/**
 * Answer one question against the zones. `question.name` may have any case
 * and a trailing dot; owner names in the answer repeat it as asked.
 */
export function answerQuestion(zones: readonly DnsZone[], question: DnsQuestion, pick: Picker = randomPicker): DnsAnswer {
  const name = normalizeName(question.name)
  const owner = question.name.endsWith('.') ? question.name.slice(0, -1) : question.name
  const zone = findZone(zones, name)
  if (zone === undefined) return { rcode: 'REFUSED', authoritative: false, answers: [], authorities: [] }

  if (name === zone.name) {
    if (question.type === 'SOA') return positive([{ ...soaRecord(zone), name: owner }])
    return negative(zone, 'NOERROR')
  }

  const relative = name.slice(0, -(zone.name.length + 1))
  const service = zone.services.find((candidate) => candidate.name === relative)
  if (service !== undefined) return answerService(zone, service, owner, question.type, pick)

  for (const candidate of zone.services) {
    if (candidate.ttl.SRV === undefined || !relative.endsWith(`.${candidate.name}`)) continue
    const instanceId = relative.slice(0, -(candidate.name.length + 1))
    const instance = candidate.instances.find((entry) => entry.id.toLowerCase() === instanceId)
    if (instance !== undefined) return answerInstance(zone, candidate, instance, owner, question.type)
  }

  return negative(zone, hasDescendant(zone, relative) ? 'NOERROR' : 'NXDOMAIN')
}
