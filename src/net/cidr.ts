/**
 * CIDR parsing, canonical formatting and containment. A CIDR is printed as network address /
 * prefix length, as Go's net.IPNet does (so "203.0.113.5/25" reads as 203.0.113.0/25).
 */
import type { Cidr, IPAddress, IPFamily } from './types.js'
import { bigIntToIP, ipFamily, ipToBigInt, parseIP, parseIPSloppy } from './ip.js'

export interface ParsedCidr {
  readonly cidr: Cidr
  readonly family: IPFamily
  readonly network: bigint
  readonly prefix: number
}

function parse(text: string, ipParser: (s: string) => IPAddress | undefined): ParsedCidr | undefined {
  const slash = text.indexOf('/')
  if (slash < 0) return undefined
  const ip = ipParser(text.slice(0, slash))
  const prefixText = text.slice(slash + 1)
  if (ip === undefined || !/^\d{1,3}$/.test(prefixText)) return undefined
  const prefix = Number.parseInt(prefixText, 10)
  const family = ipFamily(ip)
  const bits = family === 'IPv4' ? 32 : 128
  if (prefix > bits) return undefined
  const mask = prefixMask(prefix, bits)
  const network = ipToBigInt(ip) & mask
  return { cidr: `${bigIntToIP(network, family)}/${prefix}` as Cidr, family, network, prefix }
}

function prefixMask(prefix: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n
  return prefix === 0 ? 0n : (all >> BigInt(bits - prefix)) << BigInt(bits - prefix)
}

export function parseCidr(text: string): ParsedCidr | undefined {
  return parse(text, parseIP)
}

/** Lenient form, for legacy objects (leading zeros; kube-proxy's ParseCIDRSloppy). */
export function parseCidrSloppy(text: string): ParsedCidr | undefined {
  return parse(text, parseIPSloppy)
}

export function cidrContains(c: ParsedCidr, ip: IPAddress): boolean {
  if (ipFamily(ip) !== c.family) return false
  const bits = c.family === 'IPv4' ? 32 : 128
  return (ipToBigInt(ip) & prefixMask(c.prefix, bits)) === c.network
}

/** Whether a CIDR given as text (unparseable: no) holds the address. */
export function cidrTextContains(cidr: string, ip: IPAddress): boolean {
  const parsed = parseCidr(cidr)
  return parsed !== undefined && cidrContains(parsed, ip)
}

/** Host route form of an address: /32 or /128. */
export function hostCidr(ip: IPAddress): Cidr {
  return `${ip}/${ipFamily(ip) === 'IPv4' ? 32 : 128}` as Cidr
}
