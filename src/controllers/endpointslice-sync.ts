/**
 * The EndpointSlice controller's write plan for one Service: desired slices come from
 * deriveEndpointSlices (src/api, shared with the rule engine); this compares them with the
 * slices the controller owns and says which to create, update and delete. Also derives the
 * read-only v1 Endpoints mirror. Pure.
 */
import {
  deriveEndpointSlices, endpointSliceControllerName, managedByLabel, serviceFamilies, serviceNameLabel,
  type EndpointSlice, type Node, type Pod, type Service,
} from '../api/index.js'
import { sameJson } from './same-json.js'

export interface SlicePlan {
  readonly create: readonly EndpointSlice[]
  /** Desired content, carrying the live object's resourceVersion. */
  readonly update: readonly EndpointSlice[]
  readonly delete: readonly string[]
}

export function isManagedSliceOf(slice: EndpointSlice, serviceName: string): boolean {
  const labels = slice.metadata.labels ?? {}
  return labels[serviceNameLabel] === serviceName && labels[managedByLabel] === endpointSliceControllerName
}

/** Desired slices of one Service; none when it is gone, has no selector or is ExternalName. */
export function desiredSlices(svc: Service | undefined, pods: readonly Pod[], nodes: readonly Node[]): EndpointSlice[] {
  return svc ? deriveEndpointSlices({ services: [svc], pods, nodes }) : []
}

function sliceContent(s: EndpointSlice): unknown {
  return { labels: s.metadata.labels ?? {}, ownerReferences: s.metadata.ownerReferences ?? [], addressType: s.addressType, endpoints: s.endpoints ?? [], ports: s.ports ?? [] }
}

export function planSliceSync(desired: readonly EndpointSlice[], existing: readonly EndpointSlice[]): SlicePlan {
  const live = new Map(existing.map((s) => [s.metadata.name ?? '', s]))
  const create: EndpointSlice[] = []
  const update: EndpointSlice[] = []
  for (const d of desired) {
    const cur = live.get(d.metadata.name ?? '')
    if (!cur) create.push(d)
    else if (!sameJson(sliceContent(cur), sliceContent(d))) {
      update.push({ ...d, metadata: { ...cur.metadata, labels: d.metadata.labels, ...(d.metadata.ownerReferences ? { ownerReferences: d.metadata.ownerReferences } : {}) } })
    }
  }
  const wanted = new Set(desired.map((d) => d.metadata.name ?? ''))
  return { create, update, delete: existing.map((s) => s.metadata.name ?? '').filter((n) => !wanted.has(n)).sort() }
}

export const endpointsManagedByLabel = 'endpoints.kubernetes.io/managed-by'
export const endpointsControllerName = 'endpoint-controller'

interface EndpointAddress { ip: string; nodeName?: string; hostname?: string; targetRef?: unknown }

/**
 * The v1 Endpoints mirror of a Service's slices (primary family only, as upstream's Endpoints
 * controller): ready endpoints in addresses, not-ready ones in notReadyAddresses, terminating
 * ones left out. Undefined when the Service has no selector.
 */
export function deriveEndpoints(svc: Service, slices: readonly EndpointSlice[]): Record<string, unknown> | undefined {
  if (!svc.spec.selector || Object.keys(svc.spec.selector).length === 0 || svc.spec.type === 'ExternalName') return undefined
  const family = serviceFamilies(svc)[0]
  const subsets: Record<string, unknown>[] = []
  for (const s of slices.filter((x) => x.addressType === family)) {
    const addresses: EndpointAddress[] = []
    const notReady: EndpointAddress[] = []
    for (const e of s.endpoints) {
      const a: EndpointAddress = {
        ip: e.addresses[0] ?? '', ...(e.hostname ? { hostname: e.hostname } : {}), ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        ...(e.targetRef ? { targetRef: { ...e.targetRef, kind: e.targetRef.kind ?? 'Pod' } } : {}),
      }
      if (e.conditions?.ready) addresses.push(a)
      else if (!e.conditions?.terminating) notReady.push(a)
    }
    if (addresses.length === 0 && notReady.length === 0) continue
    subsets.push({
      ...(addresses.length ? { addresses } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}),
      ports: (s.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP' })),
    })
  }
  const name = svc.metadata.name ?? ''
  return {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: {
      name, namespace: svc.metadata.namespace ?? 'default',
      labels: { ...(svc.metadata.labels ?? {}), [endpointsManagedByLabel]: endpointsControllerName },
    },
    ...(subsets.length ? { subsets } : {}),
  }
}
