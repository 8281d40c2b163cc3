/**
 * The pure core of Service admission: carries allocated values over on update (upstream's
 * patchAllocatedValues), drops values the new type no longer needs (dropTypeDependentFields),
 * then assigns ClusterIPs, NodePorts, the healthCheckNodePort and LoadBalancer ingress.
 * Returns the new spec and status; never mutates its inputs.
 */
import type { LoadBalancerIngress, Service, ServicePortSpec, ServiceSpec } from '../api/index.js'
import type { StatusCause } from '../apiserver/index.js'
import { invalidValue, type Allocation } from './causes.js'
import type { IpRange } from './ip-range.js'
import { allocateLoadBalancerIPs } from './load-balancer-ips.js'
import { allocateNodePorts } from './node-ports.js'
import type { PortRange } from './port-range.js'
import { allocateClusterIPs } from './service-ips.js'

export interface ServiceAllocatorConfig {
  /** Primary family first; at most one range per family. */
  readonly serviceRanges: readonly IpRange[]
  readonly nodePortRange: PortRange
  readonly loadBalancerPool: readonly IpRange[]
}

/** What other Services (and in-flight requests) hold. */
export interface TakenValues {
  clusterIP(ip: string): boolean
  nodePort(port: number): boolean
  loadBalancerIP(ip: string): boolean
}

export interface ServiceAllocation {
  readonly spec: ServiceSpec
  readonly ingress: readonly LoadBalancerIngress[] | undefined
}

export function needsClusterIP(s: ServiceSpec): boolean {
  return (s.type ?? 'ClusterIP') !== 'ExternalName'
}
export function needsNodePort(s: ServiceSpec): boolean {
  return s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false)
}
export function needsHealthCheckNodePort(s: ServiceSpec): boolean {
  return s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local'
}
export function usesPoolAddress(s: ServiceSpec): boolean {
  return s.type === 'LoadBalancer' && !s.loadBalancerClass
}

function sameList(a: readonly unknown[] | undefined, b: readonly unknown[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? [])
}

/** upstream patchAllocatedValues: a PUT without the allocated values keeps them. */
export function patchAllocatedValues(next: ServiceSpec, old: ServiceSpec): void {
  if (needsClusterIP(old) && needsClusterIP(next) && !next.clusterIP && (next.clusterIPs ?? []).length === 0) {
    if (old.clusterIP) next.clusterIP = old.clusterIP
    if (old.clusterIPs) next.clusterIPs = [...old.clusterIPs]
  }
  if (needsNodePort(old) && needsNodePort(next)) {
    const byName = new Map((old.ports ?? []).map((p) => [p.name ?? '', p.nodePort]))
    const used = new Set((next.ports ?? []).map((p) => p.nodePort).filter((n) => n))
    for (const p of next.ports ?? []) {
      const prev = byName.get(p.name ?? '')
      if (!p.nodePort && prev && !used.has(prev)) p.nodePort = prev
    }
  }
  if (needsHealthCheckNodePort(old) && needsHealthCheckNodePort(next) && !next.healthCheckNodePort) {
    if (old.healthCheckNodePort) next.healthCheckNodePort = old.healthCheckNodePort
  }
}

/** upstream dropTypeDependentFields: values the old type needed and the user left alone go. */
export function dropTypeDependentFields(next: ServiceSpec, old: ServiceSpec): void {
  if (needsClusterIP(old) && !needsClusterIP(next) && next.clusterIP === old.clusterIP && sameList(next.clusterIPs, old.clusterIPs)) {
    delete next.clusterIP
    delete next.clusterIPs
    delete next.ipFamilies
    delete next.ipFamilyPolicy
  }
  if (needsNodePort(old) && !needsNodePort(next)) {
    const oldPorts = new Map((old.ports ?? []).map((p) => [p.name ?? '', p.nodePort]))
    for (const p of next.ports ?? []) if (p.nodePort && oldPorts.get(p.name ?? '') === p.nodePort) delete p.nodePort
  }
  if (needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(next) && next.healthCheckNodePort === old.healthCheckNodePort) {
    delete next.healthCheckNodePort
  }
}

export interface AllocateServiceInput {
  readonly service: Service
  readonly old: Service | undefined
  readonly config: ServiceAllocatorConfig
  readonly taken: TakenValues
}

export function allocateService(input: AllocateServiceInput): Allocation<ServiceAllocation> {
  const { config, taken } = input
  const spec: ServiceSpec = structuredClone(input.service.spec ?? {})
  const old = input.old?.spec
  if (old) {
    patchAllocatedValues(spec, old)
    dropTypeDependentFields(spec, old)
  }
  const causes: StatusCause[] = []
  if (needsClusterIP(spec)) {
    const ips = allocateClusterIPs({
      clusterIP: spec.clusterIP, clusterIPs: spec.clusterIPs, ipFamilies: spec.ipFamilies, ipFamilyPolicy: spec.ipFamilyPolicy,
      oldClusterIPs: old && needsClusterIP(old) ? old.clusterIPs ?? (old.clusterIP ? [old.clusterIP] : []) : undefined,
      isKubernetesService: input.service.metadata.namespace === 'default' && input.service.metadata.name === 'kubernetes',
    }, config.serviceRanges, (ip) => taken.clusterIP(ip))
    if (ips.kind === 'full') return ips
    if (ips.kind === 'invalid') causes.push(...ips.causes)
    else {
      spec.clusterIPs = [...ips.value.clusterIPs]
      spec.clusterIP = ips.value.clusterIPs[0] ?? ''
      spec.ipFamilies = [...ips.value.ipFamilies]
      spec.ipFamilyPolicy = ips.value.ipFamilyPolicy
    }
  }
  const isNodePortType = spec.type === 'NodePort' || spec.type === 'LoadBalancer'
  if (!needsHealthCheckNodePort(spec) && spec.healthCheckNodePort) {
    causes.push(invalidValue('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
  }
  if (isNodePortType) {
    const ports: ServicePortSpec[] = spec.ports ?? []
    const np = allocateNodePorts({
      ports, allocate: needsNodePort(spec),
      healthCheck: { needed: needsHealthCheckNodePort(spec), requested: spec.healthCheckNodePort },
    }, config.nodePortRange, (p) => taken.nodePort(p))
    if (np.kind === 'full') return np
    if (np.kind === 'invalid') causes.push(...np.causes)
    else {
      ports.forEach((p, i) => { const v = np.value.nodePorts[i]; if (v !== undefined) p.nodePort = v })
      if (np.value.healthCheckNodePort !== undefined) spec.healthCheckNodePort = np.value.healthCheckNodePort
    }
  }
  let ingress: readonly LoadBalancerIngress[] | undefined
  if (usesPoolAddress(spec) && causes.length === 0) {
    const current = (input.old && usesPoolAddress(input.old.spec) ? input.old.status?.loadBalancer?.ingress ?? [] : []).flatMap((i) => (i.ip ? [i.ip] : []))
    const lb = allocateLoadBalancerIPs({ families: spec.ipFamilies ?? ['IPv4'], loadBalancerIP: spec.loadBalancerIP, current }, config.loadBalancerPool, (ip) => taken.loadBalancerIP(ip))
    if (lb.kind === 'full') return lb
    if (lb.kind === 'invalid') causes.push(...lb.causes)
    else ingress = lb.value.map((ip) => ({ ip, ipMode: 'VIP' as const }))
  } else if (spec.type === 'LoadBalancer') ingress = input.old?.status?.loadBalancer?.ingress ?? undefined
  else ingress = []
  if (causes.length > 0) return { kind: 'invalid', causes }
  return { kind: 'ok', value: { spec, ingress } }
}
