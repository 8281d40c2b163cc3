/**
 * Node IPAM, upstream's range allocator as a pure function: each cluster CIDR (one per IP
 * family) is cut into subnets of the node mask size, and a Node gets the lowest subnet per family
 * that no other Node's podCIDRs overlap. A Node that brings its own podCIDRs keeps them.
 */
import { bigIntToIP, parseCidr, type Cidr, type IPFamily, type ParsedCidr } from '../net/index.js'
import type { StatusCause } from '../apiserver/index.js'
import { forbidden, invalidValue } from './causes.js'

export interface ClusterCidr {
  readonly cidr: ParsedCidr
  /** Prefix length of each node's subnet (upstream --node-cidr-mask-size-ipv4/-ipv6). */
  readonly nodeMaskSize: number
}

export type PodCidrResult =
  | { readonly kind: 'ok'; readonly podCIDRs: readonly Cidr[] }
  | { readonly kind: 'invalid'; readonly causes: readonly StatusCause[] }
  | { readonly kind: 'full'; readonly family: IPFamily }

function bitsOf(f: IPFamily): number {
  return f === 'IPv4' ? 32 : 128
}

export function cidrsOverlap(a: ParsedCidr, b: ParsedCidr): boolean {
  if (a.family !== b.family) return false
  const bits = bitsOf(a.family)
  const p = Math.min(a.prefix, b.prefix)
  const shift = BigInt(bits - p)
  return a.network >> shift === b.network >> shift
}

/** The i-th node subnet of a cluster CIDR. */
export function nodeSubnet(c: ClusterCidr, index: bigint): ParsedCidr {
  const bits = bitsOf(c.cidr.family)
  const network = c.cidr.network + (index << BigInt(bits - c.nodeMaskSize))
  return parseCidr(`${bigIntToIP(network, c.cidr.family)}/${c.nodeMaskSize}`) as ParsedCidr
}

export function subnetCount(c: ClusterCidr): bigint {
  return 1n << BigInt(c.nodeMaskSize - c.cidr.prefix)
}

/**
 * The lowest subnet index no used CIDR overlaps. Each used CIDR blocks one range of indices, so
 * the answer comes from sorting those ranges, not from testing every subnet against every used
 * CIDR (that was cubic in the node count: 1,000 nodes took minutes to register).
 */
function lowestFreeSubnet(c: ClusterCidr, used: readonly ParsedCidr[]): ParsedCidr | undefined {
  const n = subnetCount(c)
  const shift = BigInt(bitsOf(c.cidr.family) - c.nodeMaskSize)
  const blocked: (readonly [bigint, bigint])[] = []
  for (const u of used) {
    if (!cidrsOverlap(u, c.cidr)) continue
    if (u.prefix <= c.cidr.prefix) return undefined
    const first = (u.network - c.cidr.network) >> shift
    const span = u.prefix >= c.nodeMaskSize ? 1n : 1n << BigInt(c.nodeMaskSize - u.prefix)
    blocked.push([first, first + span])
  }
  blocked.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  let free = 0n
  for (const [from, to] of blocked) {
    if (from > free) break
    if (to > free) free = to
  }
  return free < n ? nodeSubnet(c, free) : undefined
}

/**
 * podCIDRs for a Node: `requested` (the Node's own, possibly empty) completed with one subnet
 * per configured family; `used` are the other Nodes' podCIDRs.
 */
export function allocatePodCidrs(requested: readonly string[], clusterCidrs: readonly ClusterCidr[], used: readonly ParsedCidr[]): PodCidrResult {
  const causes: StatusCause[] = []
  const have: ParsedCidr[] = []
  requested.forEach((text, i) => {
    const c = parseCidr(text)
    if (!c) return causes.push(invalidValue(`spec.podCIDRs[${i}]`, text, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'))
    if (have.some((h) => h.family === c.family)) return causes.push(invalidValue('spec.podCIDRs', requested, 'may specify no more than one CIDR for each IP family'))
    if (used.some((u) => cidrsOverlap(u, c))) return causes.push(invalidValue(`spec.podCIDRs[${i}]`, text, 'overlaps the pod CIDR of another node'))
    have.push(c)
    return undefined
  })
  if (causes.length > 0) return { kind: 'invalid', causes }
  const out = [...have]
  for (const cc of clusterCidrs) {
    if (out.some((h) => h.family === cc.cidr.family)) continue
    const s = lowestFreeSubnet(cc, used)
    if (!s) return { kind: 'full', family: cc.cidr.family }
    out.push(s)
  }
  return { kind: 'ok', podCIDRs: out.map((c) => c.cidr) }
}

/** upstream ValidateNodeUpdate: podCIDRs may go from empty to set, never change afterwards. */
export function checkPodCidrUpdate(next: readonly string[], old: readonly string[]): StatusCause[] {
  if (old.length === 0 || next.length === 0) return []
  const same = next.length >= old.length && old.every((c, i) => parseCidr(c)?.cidr === parseCidr(next[i] ?? '')?.cidr)
  return same ? [] : [forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid')]
}
