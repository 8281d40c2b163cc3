/**
 * What the Services already stored hold: ClusterIPs, NodePorts (and health-check NodePorts)
 * and LoadBalancer ingress IPs. Allocation state is rebuilt from here on every request, so a
 * restart (or a crash) can never forget an allocation that was committed. Pure.
 */
import type { Service } from '../api/index.js'
import { canonicalIP } from './ip-range.js'

export interface HeldValues {
  readonly clusterIPs: Set<string>
  readonly nodePorts: Set<number>
  readonly loadBalancerIPs: Set<string>
}

export function emptyHeldValues(): HeldValues {
  return { clusterIPs: new Set(), nodePorts: new Set(), loadBalancerIPs: new Set() }
}

/** Adds the values `svc` holds to `into`. */
export function addHeldValues(into: HeldValues, svc: Service): HeldValues {
  const spec = svc.spec ?? {}
  for (const ip of [spec.clusterIP, ...(spec.clusterIPs ?? [])]) {
    const c = ip && ip !== 'None' ? canonicalIP(ip) : undefined
    if (c) into.clusterIPs.add(c)
  }
  for (const p of spec.ports ?? []) if (typeof p.nodePort === 'number' && p.nodePort > 0) into.nodePorts.add(p.nodePort)
  if (typeof spec.healthCheckNodePort === 'number' && spec.healthCheckNodePort > 0) into.nodePorts.add(spec.healthCheckNodePort)
  if (spec.type === 'LoadBalancer') {
    for (const i of svc.status?.loadBalancer?.ingress ?? []) {
      const c = i.ip ? canonicalIP(i.ip) : undefined
      if (c) into.loadBalancerIPs.add(c)
    }
  }
  return into
}

/** Values held by every Service except the one named `except` ("namespace/name"). */
export function heldValues(services: readonly Service[], except?: string): HeldValues {
  const out = emptyHeldValues()
  for (const s of services) {
    if (`${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}` !== except) addHeldValues(out, s)
  }
  return out
}
