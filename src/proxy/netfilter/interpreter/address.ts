/**
 * Addresses as the interpreter compares them: IPv4 as unsigned 32-bit numbers, IPv6 as bigints,
 * both parsed once (rule CIDRs at compile time, packet addresses on entry). Pure helpers.
 */
import { ipFamily, ipToBigInt, parseIP } from '../../../net/index.js'

export type AddressTest =
  | { readonly family: 'IPv4'; readonly net: number; readonly mask: number; readonly host: boolean }
  | { readonly family: 'IPv6'; readonly net: bigint; readonly mask: bigint; readonly host: boolean }

/** A packet address: numeric value plus a key usable in Maps and Sets (number or canonical text). */
export interface PacketAddress {
  readonly family: 'IPv4' | 'IPv6'
  readonly v4: number
  readonly v6: bigint
  readonly key: number | string
  readonly text: string
}

/** Strict dotted quad (no leading zeros) as an unsigned number, without allocating. */
export function ipv4Value(text: string): number | undefined {
  let v = 0
  let part = 0
  let digits = 0
  let dots = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined
      v = v * 256 + part
      part = 0
      digits = 0
      dots++
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined
      part = part * 10 + (c - 48)
      if (++digits > 3 || part > 255) return undefined
    } else return undefined
  }
  if (dots !== 3 || digits === 0) return undefined
  return v * 256 + part
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
}

function v6Mask(prefix: number): bigint {
  const all = (1n << 128n) - 1n
  return prefix === 0 ? 0n : (all >> BigInt(128 - prefix)) << BigInt(128 - prefix)
}

/** `10.0.0.1`, `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `fd00::/64`; undefined for anything else (hostnames). */
export function parseAddressTest(text: string): AddressTest | undefined {
  const slash = text.indexOf('/')
  const addr = slash < 0 ? text : text.slice(0, slash)
  const pfx = slash < 0 ? undefined : text.slice(slash + 1)
  const v4 = ipv4Value(addr)
  if (v4 !== undefined) {
    let mask = 0xffffffff
    if (pfx !== undefined) {
      const dotted = ipv4Value(pfx)
      if (dotted !== undefined) mask = dotted
      else if (/^\d{1,2}$/.test(pfx) && Number(pfx) <= 32) mask = v4Mask(Number(pfx))
      else return undefined
    }
    return { family: 'IPv4', net: (v4 & mask) >>> 0, mask, host: mask === 0xffffffff }
  }
  const v6 = parseIP(addr)
  if (v6 === undefined || ipFamily(v6) !== 'IPv6') return undefined
  let prefix = 128
  if (pfx !== undefined) {
    if (!/^\d{1,3}$/.test(pfx) || Number(pfx) > 128) return undefined
    prefix = Number(pfx)
  }
  const mask = v6Mask(prefix)
  return { family: 'IPv6', net: ipToBigInt(v6) & mask, mask, host: prefix === 128 }
}

export function parsePacketAddress(text: string): PacketAddress | undefined {
  const v4 = ipv4Value(text)
  if (v4 !== undefined) return { family: 'IPv4', v4, v6: 0n, key: v4, text }
  const v6 = parseIP(text)
  if (v6 === undefined || ipFamily(v6) !== 'IPv6') return undefined
  return { family: 'IPv6', v4: 0, v6: ipToBigInt(v6), key: v6, text: v6 }
}

export function numberToIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
}

export function addressMatches(t: AddressTest, a: PacketAddress): boolean {
  if (t.family !== a.family) return false
  if (t.family === 'IPv4') return ((a.v4 & t.mask) >>> 0) === t.net
  return (a.v6 & t.mask) === t.net
}

/** The Map key of the single address a host test matches (same form as PacketAddress.key). */
export function hostKey(t: AddressTest): number | string | undefined {
  if (!t.host) return undefined
  if (t.family === 'IPv4') return t.net
  return parsePacketAddress(bigIntToIPv6Text(t.net))?.key
}

function bigIntToIPv6Text(v: bigint): string {
  const parts: string[] = []
  for (let i = 7; i >= 0; i--) parts.push(((v >> BigInt(i * 16)) & 0xffffn).toString(16))
  return parts.join(':')
}
