/**
 * Which endpoints each policy chain uses (upstream CategorizeEndpoints in pkg/proxy/topology.go):
 * ready endpoints, topology hints, and the serving-terminating fallback for Cluster and Local.
 */
import type { EndpointInfo } from './endpoint.js'
import { cmp } from './endpoint.js'
import { usesClusterEndpoints, usesLocalEndpoints, type ServicePortInfo } from './service-port.js'

export interface CategorizedEndpoints {
  readonly clusterEndpoints: readonly EndpointInfo[]
  readonly localEndpoints: readonly EndpointInfo[]
  /** The endpoints that get KUBE-SEP chains. */
  readonly allReachableEndpoints: readonly EndpointInfo[]
  readonly hasAnyEndpoints: boolean
}

export interface TopologyContext {
  readonly nodeName: string
  readonly zone: string | undefined
  /** PreferSameTrafficDistribution feature gate (node hints). */
  readonly preferSameNode: boolean
}

type TopologyMode = '' | 'PreferSameNode' | 'PreferSameZone'

function topologyModeFromHints(endpoints: readonly EndpointInfo[], topo: TopologyContext): TopologyMode {
  const ready = endpoints.filter((e) => e.ready)
  if (ready.length === 0) return ''
  if (topo.preferSameNode && ready.every((e) => e.nodeHints && e.nodeHints.size > 0) && ready.some((e) => e.nodeHints!.has(topo.nodeName))) {
    return 'PreferSameNode'
  }
  if (topo.zone === undefined || topo.zone === '') return ''
  if (ready.every((e) => e.zoneHints && e.zoneHints.size > 0) && ready.some((e) => e.zoneHints!.has(topo.zone!))) return 'PreferSameZone'
  return ''
}

function availableForTopology(e: EndpointInfo, mode: TopologyMode, topo: TopologyContext): boolean {
  if (mode === 'PreferSameNode') return e.nodeHints?.has(topo.nodeName) ?? false
  if (mode === 'PreferSameZone') return e.zoneHints?.has(topo.zone!) ?? false
  return true
}

export function categorizeEndpoints(endpoints: readonly EndpointInfo[], sp: ServicePortInfo, topo: TopologyContext): CategorizedEndpoints {
  let clusterEndpoints: readonly EndpointInfo[] = []
  let hasAnyEndpoints = false
  let useTopology = false
  if (usesClusterEndpoints(sp)) {
    const mode = topologyModeFromHints(endpoints, topo)
    useTopology = mode !== ''
    clusterEndpoints = endpoints.filter((e) => e.ready && availableForTopology(e, mode, topo))
    // No ready endpoint anywhere: fall back to the serving, terminating ones (topology ignored).
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter((e) => e.serving && e.terminating)
    if (clusterEndpoints.length > 0) hasAnyEndpoints = true
  }
  if (!usesLocalEndpoints(sp)) return { clusterEndpoints, localEndpoints: [], allReachableEndpoints: clusterEndpoints, hasAnyEndpoints }

  let hasLocalReady = false
  let hasLocalServingTerminating = false
  for (const e of endpoints) {
    if (e.ready) {
      hasAnyEndpoints = true
      if (e.isLocal) hasLocalReady = true
    } else if (e.serving && e.terminating) {
      hasAnyEndpoints = true
      if (e.isLocal) hasLocalServingTerminating = true
    }
  }
  let localEndpoints: readonly EndpointInfo[] = []
  let useServingTerminating = false
  if (hasLocalReady) localEndpoints = endpoints.filter((e) => e.isLocal && e.ready)
  else if (hasLocalServingTerminating) {
    useServingTerminating = true
    localEndpoints = endpoints.filter((e) => e.isLocal && e.serving && e.terminating)
  }
  if (!usesClusterEndpoints(sp)) return { clusterEndpoints, localEndpoints, allReachableEndpoints: localEndpoints, hasAnyEndpoints }
  if (!useTopology && !useServingTerminating) return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints }
  // Both lists can hold endpoints the other lacks: merge them (upstream's order is a map's; ours is sorted).
  const merged = new Map<string, EndpointInfo>()
  for (const e of clusterEndpoints) merged.set(e.endpoint, e)
  for (const e of localEndpoints) merged.set(e.endpoint, e)
  const allReachableEndpoints = [...merged.values()].sort((a, b) => cmp(a.endpoint, b.endpoint))
  return { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints }
}
