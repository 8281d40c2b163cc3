/**
 * The wire edge of the DNS server: a query packet in, the response packet out (dns-packet does
 * the encoding). Malformed queries get FORMERR when their header can be read and nothing
 * otherwise; other opcodes NOTIMP; UDP answers that do not fit 512 bytes (or the client's EDNS
 * size) are sent truncated with TC set, so the client retries over TCP. Never throws.
 */
import dnsPacket from 'dns-packet'
import type { Answer, DecodedPacket, Packet } from 'dns-packet'
import { answerQuestion, type DnsAnswer } from './answer-question.js'
import type { DnsRecord } from './dns-records.js'
import type { DnsZone } from './dns-zone.js'

export type DnsTransport = 'udp' | 'tcp'

const rcodeNumbers = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const
type Rcode = keyof typeof rcodeNumbers

/** RFC 1035 without EDNS, and the largest EDNS size kpe honours (RFC 9715's advice is lower still). */
const classicUdpSize = 512
const maxUdpSize = 4096
const headerBytes = 12


function header(id: number, queryFlags: number, rcode: Rcode, authoritative: boolean): Packet {
  const rd = queryFlags & dnsPacket.RECURSION_DESIRED
  const opcode = queryFlags & 0x7800
  return { type: 'response', id, flags: opcode | rd | (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcodeNumbers[rcode] }
}

/** A bare error answer built from the raw header alone, for queries dns-packet cannot decode. */
function errorFromHeader(query: Buffer, rcode: Rcode): Buffer | undefined {
  if (query.length < headerBytes) return undefined
  const flags = query.readUInt16BE(2)
  if (flags & 0x8000) return undefined // a response: never answer one (no reflection loops)
  return dnsPacket.encode(header(query.readUInt16BE(0), flags, rcode, false))
}

const toWire = (records: readonly DnsRecord[]): Answer[] => records.map((r) => ({ ...r }) as Answer)

function ednsSize(q: DecodedPacket): number | undefined {
  const opt = q.additionals?.find((a) => a.type === 'OPT')
  if (!opt || opt.type !== 'OPT') return undefined
  return Math.min(maxUdpSize, Math.max(classicUdpSize, opt.udpPayloadSize))
}

/** The response to one query packet; undefined when nothing should be sent back. */
export function respondToQuery(query: Buffer, zone: DnsZone, transport: DnsTransport): Buffer | undefined {
  let q: DecodedPacket
  try {
    q = dnsPacket.decode(query)
  } catch {
    return errorFromHeader(query, 'FORMERR')
  }
  try {
    if (q.type !== 'query') return undefined
    const id = q.id ?? 0
    const flags = q.flags ?? 0
    const edns = ednsSize(q)
    const opt: Answer[] = edns === undefined ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: maxUdpSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as Answer]
    if (((flags >> 11) & 0xf) !== 0) return dnsPacket.encode({ ...header(id, flags, 'NOTIMP', false), questions: q.questions ?? [] })
    const question = q.questions?.[0]
    if (!question || q.questions!.length !== 1) return dnsPacket.encode({ ...header(id, flags, 'FORMERR', false), questions: q.questions ?? [] })
    const answer: DnsAnswer = (question.class ?? 'IN') === 'IN'
      ? answerQuestion(zone, { name: question.name, type: String(question.type) })
      : { rcode: 'REFUSED', authoritative: false, answers: [], authority: [], additionals: [] }
    const full: Packet = {
      ...header(id, flags, answer.rcode, answer.authoritative),
      questions: [question],
      answers: toWire(answer.answers),
      authorities: toWire(answer.authority),
      additionals: [...toWire(answer.additionals), ...opt],
    }
    const wire = dnsPacket.encode(full)
    // TCP's limit is its two-byte length prefix.
    const limit = transport === 'tcp' ? 0xffff : edns ?? classicUdpSize
    if (wire.length <= limit) return wire
    return dnsPacket.encode({ ...full, flags: (full.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: opt })
  } catch {
    // A question dns-packet decoded but cannot encode back (a type it only half knows).
    return errorFromHeader(query, 'SERVFAIL')
  }
}
