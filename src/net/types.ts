/**
 * Branded primitives for addresses, ports and names, so that an IP cannot be passed where a
 * chain name is expected. Leaf module: imports nothing from kpe.
 */

declare const brand: unique symbol
export type Brand<T, B extends string> = T & { readonly [brand]: B }

/** An IP address in canonical text form (IPv4 dotted quad, IPv6 RFC 5952). */
export type IPAddress = Brand<string, 'IPAddress'>
/** A CIDR in canonical form: network address / prefix length. */
export type Cidr = Brand<string, 'Cidr'>
export type Port = Brand<number, 'Port'>
export type ChainName = Brand<string, 'ChainName'>

export type IPFamily = 'IPv4' | 'IPv6'
/** Kubernetes spelling of a protocol. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP'
/** Netfilter spelling of a protocol. */
export type L4Proto = 'tcp' | 'udp' | 'sctp'

/** A packet mark with the number of hex digits it was written with (`0x4000` vs `0x00004000`). */
export interface MarkValue {
  readonly value: number
  readonly digits: number
}

export const protocols: readonly Protocol[] = ['TCP', 'UDP', 'SCTP']

export function l4Proto(p: Protocol): L4Proto {
  return p.toLowerCase() as L4Proto
}

export function chainName(s: string): ChainName {
  return s as ChainName
}

export function isValidPort(n: unknown): n is Port {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535
}
