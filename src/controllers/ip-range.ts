/**
 * Address ranges the allocators hand out from: a service CIDR (network address, and for IPv4
 * the broadcast address, excluded, as upstream's ipallocator does) or an explicit "from-to"
 * pool. Pure bigint arithmetic over src/net; no state.
 */
import { bigIntToIP, ipFamily, ipToBigInt, parseCidr, parseIP, type IPAddress, type IPFamily } from '../net/index.js'

export interface IpRange {
  /** How the range was written: a CIDR or "first-last". */
  readonly text: string
  readonly family: IPFamily
  readonly first: bigint
  readonly last: bigint
}

export function rangeSize(r: IpRange): bigint {
  return r.last - r.first + 1n
}

/** Usable service IPs of a CIDR; undefined when the text is not a CIDR or has no usable address. */
export function serviceRangeOfCidr(text: string): IpRange | undefined {
  const c = parseCidr(text)
  if (!c) return undefined
  const bits = c.family === 'IPv4' ? 32 : 128
  const size = 1n << BigInt(bits - c.prefix)
  const first = c.network + 1n
  const last = c.family === 'IPv4' ? c.network + size - 2n : c.network + size - 1n
  if (last < first) return undefined
  return { text: c.cidr, family: c.family, first, last }
}

/** "192.168.77.200-192.168.77.250", a single address, or a CIDR (every address in it). */
export function parseAddressRange(text: string): IpRange | undefined {
  const dash = text.indexOf('-')
  if (dash >= 0) {
    const a = parseIP(text.slice(0, dash).trim())
    const b = parseIP(text.slice(dash + 1).trim())
    if (!a || !b || ipFamily(a) !== ipFamily(b)) return undefined
    const first = ipToBigInt(a)
    const last = ipToBigInt(b)
    return last < first ? undefined : { text: `${a}-${b}`, family: ipFamily(a), first, last }
  }
  if (text.includes('/')) {
    const c = parseCidr(text)
    if (!c) return undefined
    const bits = c.family === 'IPv4' ? 32 : 128
    return { text: c.cidr, family: c.family, first: c.network, last: c.network + (1n << BigInt(bits - c.prefix)) - 1n }
  }
  const ip = parseIP(text.trim())
  return ip ? { text: ip, family: ipFamily(ip), first: ipToBigInt(ip), last: ipToBigInt(ip) } : undefined
}

export function rangeContains(r: IpRange, ip: string): boolean {
  const parsed = parseIP(ip)
  if (!parsed || ipFamily(parsed) !== r.family) return false
  const v = ipToBigInt(parsed)
  return v >= r.first && v <= r.last
}

export function addressAt(r: IpRange, offset: bigint): IPAddress {
  return bigIntToIP(r.first + offset, r.family)
}

/**
 * The lowest address of the range (from `startOffset` on) that `isTaken` does not claim.
 * Deterministic on purpose (upstream picks at random): see docs/cluster-config.md.
 */
export function lowestFreeAddress(r: IpRange, isTaken: (ip: IPAddress) => boolean, startOffset = 0n): IPAddress | undefined {
  for (let v = r.first + startOffset; v <= r.last; v++) {
    const ip = bigIntToIP(v, r.family)
    if (!isTaken(ip)) return ip
  }
  return undefined
}

export function canonicalIP(text: string): IPAddress | undefined {
  return parseIP(text)
}
