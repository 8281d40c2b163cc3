/**
 * Values as the nft interpreter compares them: a packet field becomes a `Val` (a canonical key
 * for O(1) set and map lookups, plus the parsed address or number for intervals), and each
 * element key part of a set becomes an exact key, a range, or (rarely) a test, by the set's
 * data type. Keys are numbers where the value is one (IPv4 addresses, ports, marks), so lookups
 * hash a number instead of building a string.
 */
import type { PacketAddress } from '../../interpreter/address.js'
import { addressMatches, hostKey, parseAddressTest, parsePacketAddress } from '../../interpreter/address.js'

export type ValKey = number | string

export interface Val {
  readonly key: ValKey
  readonly addr?: PacketAddress
  readonly num?: number
}

/**
 * One element key part. A range is inclusive and typed by what it compares: IPv4 addresses,
 * numbers (ports, marks) or IPv6 addresses; `test` is left for what no range can say (an IPv4
 * CIDR with a non-contiguous dotted mask).
 */
export type PartTest =
  | { readonly exact: ValKey }
  | { readonly range: 'v4' | 'num'; readonly lo: number; readonly hi: number }
  | { readonly range: 'v6'; readonly lo: bigint; readonly hi: bigint }
  | { readonly test: (v: Val) => boolean }

const protoNumbers: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp', '1': 'icmp', '58': 'ipv6-icmp' }

export function protoName(text: string): string {
  return protoNumbers[text] ?? text
}

export function addrVal(a: PacketAddress): Val {
  return { key: a.key, addr: a }
}

/** Ports and small marks come from one table, so reading them allocates nothing. */
const smallNums: Val[] = []

export function numVal(n: number): Val {
  if (n >= 0 && n < 65536 && Number.isInteger(n)) return (smallNums[n] ??= { key: n, num: n })
  return { key: n, num: n }
}

const names = new Map<string, Val>()

/** A name (`tcp`, `new`, `local`, an interface) as a Val; the fixed vocabulary is shared. */
export function nameVal(name: string): Val {
  let v = names.get(name)
  if (v === undefined) {
    v = { key: name }
    // Interface names are the only open-ended ones; keep the table bounded.
    if (names.size < 1024) names.set(name, v)
  }
  return v
}

/** Hex (`0x4000`) or decimal; undefined if neither. */
export function parseNumber(text: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(text)) return Number.parseInt(text, 16)
  if (/^\d+$/.test(text)) return Number(text)
  return undefined
}

const allV6 = (1n << 128n) - 1n

function addressPart(text: string): PartTest | undefined {
  const dash = text.indexOf('-')
  if (dash > 0) {
    const lo = parsePacketAddress(text.slice(0, dash))
    const hi = parsePacketAddress(text.slice(dash + 1))
    if (!lo || !hi || lo.family !== hi.family) return undefined
    return lo.family === 'IPv4' ? { range: 'v4', lo: lo.v4, hi: hi.v4 } : { range: 'v6', lo: lo.v6, hi: hi.v6 }
  }
  const t = parseAddressTest(text)
  if (!t) return undefined
  const host = hostKey(t)
  if (host !== undefined) return { exact: host }
  if (t.family === 'IPv6') return { range: 'v6', lo: t.net, hi: t.net | (~t.mask & allV6) }
  const span = ~t.mask >>> 0
  // A prefix mask leaves a span of the form 2^k - 1; a dotted mask may not.
  if ((span & (span + 1)) === 0) return { range: 'v4', lo: t.net, hi: t.net + span }
  return { test: (v) => v.addr !== undefined && addressMatches(t, v.addr) }
}

function numberPart(text: string): PartTest | undefined {
  const dash = text.indexOf('-')
  if (dash > 0) {
    const lo = parseNumber(text.slice(0, dash))
    const hi = parseNumber(text.slice(dash + 1))
    if (lo === undefined || hi === undefined) return undefined
    return { range: 'num', lo, hi }
  }
  const n = parseNumber(text)
  return n === undefined ? undefined : { exact: n }
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

/** The number a range of this kind compares, or undefined when the value is not of its kind. */
export function rangeValue(kind: 'v4' | 'num', v: Val): number | undefined {
  if (kind === 'num') return v.num
  return v.addr?.family === 'IPv4' ? v.addr.v4 : undefined
}

export function partMatches(p: PartTest, v: Val): boolean {
  if ('exact' in p) return p.exact === v.key
  if ('test' in p) return p.test(v)
  if (p.range === 'v6') return v.addr?.family === 'IPv6' && v.addr.v6 >= p.lo && v.addr.v6 <= p.hi
  const x = rangeValue(p.range, v)
  return x !== undefined && x >= p.lo && x <= p.hi
}
