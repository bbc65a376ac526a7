// The emulator's DNS server through Node's own resolver (c-ares) and raw
// UDP/TCP sockets: multivalue A, SRV, per-instance A, NXDOMAIN/REFUSED/NODATA,
// TTLs, health, TC + TCP fallback, garbage, drop mode, stop/start.

import t from 'tap'
import { createSocket } from 'node:dgram'
import { promises as dns } from 'node:dns'
import { connect } from 'node:net'
import * as dnsPacket from 'dns-packet'
import { UpdateInstanceCustomHealthStatusCommand, type ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery'
import type { Emulator } from '../../infra/local/src/emulator/index.js'
import { deregisterInstance, ensurePrivateDnsNamespace, ensureService, registerInstance } from '../../infra/local/src/emulator/sdk-setup.js'
import { setup, type TapTest } from './helpers.js'

function resolverFor(emu: Emulator, options: { timeout?: number; tries?: number } = {}): dns.Resolver {
  const resolver = new dns.Resolver(options)
  resolver.setServers([`${emu.dns.host}:${emu.dns.port}`])
  return resolver
}

async function rejectsCode(t: TapTest, promise: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await promise
    t.fail(`${what}: expected ${code}, resolved instead`)
  } catch (err) {
    t.equal(err instanceof Error && 'code' in err ? err.code : undefined, code, what)
  }
}

/** One UDP exchange; resolves with the decoded answer or undefined after `ms` (generous by default: a busy machine may answer late). */
function udpExchange(emu: Emulator, message: Buffer, ms = 10_000): Promise<dnsPacket.DecodedPacket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4')
    socket.on('error', () => {
      clearTimeout(timer)
      socket.close()
      resolve(undefined)
    })
    const timer = setTimeout(() => {
      socket.close()
      resolve(undefined)
    }, ms)
    socket.on('message', (msg) => {
      clearTimeout(timer)
      socket.close()
      try {
        resolve(dnsPacket.decode(msg))
      } catch (err) {
        reject(err)
      }
    })
    socket.send(message, emu.dns.port, emu.dns.host)
  })
}

/** Several length-prefixed queries on one TCP connection, in one write. */
function tcpExchange(emu: Emulator, messages: Buffer[]): Promise<dnsPacket.DecodedPacket[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(emu.dns.port, emu.dns.host)
    const out: dnsPacket.DecodedPacket[] = []
    let pending = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        out.push(dnsPacket.decode(pending.subarray(2, 2 + pending.readUInt16BE(0))))
        pending = pending.subarray(2 + pending.readUInt16BE(0))
      }
      if (out.length === messages.length) {
        socket.end()
        resolve(out)
      }
    })
    socket.on('error', reject)
    socket.write(Buffer.concat(messages.map((message) => {
      const prefix = Buffer.alloc(2)
      prefix.writeUInt16BE(message.length, 0)
      return Buffer.concat([prefix, message])
    })))
  })
}

const RCODES: Readonly<Record<number, string>> = { 0: 'NOERROR', 1: 'FORMERR', 3: 'NXDOMAIN', 5: 'REFUSED' }

/** The response code (low 4 bits of the header flags) by name. */
function rcodeOf(packet: dnsPacket.DecodedPacket | undefined): string | undefined {
  return packet === undefined ? undefined : RCODES[(packet.flags ?? 0) & 0x0f]
}

function query(name: string, type: dnsPacket.RecordType, id = 1234, opt?: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: opt === undefined ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: opt, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  })
}

interface Fixture {
  emu: Emulator
  client: ServiceDiscoveryClient
  mediaId: string
  webId: string
}

/** Namespace svc.local: `web` (A, TTL 30, 10 instances), `media` (SRV+A, TTL 5, custom health, 3 instances). */
async function fixture(t: TapTest): Promise<Fixture> {
  const { emu, client } = await setup(t)
  const nsId = await ensurePrivateDnsNamespace(client, 'svc.local')
  const webId = await ensureService(client, { namespaceId: nsId, name: 'web', records: [{ type: 'A', ttl: 30 }] })
  for (let i = 0; i < 10; i++) await registerInstance(client, { serviceId: webId, instanceId: `web-${i}`, ipv4: `10.0.0.${i + 1}`, port: 80 })
  const mediaId = await ensureService(client, { namespaceId: nsId, name: 'media', records: [{ type: 'SRV', ttl: 5 }, { type: 'A', ttl: 5 }], customHealth: true })
  for (let i = 0; i < 3; i++) await registerInstance(client, { serviceId: mediaId, instanceId: `node-${i}`, ipv4: `10.1.0.${i + 1}`, port: 9000 + i })
  return { emu, client, mediaId, webId }
}

t.test('A multivalue: at most 8 of 10 healthy instances, with the service TTL', async (t) => {
  const { emu } = await fixture(t)
  const answers = await resolverFor(emu).resolve4('web.svc.local', { ttl: true })
  t.equal(answers.length, 8)
  t.equal(new Set(answers.map((a) => a.address)).size, 8, 'no duplicates')
  for (const answer of answers) {
    t.match(answer.address, /^10\.0\.0\.\d+$/)
    t.equal(answer.ttl, 30)
  }
  t.equal(emu.stats.dnsQueriesFor('web.svc.local'), 1)
  t.equal(emu.stats.dnsQueriesFor('WEB.svc.local.'), 1, 'lookup is case- and dot-insensitive')
})

t.test('SRV: 1 1 <port> <InstanceId>.<service>.<namespace>, and per-instance A records', async (t) => {
  const { emu } = await fixture(t)
  const resolver = resolverFor(emu)
  const srv = await resolver.resolveSrv('media.svc.local')
  t.same(
    srv.sort((a, b) => a.port - b.port),
    [
      { name: 'node-0.media.svc.local', port: 9000, priority: 1, weight: 1 },
      { name: 'node-1.media.svc.local', port: 9001, priority: 1, weight: 1 },
      { name: 'node-2.media.svc.local', port: 9002, priority: 1, weight: 1 },
    ],
  )
  t.same(await resolver.resolve4('node-1.media.svc.local', { ttl: true }), [{ address: '10.1.0.2', ttl: 5 }])
  t.same((await resolver.resolve4('media.svc.local')).sort(), ['10.1.0.1', '10.1.0.2', '10.1.0.3'])
})

t.test('NXDOMAIN inside a namespace, REFUSED outside, NODATA for other types', async (t) => {
  const { emu } = await fixture(t)
  const resolver = resolverFor(emu)
  await rejectsCode(t, resolver.resolve4('nope.svc.local'), 'ENOTFOUND', 'unknown service')
  await rejectsCode(t, resolver.resolve4('node-9.media.svc.local'), 'ENOTFOUND', 'unknown instance')
  await rejectsCode(t, resolver.resolve4('node-1.web.svc.local'), 'ENOTFOUND', 'A-only services have no instance names')
  await rejectsCode(t, resolver.resolve4('example.com'), 'EREFUSED', 'outside every namespace')
  await rejectsCode(t, resolver.resolve6('web.svc.local'), 'ENODATA', 'AAAA of an A service')
  await rejectsCode(t, resolver.resolveSrv('web.svc.local'), 'ENODATA', 'SRV of an A service')

  const nx = await udpExchange(emu, query('nope.svc.local', 'A'))
  t.equal(rcodeOf(nx), 'NXDOMAIN')
  t.equal(nx?.flag_aa, true, 'authoritative')
  const soa = nx?.authorities?.[0]
  t.equal(soa?.type, 'SOA')
  t.equal(soa !== undefined && 'ttl' in soa ? soa.ttl : undefined, 15, 'negative TTL = namespace SOA TTL')
  const refused = await udpExchange(emu, query('example.com', 'A'))
  t.equal(rcodeOf(refused), 'REFUSED')
  t.equal(refused?.flag_aa, false)
  const ok = await udpExchange(emu, query('web.svc.local', 'A', 4321))
  t.equal(ok?.id, 4321)
  t.equal(ok?.flag_aa, true)
  t.equal(ok?.flag_rd, true, 'RD echoed')
  t.equal(rcodeOf(ok), 'NOERROR')
})

t.test('UNHEALTHY instances leave the answers; no healthy instance is NODATA', async (t) => {
  const { emu, client, mediaId } = await fixture(t)
  const resolver = resolverFor(emu)
  const setHealth = (id: string, status: 'HEALTHY' | 'UNHEALTHY'): Promise<unknown> =>
    client.send(new UpdateInstanceCustomHealthStatusCommand({ ServiceId: mediaId, InstanceId: id, Status: status }))
  await setHealth('node-1', 'UNHEALTHY')
  t.same((await resolver.resolve4('media.svc.local')).sort(), ['10.1.0.1', '10.1.0.3'])
  t.same((await resolver.resolveSrv('media.svc.local')).map((r) => r.name).sort(), ['node-0.media.svc.local', 'node-2.media.svc.local'])
  await rejectsCode(t, resolver.resolve4('node-1.media.svc.local'), 'ENODATA', 'per-instance A of an unhealthy instance')
  await setHealth('node-0', 'UNHEALTHY')
  await setHealth('node-2', 'UNHEALTHY')
  await rejectsCode(t, resolver.resolve4('media.svc.local'), 'ENODATA', 'A with nothing healthy')
  await rejectsCode(t, resolver.resolveSrv('media.svc.local'), 'ENODATA', 'SRV with nothing healthy')
  await setHealth('node-2', 'HEALTHY')
  t.same(await resolver.resolve4('media.svc.local'), ['10.1.0.3'], 'back when healthy again')
  await deregisterInstance(client, mediaId, 'node-2')
  await rejectsCode(t, resolver.resolve4('node-2.media.svc.local'), 'ENOTFOUND', 'deregistered instance name is gone')
})

t.test('answers over 512 bytes: TC over UDP, full answer over TCP, Node resolver gets all records', async (t) => {
  const { emu, client } = await setup(t)
  const namespace = 'a-rather-long-private-namespace-name-for-testing.svc.local'
  const nsId = await ensurePrivateDnsNamespace(client, namespace)
  const service = 'media-service-with-a-long-name'
  const serviceId = await ensureService(client, { namespaceId: nsId, name: service, records: [{ type: 'SRV', ttl: 5 }, { type: 'A', ttl: 5 }] })
  const ids = Array.from({ length: 8 }, (_, i) => `${String(i).padStart(2, '0')}${'f'.repeat(58)}`)
  for (const [i, id] of ids.entries()) await registerInstance(client, { serviceId, instanceId: id, ipv4: `10.2.0.${i + 1}`, port: 7000 + i })
  const name = `${service}.${namespace}`

  const udp = await udpExchange(emu, query(name, 'SRV'))
  t.equal(udp?.flag_tc, true, 'TC set without EDNS')
  t.same(udp?.answers, [], 'no partial answer')
  const big = await udpExchange(emu, query(name, 'SRV', 99, 4096))
  t.equal(big?.flag_tc, false, 'fits when the client advertises 4096 bytes')
  t.equal(big?.answers?.length, 8)

  const [first, second] = await tcpExchange(emu, [query(name, 'SRV', 1), query(`${ids[3]}.${name}`, 'A', 2)])
  t.equal(first?.id, 1)
  t.equal(first?.flag_tc, false)
  t.equal(first?.answers?.length, 8, 'TCP carries all records')
  t.equal(second?.id, 2, 'second message on the same connection')
  t.same(second?.answers?.map((a) => ('data' in a ? a.data : undefined)), ['10.2.0.4'])

  emu.stats.reset()
  const srv = await resolverFor(emu).resolveSrv(name)
  t.same(srv.map((r) => r.name).sort(), ids.map((id) => `${id}.${name}`).sort(), 'resolver got all 8')
  t.ok(emu.stats.dnsQueriesFor(name) >= 2, `asked again after TC (${emu.stats.dnsQueriesFor(name)} queries)`)
})

t.test('garbage does not crash the server', async (t) => {
  const { emu } = await fixture(t)
  t.equal(await udpExchange(emu, Buffer.from([1, 2, 3]), 200), undefined, 'too short to answer: dropped')
  const formerr = await udpExchange(emu, Buffer.concat([Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x05]), Buffer.alloc(20, 0xff)]))
  t.equal(formerr?.id, 0xabcd)
  t.equal(rcodeOf(formerr), 'FORMERR')
  const tcpGarbage = await tcpExchange(emu, [Buffer.alloc(30, 0xee)])
  t.equal(rcodeOf(tcpGarbage[0]), 'FORMERR', 'TCP garbage gets FORMERR too')
  t.same(await resolverFor(emu).resolveSrv('media.svc.local').then((r) => r.length), 3, 'valid queries still work')
  t.ok(emu.stats.dnsQueries() >= 4, 'garbage is counted')
})

t.test('drop mode: queries are received but never answered', async (t) => {
  const { emu } = await fixture(t)
  emu.setDnsMode('drop')
  emu.stats.reset()
  await rejectsCode(t, resolverFor(emu, { timeout: 200, tries: 1 }).resolve4('web.svc.local'), 'ETIMEOUT', 'resolver times out')
  t.ok(emu.stats.dnsQueriesFor('web.svc.local') >= 1, 'the query arrived')
  emu.setDnsMode('answer')
  t.equal((await resolverFor(emu).resolve4('web.svc.local')).length, 8)
})

t.test('stopDns / startDns: same port, refused while stopped', async (t) => {
  const { emu } = await fixture(t)
  const port = emu.dns.port
  await emu.stopDns()
  await rejectsCode(t, new Promise((resolve, reject) => {
    const socket = connect(port, emu.dns.host)
    socket.on('connect', () => {
      socket.destroy()
      resolve(undefined)
    })
    socket.on('error', reject)
  }), 'ECONNREFUSED', 'TCP refused while stopped')
  t.equal(await udpExchange(emu, query('web.svc.local', 'A'), 200), undefined, 'no UDP answer while stopped')
  await emu.startDns()
  t.equal(emu.dns.port, port)
  t.equal((await resolverFor(emu).resolve4('web.svc.local')).length, 8, 'answers again')
})
