/**
 * The node IPAM admission hook: a Node gets spec.podCIDR(s) in the request that creates it (or
 * the first update that leaves them empty), committed with the Node. An exhausted cluster CIDR
 * leaves the Node without a pod CIDR, as upstream's allocator does (with an event there).
 */
import type { Node } from '../api/index.js'
import { invalid, type AdmissionContext, type AdmissionHook, type AdmissionResult } from '../apiserver/index.js'
import { parseCidr, type ParsedCidr } from '../net/index.js'
import type { KubeObject } from '../store/index.js'
import { allocatePodCidrs, checkPodCidrUpdate, type ClusterCidr } from './node-ipam.js'

function podCidrsOf(o: KubeObject | undefined): string[] {
  const spec = (o?.['spec'] ?? {}) as Node['spec'] & object
  if (spec.podCIDRs && spec.podCIDRs.length > 0) return [...spec.podCIDRs]
  return spec.podCIDR ? [spec.podCIDR] : []
}

export function nodeIpamHook(clusterCidrs: readonly ClusterCidr[]): AdmissionHook {
  const inFlight = new Set<ParsedCidr[]>()
  const admit = (object: KubeObject, old: KubeObject | undefined, ctx: AdmissionContext): AdmissionResult | undefined => {
    if (ctx.resource.kind !== 'Node' || ctx.subresource !== undefined) return undefined
    const name = object.metadata.name ?? ''
    let requested = podCidrsOf(object)
    const previous = podCidrsOf(old)
    const changed = checkPodCidrUpdate(requested, previous)
    if (changed.length > 0) throw invalid(ctx.resource, name, changed)
    if (requested.length === 0) requested = previous
    const used: ParsedCidr[] = []
    for (const n of ctx.store.list('nodes').items) {
      if (n.metadata.name === name) continue
      for (const c of podCidrsOf(n)) { const p = parseCidr(c); if (p) used.push(p) }
    }
    for (const set of inFlight) used.push(...set)
    const result = allocatePodCidrs(requested, clusterCidrs, used)
    if (result.kind === 'invalid') throw invalid(ctx.resource, name, result.causes)
    if (result.kind === 'full') return undefined
    if (result.podCIDRs.length === 0) return undefined
    const spec = { ...((object['spec'] as Record<string, unknown> | undefined) ?? {}) }
    spec['podCIDR'] = result.podCIDRs[0]
    spec['podCIDRs'] = [...result.podCIDRs]
    object['spec'] = spec
    const mine = result.podCIDRs.flatMap((c) => parseCidr(c) ?? [])
    inFlight.add(mine)
    return { onSettled: () => { inFlight.delete(mine) } }
  }
  return {
    name: 'kpe.io/node-ipam',
    beforeCreate: (object, ctx) => admit(object, undefined, ctx),
    beforeUpdate: (object, old, ctx) => admit(object, old, ctx),
  }
}
