// One DNS message in, one DNS message out (or nothing): decoding with
// dns-packet, header rules (opcode, class, FORMERR for garbage), EDNS payload
// size, and UDP truncation (TC) when the answer does not fit. Sockets live in
// dns-server.ts; the records themselves come from dns-answers.ts.

import * as dnsPacket from 'dns-packet'
import type { Answer, DecodedPacket, OptAnswer, Packet, Question } from 'dns-packet'
import { answerQuestion, normalizeName, randomPicker, type DnsZone, type Picker } from './dns-answers.js'

export type Transport = 'udp' | 'tcp'

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const
/** Classic DNS-over-UDP limit when the query carries no EDNS OPT record. */
export const UDP_DEFAULT_LIMIT = 512
/** Largest UDP payload we will send even if a client advertises more. */
export const UDP_MAX_LIMIT = 4096
/** The payload size we advertise in our own OPT record (DNS flag day 2020 value). */
export const EDNS_ADVERTISED = 1232

export interface HandledQuery {
  /** The encoded response, or undefined when the message must be ignored. */
  readonly response: Buffer | undefined
  /** Lower-case question names, no trailing dot (empty for garbage). */
  readonly questions: readonly string[]
}

function isOpt(record: Answer): record is OptAnswer {
  return record.type === 'OPT'
}

function opcodeOf(query: Buffer): number {
  return query.length >= 3 ? ((query[2] ?? 0) >> 3) & 0x0f : 0
}

/** Header-only error answer; echoes the questions when they can be encoded. */
function errorResponse(id: number, rcode: number, questions: Packet['questions'] = []): Buffer {
  try {
    return dnsPacket.encode({ type: 'response', id, flags: rcode, questions })
  } catch {
    return dnsPacket.encode({ type: 'response', id, flags: rcode, questions: [] })
  }
}

function ourOpt(): OptAnswer {
  return { type: 'OPT', name: '.', udpPayloadSize: EDNS_ADVERTISED, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }
}

/**
 * Answer one DNS message against the zones. Garbage with at least a header id
 * gets FORMERR; anything shorter, and any message that is itself a response,
 * is dropped.
 */
export function handleQuery(query: Buffer, transport: Transport, zones: readonly DnsZone[], pick: Picker = randomPicker): HandledQuery {
  let decoded: DecodedPacket
  try {
    decoded = dnsPacket.decode(query)
  } catch {
    return { response: query.length >= 12 ? errorResponse(query.readUInt16BE(0), RCODE.FORMERR) : undefined, questions: [] }
  }
  const id = decoded.id ?? 0
  if (decoded.type === 'response') return { response: undefined, questions: [] }
  const questions = decoded.questions ?? []
  const names = questions.map((question) => normalizeName(question.name))
  if (opcodeOf(query) !== 0) return { response: errorResponse(id, RCODE.NOTIMP, questions), questions: names }
  const question = questions[0]
  if (question === undefined || questions.length !== 1) return { response: errorResponse(id, RCODE.FORMERR, questions), questions: names }
  if (question.class !== undefined && question.class !== 'IN') {
    return { response: errorResponse(id, RCODE.REFUSED, questions), questions: names }
  }

  try {
    return { response: encodeAnswer(decoded, question, transport, zones, pick), questions: names }
  } catch {
    // Something in the question we cannot echo back (e.g. an odd name): SERVFAIL.
    return { response: errorResponse(id, RCODE.SERVFAIL), questions: names }
  }
}

/**
 * SERVFAIL for `query` (the fault switch): the header and its questions, or
 * undefined for a message that would not get an answer anyway.
 */
export function servfailFor(query: Buffer): Buffer | undefined {
  try {
    const decoded = dnsPacket.decode(query)
    if (decoded.type === 'response') return undefined
    return errorResponse(decoded.id ?? 0, RCODE.SERVFAIL, decoded.questions ?? [])
  } catch {
    return undefined
  }
}

function encodeAnswer(decoded: DecodedPacket, question: Question, transport: Transport, zones: readonly DnsZone[], pick: Picker): Buffer {
  const id = decoded.id ?? 0
  const result = answerQuestion(zones, { name: question.name, type: question.type }, pick)
  const queryOpt = (decoded.additionals ?? []).find(isOpt)
  const limit =
    transport === 'tcp'
      ? Infinity
      : queryOpt === undefined
        ? UDP_DEFAULT_LIMIT
        : Math.min(Math.max(queryOpt.udpPayloadSize, UDP_DEFAULT_LIMIT), UDP_MAX_LIMIT)
  let flags = RCODE[result.rcode]
  if (result.authoritative) flags |= dnsPacket.AUTHORITATIVE_ANSWER
  if (decoded.flag_rd) flags |= dnsPacket.RECURSION_DESIRED
  const packet: Packet = {
    type: 'response',
    id,
    flags,
    questions: [question],
    answers: result.answers,
    authorities: result.authorities,
    additionals: queryOpt === undefined ? [] : [ourOpt()],
  }
  const full = dnsPacket.encode(packet)
  if (full.length <= limit) return full
  // Does not fit: send the header and question with TC set; the client retries over TCP.
  return dnsPacket.encode({ ...packet, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] })
}
