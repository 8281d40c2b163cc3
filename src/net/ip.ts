/**
 * IP address parsing and canonical formatting, on top of ipaddr.js. Adds the lenient IPv4 form
 * kube-proxy accepts for legacy objects (leading zeros read as decimal, as Go's ParseIPSloppy
 * does) and a fast numeric form for containment checks.
 */
import ipaddr from 'ipaddr.js'
import type { Cidr, IPAddress, IPFamily } from './types.js'

const ipv4Sloppy = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** Strict parse: canonical or not, but no leading zeros in IPv4 parts. Returns undefined if invalid. */
export function parseIP(text: string): IPAddress | undefined {
  if (ipv4Sloppy.test(text)) {
    if (/(^|\.)0\d/.test(text)) return undefined
    return parseIPSloppy(text)
  }
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return undefined
  const a = ipaddr.IPv6.parse(text)
  if (a.zoneId !== undefined) return undefined
  return formatAddr(a)
}

/** Lenient parse (kube-proxy's ParseIPSloppy): IPv4 parts with leading zeros are decimal. */
export function parseIPSloppy(text: string): IPAddress | undefined {
  // Most addresses (every endpoint of a large cluster) are already canonical IPv4: no allocation.
  if (isCanonicalIPv4(text)) return text as IPAddress
  const m = ipv4Sloppy.exec(text)
  if (m) {
    const parts = m.slice(1).map((p) => Number.parseInt(p, 10))
    if (parts.some((p) => p > 255)) return undefined
    return parts.join('.') as IPAddress
  }
  return parseIP(text)
}

/** Four dot-separated decimal parts, each 0-255 without a leading zero. */
function isCanonicalIPv4(text: string): boolean {
  let parts = 0
  let digits = 0
  let value = 0
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46
    if (c === 46) {
      if (digits === 0 || value > 255 || ++parts > 4) return false
      digits = 0
      value = 0
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return false
      value = value * 10 + (c - 48)
      if (++digits > 3) return false
    } else return false
  }
  return parts === 4
}

function formatAddr(a: ipaddr.IPv4 | ipaddr.IPv6): IPAddress {
  if (a.kind() === 'ipv6') {
    const v6 = a as ipaddr.IPv6
    // An IPv4-mapped address prints as IPv4 in Go; keep the same canonical text.
    if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString() as IPAddress
    return v6.toRFC5952String() as IPAddress
  }
  return a.toString() as IPAddress
}

export function ipFamily(ip: IPAddress | Cidr | string): IPFamily {
  return ip.includes(':') ? 'IPv6' : 'IPv4'
}

/** 32-bit or 128-bit value of an address, for containment tests. */
export function ipToBigInt(ip: IPAddress): bigint {
  const bytes = ipaddr.parse(ip).toByteArray()
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return v
}

/** IPv4 address as an unsigned 32-bit number (fast path for the interpreter). */
export function ipv4ToNumber(ip: string): number {
  let v = 0
  let part = 0
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i)
    if (c === 46) {
      v = v * 256 + part
      part = 0
    } else part = part * 10 + (c - 48)
  }
  return v * 256 + part
}

export function bigIntToIP(v: bigint, family: IPFamily): IPAddress {
  const len = family === 'IPv4' ? 4 : 16
  const bytes: number[] = new Array<number>(len)
  for (let i = len - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return formatAddr(ipaddr.fromByteArray(bytes))
}

export function isLoopback(ip: IPAddress): boolean {
  return ipFamily(ip) === 'IPv4' ? ip.startsWith('127.') : ip === '::1'
}

/** `ip:port`, or `[ip]:port` for IPv6, as kube-proxy writes endpoint strings. */
export function joinHostPort(ip: IPAddress, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}
