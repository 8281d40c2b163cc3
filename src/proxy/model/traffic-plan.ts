/**
 * The mode-independent decisions upstream's proxiers make for one service port (iptables and
 * nftables alike): which endpoints each policy uses, and whether internal and external traffic
 * can be served. Mode packages add chain names and verdicts on top.
 */
import { l4Proto, type L4Proto } from '../../net/index.js'
import { categorizeEndpoints } from './categorize-endpoints.js'
import type { EndpointInfo } from './endpoint.js'
import { nodeZone, type ProxierConfig } from './proxier-config.js'
import { externallyAccessible, usesClusterEndpoints, usesLocalEndpoints, type ServicePortInfo } from './service-port.js'

export interface TrafficPlan {
  readonly sp: ServicePortInfo
  readonly proto: L4Proto
  readonly clusterEndpoints: readonly EndpointInfo[]
  readonly localEndpoints: readonly EndpointInfo[]
  /** Endpoints that get endpoint chains, sorted by endpoint string. */
  readonly reachableEndpoints: readonly EndpointInfo[]
  readonly hasEndpoints: boolean
  readonly hasInternalEndpoints: boolean
  readonly hasExternalEndpoints: boolean
  readonly usesClusterPolicyChain: boolean
  readonly usesLocalPolicyChain: boolean
  /** Based on hasEndpoints, not hasExternalEndpoints: the external chain keeps its short-circuits. */
  readonly usesExternalTrafficChain: boolean
}

export function planTraffic(sp: ServicePortInfo, endpoints: readonly EndpointInfo[], config: ProxierConfig): TrafficPlan {
  const cat = categorizeEndpoints(endpoints, sp, { nodeName: config.nodeName, zone: nodeZone(config), preferSameNode: config.preferSameTrafficDistribution })
  const hasEndpoints = cat.hasAnyEndpoints
  return {
    sp,
    proto: l4Proto(sp.protocol),
    clusterEndpoints: cat.clusterEndpoints,
    localEndpoints: cat.localEndpoints,
    reachableEndpoints: cat.allReachableEndpoints,
    hasEndpoints,
    hasInternalEndpoints: hasEndpoints && !(sp.internalPolicyLocal && cat.localEndpoints.length === 0),
    hasExternalEndpoints: hasEndpoints && !(sp.externalPolicyLocal && cat.localEndpoints.length === 0),
    usesClusterPolicyChain: cat.clusterEndpoints.length > 0 && usesClusterEndpoints(sp),
    usesLocalPolicyChain: cat.localEndpoints.length > 0 && usesLocalEndpoints(sp),
    usesExternalTrafficChain: hasEndpoints && externallyAccessible(sp),
  }
}
