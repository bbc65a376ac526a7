// Message-level DNS rules (dns-handler.ts) on raw bytes: header flags, EDNS
// size and truncation, FORMERR/NOTIMP/REFUSED for odd messages, unknown types.

import t from 'tap'
import * as dnsPacket from 'dns-packet'
import type { DnsZone } from '../../infra/local/src/emulator/dns-answers.js'
import { handleQuery, UDP_DEFAULT_LIMIT } from '../../infra/local/src/emulator/dns-handler.js'
import { prng } from '../fixtures/prng.js'

const zones: DnsZone[] = [
  {
    name: 'svc.local',
    soaTtl: 15,
    services: [
      {
        name: 'big',
        routingPolicy: 'MULTIVALUE',
        ttl: { SRV: 5 },
        instances: Array.from({ length: 8 }, (_, i) => ({ id: `${i}${'x'.repeat(60)}`, ipv4: `10.0.0.${i + 1}`, port: 1000 + i, healthy: true })),
      },
      { name: 'small', routingPolicy: 'MULTIVALUE', ttl: { A: 5 }, instances: [{ id: 'a', ipv4: '10.1.0.1', healthy: true }] },
    ],
  },
]

function query(name: string, type: dnsPacket.RecordType, extra: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({ type: 'query', id: 77, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }], ...extra })
}

function opt(size: number): dnsPacket.OptAnswer {
  return { type: 'OPT', name: '.', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }
}

function decode(buf: Buffer | undefined): dnsPacket.DecodedPacket {
  if (buf === undefined) throw new Error('no response')
  return dnsPacket.decode(buf)
}

const rcode = (packet: dnsPacket.DecodedPacket): number => (packet.flags ?? 0) & 0x0f

t.test('small answers fit; flags AA, RD, QR; id and question echoed', async (t) => {
  const { response, questions } = handleQuery(query('Small.svc.local', 'A'), 'udp', zones)
  const packet = decode(response)
  t.same(questions, ['small.svc.local'])
  t.equal(packet.id, 77)
  t.equal(packet.type, 'response')
  t.ok(packet.flag_aa)
  t.ok(packet.flag_rd)
  t.notOk(packet.flag_tc)
  t.same(packet.questions, [{ name: 'Small.svc.local', type: 'A', class: 'IN' }])
  t.same(packet.answers?.map((a) => ('data' in a ? a.data : undefined)), ['10.1.0.1'])
  t.same(packet.additionals, [], 'no OPT back when the query had none')
})

t.test('over 512 bytes without EDNS: TC and no records over UDP; whole over TCP', async (t) => {
  const udp = handleQuery(query('big.svc.local', 'SRV'), 'udp', zones).response
  t.ok(udp !== undefined && udp.length <= UDP_DEFAULT_LIMIT)
  const truncated = decode(udp)
  t.ok(truncated.flag_tc)
  t.same(truncated.answers, [])
  t.equal(truncated.questions?.length, 1)
  const tcp = decode(handleQuery(query('big.svc.local', 'SRV'), 'tcp', zones).response)
  t.notOk(tcp.flag_tc)
  t.equal(tcp.answers?.length, 8)
})

t.test('EDNS payload size decides the UDP limit, and we answer with our own OPT', async (t) => {
  const fits = decode(handleQuery(query('big.svc.local', 'SRV', { additionals: [opt(4096)] }), 'udp', zones).response)
  t.notOk(fits.flag_tc)
  t.equal(fits.answers?.length, 8)
  const optBack = fits.additionals?.find((a) => a.type === 'OPT')
  t.ok(optBack, 'OPT echoed')
  const tooSmall = decode(handleQuery(query('big.svc.local', 'SRV', { additionals: [opt(600)] }), 'udp', zones).response)
  t.ok(tooSmall.flag_tc, '600 bytes is not enough')
  const below512 = decode(handleQuery(query('big.svc.local', 'SRV', { additionals: [opt(100)] }), 'udp', zones).response)
  t.ok(below512.flag_tc, 'sizes below 512 count as 512')
})

t.test('odd messages', async (t) => {
  t.equal(handleQuery(Buffer.from([1, 2]), 'udp', zones).response, undefined, 'shorter than a header: dropped')
  const garbage = Buffer.concat([Buffer.from([0x12, 0x34, 0, 0, 0, 9]), Buffer.alloc(10, 0xff)])
  const formerr = decode(handleQuery(garbage, 'udp', zones).response)
  t.equal(formerr.id, 0x1234)
  t.equal(rcode(formerr), 1, 'FORMERR')

  const noQuestion = decode(handleQuery(dnsPacket.encode({ type: 'query', id: 5, questions: [] }), 'udp', zones).response)
  t.equal(rcode(noQuestion), 1, 'no question: FORMERR')
  const two = dnsPacket.encode({ type: 'query', id: 6, questions: [{ type: 'A', name: 'small.svc.local' }, { type: 'A', name: 'big.svc.local' }] })
  t.equal(rcode(decode(handleQuery(two, 'udp', zones).response)), 1, 'two questions: FORMERR')

  const notify = query('small.svc.local', 'A')
  notify[2] = (notify[2] ?? 0) | (4 << 3)
  t.equal(rcode(decode(handleQuery(notify, 'udp', zones).response)), 4, 'NOTIFY opcode: NOTIMP')

  const chaos = dnsPacket.encode({ type: 'query', id: 8, questions: [{ type: 'TXT', name: 'version.bind', class: 'CH' }] })
  t.equal(rcode(decode(handleQuery(chaos, 'udp', zones).response)), 5, 'CHAOS class: REFUSED')

  const response = dnsPacket.encode({ type: 'response', id: 9, questions: [{ type: 'A', name: 'small.svc.local' }] })
  t.equal(handleQuery(response, 'udp', zones).response, undefined, 'responses are ignored (no reflection loops)')

  const https = query('small.svc.local', 'A')
  https.writeUInt16BE(65, https.length - 4)
  const nodata = decode(handleQuery(https, 'udp', zones).response)
  t.equal(rcode(nodata), 0, 'unknown type 65 (HTTPS) on an existing name: NODATA')
  t.same(nodata.answers, [])
  t.equal(nodata.authorities?.[0]?.type, 'SOA')
})

t.test('random and mutated messages never throw', async (t) => {
  const random = prng(0x5eed)
  const valid = query('big.svc.local', 'SRV', { additionals: [opt(1232)] })
  let answered = 0
  for (let i = 0; i < 3000; i++) {
    let message: Buffer
    if (i % 2 === 0) {
      message = Buffer.from(Array.from({ length: Math.floor(random() * 80) }, () => Math.floor(random() * 256)))
    } else {
      message = Buffer.from(valid)
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) message[Math.floor(random() * message.length)] = Math.floor(random() * 256)
    }
    const { response } = handleQuery(message, i % 3 === 0 ? 'tcp' : 'udp', zones)
    if (response !== undefined) {
      answered++
      dnsPacket.decode(response)
    }
  }
  t.ok(answered > 0, `${answered} of 3000 answered, none threw`)
})
