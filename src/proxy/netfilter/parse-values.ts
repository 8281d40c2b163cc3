/**
 * Parsers for the small values inside iptables rule arguments: ports and port ranges, marks,
 * integers, probabilities, protocols and conntrack states. Each throws a ParseError naming the
 * line; none knows about rules or modules.
 */
import { ParseError } from '../../errors.js'
import type { CtState, Match, MarkValue, PortSpec } from './types.js'

/** Where a value came from, for error messages. */
export interface ValueSite {
  readonly line: number
  readonly source?: string
}

export function fail(site: ValueSite, reason: string): never {
  throw new ParseError(site.line, reason, site.source === undefined ? {} : { source: site.source })
}

function portNumber(text: string, site: ValueSite, what: string): number {
  if (!/^\d{1,5}$/.test(text)) fail(site, `bad port ${JSON.stringify(text)} in ${what}`)
  const n = Number(text)
  if (n > 65535) fail(site, `bad port ${JSON.stringify(text)} in ${what}`)
  return n
}

/** `80`, `80:90`, and the open forms `1024:` (to 65535) and `:1023` (from 0). */
export function parsePortSpec(text: string, site: ValueSite, what: string): PortSpec {
  const colon = text.indexOf(':')
  if (colon < 0) return { from: portNumber(text, site, what) }
  const a = text.slice(0, colon)
  const b = text.slice(colon + 1)
  const from = a === '' ? 0 : portNumber(a, site, what)
  const to = b === '' ? 65535 : portNumber(b, site, what)
  return { from, to }
}

export function parsePortList(text: string, site: ValueSite, what: string): PortSpec[] {
  return text.split(',').map((p) => parsePortSpec(p, site, what))
}

export function parseUint(text: string, site: ValueSite, what: string, max = 2 ** 32 - 1): number {
  if (!/^\d{1,10}$/.test(text)) fail(site, `bad number ${JSON.stringify(text)} for ${what}`)
  const n = Number(text)
  if (n > max) fail(site, `number ${text} out of range for ${what}`)
  return n
}

export function parseProbability(text: string, site: ValueSite): number {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text)) fail(site, `bad probability ${JSON.stringify(text)}`)
  const p = Number(text)
  if (!(p >= 0 && p <= 1)) fail(site, `probability ${text} out of range [0, 1]`)
  return p
}

function markNumber(text: string, site: ValueSite): MarkValue {
  const hex = /^0[xX]([0-9a-fA-F]{1,8})$/.exec(text)
  if (hex) return { value: Number.parseInt(hex[1]!, 16), digits: hex[1]!.length }
  if (/^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff) {
    const value = Number(text)
    return { value, digits: value.toString(16).length }
  }
  return fail(site, `bad mark ${JSON.stringify(text)}`)
}

/** `V` or `V/M`, hex (`0x4000`, digit count kept) or decimal. */
export function parseMark(text: string, site: ValueSite): { value: MarkValue; mask?: MarkValue } {
  const slash = text.indexOf('/')
  if (slash < 0) return { value: markNumber(text, site) }
  return { value: markNumber(text.slice(0, slash), site), mask: markNumber(text.slice(slash + 1), site) }
}

type ProtocolName = Extract<Match, { kind: 'protocol' }>['proto']
const protocolNames: Readonly<Record<string, ProtocolName>> = {
  tcp: 'tcp', udp: 'udp', sctp: 'sctp', icmp: 'icmp', 'ipv6-icmp': 'ipv6-icmp', icmpv6: 'ipv6-icmp', all: 'all',
  '6': 'tcp', '17': 'udp', '132': 'sctp', '1': 'icmp', '58': 'ipv6-icmp', '0': 'all',
}

export function parseProtocol(text: string, site: ValueSite): ProtocolName {
  const p = protocolNames[text.toLowerCase()]
  if (p === undefined) fail(site, `unsupported protocol ${JSON.stringify(text)} (kpe models tcp, udp, sctp, icmp, ipv6-icmp, all)`)
  return p
}

const ctStates: ReadonlySet<string> = new Set<CtState>(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED', 'SNAT', 'DNAT'])

export function parseCtStates(text: string, site: ValueSite): CtState[] {
  return text.split(',').map((s) => {
    if (!ctStates.has(s)) fail(site, `unknown conntrack state ${JSON.stringify(s)}`)
    return s as CtState
  })
}
