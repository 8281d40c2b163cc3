/**
 * kube-proxy's per-IP-family view of one Service port (upstream pkg/proxy/serviceport.go and
 * servicechangetracker.go): which addresses capture it, its traffic policies and affinity.
 * Built from a Service with the same skipping and family filtering as upstream.
 */
import type { Service } from '../../api/index.js'
import { clusterAddresses } from './cluster-addresses.js'
import { ipFamily, parseCidrSloppy, type Cidr, type IPAddress, type IPFamily, type Protocol } from '../../net/index.js'

export interface ServicePortName {
  readonly namespace: string
  readonly name: string
  readonly port: string
  readonly protocol: Protocol
}

/** `ns/name:port`, or `ns/name` when the port has no name (upstream ServicePortName.String). */
export function servicePortNameString(n: ServicePortName): string {
  return n.port === '' ? `${n.namespace}/${n.name}` : `${n.namespace}/${n.name}:${n.port}`
}

/** Key that joins a Service port with its EndpointSlice ports: name string plus protocol. */
export function servicePortKey(n: ServicePortName): string {
  return `${servicePortNameString(n)}/${n.protocol}`
}

export interface ServicePortInfo {
  readonly name: ServicePortName
  readonly nameString: string
  readonly clusterIP: IPAddress
  readonly port: number
  readonly protocol: Protocol
  readonly nodePort: number
  readonly externalIPs: readonly IPAddress[]
  readonly loadBalancerVIPs: readonly IPAddress[]
  readonly loadBalancerSourceRanges: readonly Cidr[]
  /** ClientIP affinity timeout in seconds; undefined without affinity. */
  readonly stickyMaxAgeSeconds: number | undefined
  readonly healthCheckNodePort: number
  readonly externalPolicyLocal: boolean
  readonly internalPolicyLocal: boolean
  readonly hintsAnnotation: string | undefined
  /** Index in spec.ports, for provenance (`kpe rules --explain`). */
  readonly portIndex: number
}

/** Port-level: captured by a NodePort, a LoadBalancer VIP or an externalIP. */
export function externallyAccessible(sp: ServicePortInfo): boolean {
  return sp.nodePort !== 0 || sp.loadBalancerVIPs.length > 0 || sp.externalIPs.length > 0
}

export function usesClusterEndpoints(sp: ServicePortInfo): boolean {
  return !sp.internalPolicyLocal || externallyAccessible(sp)
}

export function usesLocalEndpoints(sp: ServicePortInfo): boolean {
  return sp.internalPolicyLocal || (sp.externalPolicyLocal && externallyAccessible(sp))
}

/** Service-level (upstream ExternallyAccessible in pkg/api/v1/service/util.go). */
function serviceExternallyAccessible(svc: Service): boolean {
  const t = svc.spec.type
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && (svc.spec.externalIPs?.length ?? 0) > 0)
}

export function externalPolicyLocal(svc: Service): boolean {
  return serviceExternallyAccessible(svc) && svc.spec.externalTrafficPolicy === 'Local'
}

export function needsHealthCheck(svc: Service): boolean {
  return svc.spec.type === 'LoadBalancer' && externalPolicyLocal(svc)
}

/** The ClusterIP of the given family, from clusterIPs, falling back to clusterIP. */
export function clusterIPOfFamily(svc: Service, family: IPFamily): IPAddress | undefined {
  return clusterAddresses(svc).clusterIPs.find((ip) => ipFamily(ip) === family)
}

export const defaultStickyMaxAgeSeconds = 10800

/** All ports of a Service for one family; empty when kube-proxy skips the Service. */
export function servicePortsFromService(svc: Service, family: IPFamily): ServicePortInfo[] {
  const spec = svc.spec
  if (spec.clusterIP === 'None' || spec.clusterIP === '' || spec.type === 'ExternalName') return []
  const addresses = clusterAddresses(svc)
  const ofFamily = (ip: IPAddress): boolean => ipFamily(ip) === family
  const clusterIP = addresses.clusterIPs.find(ofFamily)
  if (clusterIP === undefined) return []
  const externalIPs = addresses.externalIPs.filter(ofFamily)
  const loadBalancerSourceRanges = (spec.loadBalancerSourceRanges ?? [])
    .map((r) => parseCidrSloppy(r.trim()))
    .filter((c) => c !== undefined && c.family === family)
    .map((c) => c!.cidr)
  const loadBalancerVIPs = addresses.loadBalancerIPs.filter(ofFamily)
  const sticky = spec.sessionAffinity === 'ClientIP' ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultStickyMaxAgeSeconds : undefined
  const eLocal = externalPolicyLocal(svc)
  const namespace = svc.metadata.namespace ?? 'default'
  const name = svc.metadata.name ?? ''
  return (spec.ports ?? []).map((p, portIndex) => {
    const protocol = p.protocol ?? 'TCP'
    const spn: ServicePortName = { namespace, name, port: p.name ?? '', protocol }
    return {
      name: spn,
      nameString: servicePortNameString(spn),
      clusterIP,
      port: p.port,
      protocol,
      nodePort: p.nodePort ?? 0,
      externalIPs,
      loadBalancerVIPs,
      loadBalancerSourceRanges,
      stickyMaxAgeSeconds: sticky,
      healthCheckNodePort: needsHealthCheck(svc) ? spec.healthCheckNodePort ?? 0 : 0,
      externalPolicyLocal: eLocal,
      internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
      hintsAnnotation: svc.metadata.annotations?.['service.kubernetes.io/topology-mode'],
      portIndex,
    }
  })
}
