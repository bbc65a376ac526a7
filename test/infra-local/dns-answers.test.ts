// Table tests for the pure DNS rules (dns-answers.ts): which records a
// question gets, with which TTL and response code, from a fixed zone snapshot.

import t from 'tap'
import type { Answer } from 'dns-packet'
import { answerQuestion, MAX_MULTIVALUE, type DnsZone, type Picker } from '../../infra/local/src/emulator/dns-answers.js'

/** Deterministic picker: the first k candidates in registration order. */
const firstK: Picker = (_n, k) => Array.from({ length: k }, (_, i) => i)

const instances = Array.from({ length: 10 }, (_, i) => ({
  id: `node-${i}`,
  ipv4: `10.0.0.${i + 1}`,
  port: 9000 + i,
  healthy: i !== 9,
}))

const zones: DnsZone[] = [
  {
    name: 'svc.local',
    soaTtl: 15,
    services: [
      { name: 'web', routingPolicy: 'MULTIVALUE', ttl: { A: 30 }, instances },
      { name: 'media', routingPolicy: 'MULTIVALUE', ttl: { SRV: 5, A: 7 }, instances: instances.slice(0, 3) },
      { name: 'srvonly', routingPolicy: 'MULTIVALUE', ttl: { SRV: 12 }, instances: [{ id: 'Abc', ipv4: '10.1.0.1', port: 80, healthy: true }] },
      { name: 'dead', routingPolicy: 'MULTIVALUE', ttl: { A: 30, SRV: 30 }, instances: [{ id: 'x', ipv4: '10.2.0.1', port: 80, healthy: false }] },
      { name: 'empty', routingPolicy: 'MULTIVALUE', ttl: { A: 30 }, instances: [] },
      { name: 'one', routingPolicy: 'WEIGHTED', ttl: { A: 30 }, instances },
      { name: '_http._tcp', routingPolicy: 'MULTIVALUE', ttl: { SRV: 9 }, instances: [{ id: 'h1', ipv4: '10.3.0.1', port: 81, healthy: true }] },
    ],
  },
]

function data(answers: Answer[]): unknown[] {
  return answers.map((answer) => ('data' in answer ? answer.data : undefined))
}

interface Row {
  readonly name: string
  readonly type: string
  readonly rcode: string
  readonly count?: number
  readonly ttl?: number
  readonly data?: unknown[]
  readonly soa?: boolean
}

const table: Row[] = [
  { name: 'web.svc.local', type: 'A', rcode: 'NOERROR', count: MAX_MULTIVALUE, ttl: 30 },
  { name: 'WEB.Svc.Local.', type: 'A', rcode: 'NOERROR', count: MAX_MULTIVALUE, ttl: 30 },
  { name: 'web.svc.local', type: 'AAAA', rcode: 'NOERROR', count: 0, soa: true },
  { name: 'web.svc.local', type: 'SRV', rcode: 'NOERROR', count: 0, soa: true },
  { name: 'web.svc.local', type: 'TXT', rcode: 'NOERROR', count: 0, soa: true },
  {
    name: 'media.svc.local',
    type: 'SRV',
    rcode: 'NOERROR',
    ttl: 5,
    data: [
      { priority: 1, weight: 1, port: 9000, target: 'node-0.media.svc.local' },
      { priority: 1, weight: 1, port: 9001, target: 'node-1.media.svc.local' },
      { priority: 1, weight: 1, port: 9002, target: 'node-2.media.svc.local' },
    ],
  },
  { name: 'media.svc.local', type: 'A', rcode: 'NOERROR', ttl: 7, data: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] },
  { name: 'node-1.media.svc.local', type: 'A', rcode: 'NOERROR', ttl: 7, data: ['10.0.0.2'] },
  { name: 'NODE-1.media.svc.local', type: 'A', rcode: 'NOERROR', ttl: 7, data: ['10.0.0.2'] },
  { name: 'node-1.media.svc.local', type: 'AAAA', rcode: 'NOERROR', count: 0, soa: true },
  { name: 'node-7.media.svc.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  // Per-instance A exists for SRV services even without an A record config; it takes the SRV TTL.
  { name: 'abc.srvonly.svc.local', type: 'A', rcode: 'NOERROR', ttl: 12, data: ['10.1.0.1'] },
  { name: 'srvonly.svc.local', type: 'A', rcode: 'NOERROR', count: 0, soa: true },
  // A-only services have no per-instance names.
  { name: 'node-1.web.svc.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'dead.svc.local', type: 'A', rcode: 'NOERROR', count: 0, soa: true },
  { name: 'dead.svc.local', type: 'SRV', rcode: 'NOERROR', count: 0, soa: true },
  { name: 'x.dead.svc.local', type: 'A', rcode: 'NOERROR', count: 0, soa: true },
  { name: 'empty.svc.local', type: 'A', rcode: 'NOERROR', count: 0, soa: true },
  { name: 'one.svc.local', type: 'A', rcode: 'NOERROR', count: 1 },
  { name: '_http._tcp.svc.local', type: 'SRV', rcode: 'NOERROR', data: [{ priority: 1, weight: 1, port: 81, target: 'h1._http._tcp.svc.local' }] },
  { name: '_tcp.svc.local', type: 'A', rcode: 'NOERROR', count: 0, soa: true },
  { name: 'nope.svc.local', type: 'A', rcode: 'NXDOMAIN', soa: true },
  { name: 'svc.local', type: 'A', rcode: 'NOERROR', count: 0, soa: true },
  { name: 'svc.local', type: 'SOA', rcode: 'NOERROR', count: 1 },
  { name: 'example.com', type: 'A', rcode: 'REFUSED', count: 0 },
  { name: 'local', type: 'A', rcode: 'REFUSED', count: 0 },
]

for (const row of table) {
  t.test(`${row.type} ${row.name} → ${row.rcode}`, async (t) => {
    const result = answerQuestion(zones, { name: row.name, type: row.type }, firstK)
    t.equal(result.rcode, row.rcode)
    t.equal(result.authoritative, row.rcode !== 'REFUSED', 'AA only inside our zones')
    if (row.count !== undefined) t.equal(result.answers.length, row.count, 'answer count')
    if (row.data !== undefined) t.same(data(result.answers), row.data)
    if (row.ttl !== undefined) for (const answer of result.answers) t.equal('ttl' in answer ? answer.ttl : undefined, row.ttl, 'service TTL')
    if (row.soa === true) {
      t.equal(result.authorities.length, 1)
      const soa = result.authorities[0]
      t.equal(soa?.type, 'SOA')
      t.equal(soa !== undefined && 'ttl' in soa ? soa.ttl : undefined, 15, 'negative TTL from the SOA')
    }
    for (const answer of result.answers) {
      if (answer.type !== 'SOA') t.equal(answer.name, row.name.replace(/\.$/, ''), 'owner name as asked')
    }
  })
}

t.test('unhealthy instances never appear, healthy ones rotate through the 8 slots', async (t) => {
  const seen = new Set<unknown>()
  for (let i = 0; i < 200; i++) {
    const result = answerQuestion(zones, { name: 'web.svc.local', type: 'A' })
    t.ok(result.answers.length <= MAX_MULTIVALUE)
    for (const value of data(result.answers)) seen.add(value)
  }
  t.notOk(seen.has('10.0.0.10'), 'node-9 is unhealthy')
  t.equal(seen.size, 9, 'every healthy instance shows up over many queries')
})
