/**
 * The hints the EndpointSlice controller writes for topology (upstream's trafficdist and
 * topologycache): trafficDistribution PreferClose / PreferSameZone hint each endpoint to its own
 * zone, PreferSameNode to its own node and zone; the `service.kubernetes.io/topology-mode: Auto`
 * annotation (which wins over trafficDistribution) shares the ready endpoints among zones in
 * proportion to the zones' allocatable CPU, and writes no hints at all when it cannot (too few
 * endpoints, an endpoint or node without a zone, a node without CPU, or a zone overloaded). Pure.
 */
import type { EndpointSlice, EndpointSliceEndpoint, Node, Service } from './types.js'
import { zoneLabel } from './types.js'

export const topologyModeAnnotation = 'service.kubernetes.io/topology-mode'
/** The annotation's name before Kubernetes 1.27, still read by upstream. */
export const topologyAwareHintsAnnotation = 'service.kubernetes.io/topology-aware-hints'
/** A zone may receive up to this much more than its CPU share before Auto gives up (upstream's overloadThreshold). */
const overloadThreshold = 0.2

type Hints = NonNullable<EndpointSliceEndpoint['hints']>

function withHints(slices: readonly EndpointSlice[], hintsOf: (e: EndpointSliceEndpoint) => Hints | undefined): EndpointSlice[] {
  return slices.map((s) => ({
    ...s,
    endpoints: s.endpoints.map((e) => {
      const { hints: _old, ...rest } = e
      const h = hintsOf(e)
      return h ? { ...rest, hints: h } : rest
    }),
  }))
}

/** Millicores of a quantity such as "4", "2500m", "0.5"; undefined when unreadable. */
export function cpuMillis(q: unknown): number | undefined {
  if (typeof q === 'number') return q * 1000
  if (typeof q !== 'string') return undefined
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim())
  if (!m) return undefined
  return m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000
}

function isNodeReady(n: Node): boolean {
  const conds = (n.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions
  return conds === undefined || conds.some((c) => c.type === 'Ready' && c.status === 'True')
}

/**
 * What of a Node the EndpointSlices depend on (endpoint zones, and the hints of zoneCpuRatios):
 * its zone, readiness and allocatable CPU. A heartbeat changes none of them.
 */
export function nodeTopologyFacts(n: Node): string {
  return JSON.stringify([n.metadata.labels?.[zoneLabel] ?? null, isNodeReady(n), String((n.status as { allocatable?: { cpu?: unknown } } | undefined)?.allocatable?.cpu ?? '')])
}

/** Each zone's share of the ready nodes' allocatable CPU; undefined when a node lacks a zone or CPU. */
export function zoneCpuRatios(nodes: readonly Node[]): Map<string, number> | undefined {
  const cpu = new Map<string, number>()
  for (const n of nodes.filter(isNodeReady)) {
    const zone = n.metadata.labels?.[zoneLabel]
    const millis = cpuMillis((n.status as { allocatable?: { cpu?: unknown } } | undefined)?.allocatable?.cpu)
    if (!zone || millis === undefined || millis <= 0) return undefined
    cpu.set(zone, (cpu.get(zone) ?? 0) + millis)
  }
  const total = [...cpu.values()].reduce((a, b) => a + b, 0)
  return total > 0 ? new Map([...cpu.entries()].map(([z, c]) => [z, c / total])) : undefined
}

export interface ZoneAllocation {
  readonly minimum: number
  readonly desired: number
  readonly maximum: number
}

/** How many endpoints each zone should get; undefined below two zones or with fewer endpoints than zones. */
export function zoneAllocations(ratios: ReadonlyMap<string, number>, endpoints: number): Map<string, ZoneAllocation> | undefined {
  if (ratios.size < 2 || endpoints < ratios.size) return undefined
  const partial = new Map<string, { minimum: number; desired: number }>()
  let minTotal = 0
  for (const [zone, ratio] of ratios) {
    const desired = ratio * endpoints
    const minimum = Math.ceil(desired / (1 + overloadThreshold))
    partial.set(zone, { minimum, desired: Math.max(desired, minimum) })
    minTotal += minimum
  }
  if (minTotal > endpoints) return undefined
  return new Map([...partial.entries()].map(([z, a]) => [z, { ...a, maximum: a.minimum + endpoints - minTotal }]))
}

/**
 * Auto: every ready endpoint first hints its own zone; zones holding more than their share then
 * give endpoints to zones holding fewer (endpoint order, so the result is stable); if a zone still
 * ends above its maximum the hints are dropped (upstream's overload fallback).
 */
function autoHints(slices: readonly EndpointSlice[], nodes: readonly Node[]): EndpointSlice[] {
  const none = withHints(slices, () => undefined)
  const ready = slices.flatMap((s) => s.endpoints).filter((e) => e.conditions?.ready === true)
  const ratios = zoneCpuRatios(nodes)
  if (!ratios || ready.some((e) => !e.zone)) return none
  const allocations = zoneAllocations(ratios, ready.length)
  if (!allocations) return none
  const assigned = new Map<EndpointSliceEndpoint, string>(ready.map((e) => [e, e.zone!]))
  const count = (zone: string): number => [...assigned.values()].filter((z) => z === zone).length
  for (const [zone, a] of allocations) {
    let need = Math.floor(a.desired - count(zone))
    for (const e of ready) {
      if (need <= 0) break
      const from = assigned.get(e)!
      const fromAlloc = allocations.get(from)
      if (from === zone || (fromAlloc !== undefined && count(from) - fromAlloc.desired < 1)) continue
      assigned.set(e, zone)
      need--
    }
  }
  for (const [zone, a] of allocations) if (count(zone) > a.maximum || count(zone) < a.minimum) return none
  if ([...assigned.values()].some((z) => !allocations.has(z))) return none
  return withHints(slices, (e) => (assigned.has(e) ? { forZones: [{ name: assigned.get(e)! }] } : undefined))
}

function sameZone(slices: readonly EndpointSlice[], sameNode: boolean): EndpointSlice[] {
  return withHints(slices, (e) => {
    if (!e.zone) return undefined
    return { forZones: [{ name: e.zone }], ...(sameNode && e.nodeName ? { forNodes: [{ name: e.nodeName }] } : {}) }
  })
}

/**
 * Topology mode Auto: the hints weigh every Node's allocatable CPU by zone, so only then do a
 * Service's slices depend on Nodes that host none of its endpoints.
 */
export function usesAutoHints(svc: Service): boolean {
  const annotations = svc.metadata.annotations ?? {}
  const mode = annotations[topologyModeAnnotation] ?? annotations[topologyAwareHintsAnnotation]
  return mode === 'Auto' || mode === 'auto'
}

/** The Service's slices with the hints upstream's controller would write (and without any it would not). */
export function applyTopologyHints(svc: Service, slices: readonly EndpointSlice[], nodes: readonly Node[]): EndpointSlice[] {
  if (usesAutoHints(svc)) return autoHints(slices, nodes)
  switch (svc.spec.trafficDistribution) {
    case 'PreferClose':
    case 'PreferSameZone': return sameZone(slices, false)
    case 'PreferSameNode': return sameZone(slices, true)
    default: return withHints(slices, () => undefined)
  }
}
