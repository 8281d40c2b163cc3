/**
 * DNS resource records as values (the shapes dns-packet encodes), DNS names compared the way
 * the specification says (case-insensitive, no trailing dot), and the reverse names of addresses
 * (in-addr.arpa, nibble-form ip6.arpa). Pure.
 */
import { ipToBigInt, type IPAddress } from '../net/index.js'

export interface SoaData {
  readonly mname: string
  readonly rname: string
  readonly serial: number
  readonly refresh: number
  readonly retry: number
  readonly expire: number
  /** RFC 2308: with the SOA's own TTL, the lower of the two is how long a negative answer is cached. */
  readonly minimum: number
}

export interface SrvData {
  readonly priority: number
  readonly weight: number
  readonly port: number
  readonly target: string
}

interface RecordOf<T extends string, D> {
  readonly name: string
  readonly type: T
  readonly class: 'IN'
  readonly ttl: number
  readonly data: D
}

export type DnsRecord =
  | RecordOf<'A', string>
  | RecordOf<'AAAA', string>
  | RecordOf<'CNAME', string>
  | RecordOf<'PTR', string>
  | RecordOf<'SRV', SrvData>
  | RecordOf<'TXT', string[]>
  | RecordOf<'SOA', SoaData>

export type DnsRecordType = DnsRecord['type']

/** Lowercase, without the trailing dot: the key every lookup uses. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '')
}

/** `10.96.0.10` -> `10.0.96.10.in-addr.arpa`; IPv6 in nibble form under ip6.arpa. */
export function reverseName(ip: IPAddress): string {
  if (!ip.includes(':')) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`
  const hex = ipToBigInt(ip).toString(16).padStart(32, '0')
  return `${[...hex].reverse().join('.')}.ip6.arpa`
}
