/**
 * Values as the nft interpreter compares them: a packet field becomes a `Val` (a canonical key
 * for O(1) set and map lookups, plus the parsed address or number for intervals), and each
 * element key part of a set becomes an exact key or an interval test, by the set's data type.
 */
import type { PacketAddress } from '../../interpreter/address.js'
import { addressMatches, hostKey, parseAddressTest, parsePacketAddress } from '../../interpreter/address.js'

export interface Val {
  readonly key: string
  readonly addr?: PacketAddress
  readonly num?: number
}

export type PartTest = { readonly exact: string } | { readonly test: (v: Val) => boolean }

const protoNumbers: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp', '1': 'icmp', '58': 'ipv6-icmp' }

export function protoName(text: string): string {
  return protoNumbers[text] ?? text
}

export function addrVal(a: PacketAddress): Val {
  return { key: String(a.key), addr: a }
}

export function numVal(n: number): Val {
  return { key: String(n), num: n }
}

/** Hex (`0x4000`) or decimal; undefined if neither. */
export function parseNumber(text: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(text)) return Number.parseInt(text, 16)
  if (/^\d+$/.test(text)) return Number(text)
  return undefined
}

function addressPart(text: string): PartTest | undefined {
  const dash = text.indexOf('-')
  if (dash > 0) {
    const lo = parsePacketAddress(text.slice(0, dash))
    const hi = parsePacketAddress(text.slice(dash + 1))
    if (!lo || !hi || lo.family !== hi.family) return undefined
    return lo.family === 'IPv4'
      ? { test: (v) => v.addr?.family === 'IPv4' && v.addr.v4 >= lo.v4 && v.addr.v4 <= hi.v4 }
      : { test: (v) => v.addr?.family === 'IPv6' && v.addr.v6 >= lo.v6 && v.addr.v6 <= hi.v6 }
  }
  const t = parseAddressTest(text)
  if (!t) return undefined
  const host = hostKey(t)
  if (host !== undefined) return { exact: String(host) }
  return { test: (v) => v.addr !== undefined && addressMatches(t, v.addr) }
}

function numberPart(text: string): PartTest | undefined {
  const dash = text.indexOf('-')
  if (dash > 0) {
    const lo = parseNumber(text.slice(0, dash))
    const hi = parseNumber(text.slice(dash + 1))
    if (lo === undefined || hi === undefined) return undefined
    return { test: (v) => v.num !== undefined && v.num >= lo && v.num <= hi }
  }
  const n = parseNumber(text)
  return n === undefined ? undefined : { exact: String(n) }
}

/** One element key part, read by its data type; undefined if the text is not of that type. */
export function compilePart(type: string, text: string): PartTest | undefined {
  switch (type) {
    case 'ipv4_addr':
    case 'ipv6_addr':
      return addressPart(text)
    case 'inet_service':
    case 'mark':
      return numberPart(text)
    case 'inet_proto':
      return { exact: protoName(text) }
    default:
      return { exact: text }
  }
}

/**
 * A literal on the right of a match, typed by what the left side yields: an address, CIDR or
 * range for addresses, a number for ports and marks, a name otherwise.
 */
export function compileLiteral(kind: 'addr' | 'num' | 'name', text: string): PartTest | undefined {
  return kind === 'addr' ? addressPart(text) : kind === 'num' ? numberPart(text) : { exact: kind === 'name' ? protoName(text) : text }
}

export function partMatches(p: PartTest, v: Val): boolean {
  return 'exact' in p ? p.exact === v.key : p.test(v)
}
