/**
 * LoadBalancer ingress addresses from the configured pool (MetalLB-style): one address per
 * Service IP family that the pool covers, an explicit spec.loadBalancerIP honoured when it is in
 * the pool and free. An exhausted pool leaves the Service pending, as a cloud provider would.
 */
import type { IPFamily } from '../net/index.js'
import { invalidValue, type Allocation } from './causes.js'
import { canonicalIP, lowestFreeAddress, rangeContains, type IpRange } from './ip-range.js'

export interface LoadBalancerRequest {
  readonly families: readonly IPFamily[]
  readonly loadBalancerIP?: string | undefined
  /** Ingress IPs the Service already has (kept). */
  readonly current: readonly string[]
}

export function allocateLoadBalancerIPs(req: LoadBalancerRequest, pool: readonly IpRange[], isTaken: (ip: string) => boolean): Allocation<readonly string[]> {
  if (req.current.length > 0) return { kind: 'ok', value: req.current }
  if (req.loadBalancerIP) {
    const ip = canonicalIP(req.loadBalancerIP)
    if (!ip || !pool.some((r) => rangeContains(r, ip))) {
      return { kind: 'invalid', causes: [invalidValue('spec.loadBalancerIP', req.loadBalancerIP, `not in the load-balancer pool (${pool.map((r) => r.text).join(', ') || 'empty'})`)] }
    }
    if (isTaken(ip)) return { kind: 'invalid', causes: [invalidValue('spec.loadBalancerIP', req.loadBalancerIP, 'provided IP is already allocated')] }
    return { kind: 'ok', value: [ip] }
  }
  const out: string[] = []
  for (const family of req.families) {
    for (const r of pool.filter((p) => p.family === family)) {
      const ip = lowestFreeAddress(r, isTaken)
      if (ip !== undefined) {
        out.push(ip)
        break
      }
    }
  }
  return { kind: 'ok', value: out }
}
