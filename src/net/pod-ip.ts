/**
 * Pod IP assignment from a node's pod CIDR, as a host-local IPAM does: the network address
 * (.0) and the gateway (.1, the bridge) are never handed out, nor the IPv4 broadcast address.
 * Pure: the caller passes the addresses already in use.
 */
import { cidrContains, parseCidr } from './cidr.js'
import { bigIntToIP, parseIP } from './ip.js'
import type { IPAddress } from './types.js'

/** The first address of the CIDR: the bridge CNI's gateway, and MASQUERADE's source toward local pods. */
export function podCidrGateway(cidr: string): IPAddress | undefined {
  const c = parseCidr(cidr)
  return c ? bigIntToIP(c.network + 1n, c.family) : undefined
}

/**
 * The address for a pod: `preferred` when it lies in the CIDR, is assignable and free (a pod
 * whose status already names an IP keeps it), otherwise the lowest free one; undefined when full.
 */
export function assignPodIP(cidr: string, inUse: ReadonlySet<string>, preferred?: string): IPAddress | undefined {
  const c = parseCidr(cidr)
  if (!c) return undefined
  const bits = c.family === 'IPv4' ? 32 : 128
  const size = 1n << BigInt(bits - c.prefix)
  const last = c.family === 'IPv4' && size > 2n ? size - 2n : size - 1n
  const pref = preferred !== undefined ? parseIP(preferred) : undefined
  if (pref !== undefined && cidrContains(c, pref) && !inUse.has(pref)) {
    const offset = ipOffset(c.network, pref, c.family)
    if (offset >= 2n && offset <= last) return pref
  }
  // Cap the scan: a /8 pod CIDR would otherwise mean millions of iterations when nearly full.
  const limit = last < 65_536n ? last : 65_536n
  for (let i = 2n; i <= limit; i++) {
    const ip = bigIntToIP(c.network + i, c.family)
    if (!inUse.has(ip)) return ip
  }
  return undefined
}

function ipOffset(network: bigint, ip: IPAddress, family: 'IPv4' | 'IPv6'): bigint {
  const c = parseCidr(`${ip}/${family === 'IPv4' ? 32 : 128}`)
  return c ? c.network - network : -1n
}
