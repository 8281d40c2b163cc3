/**
 * The proxier's whole input for one family: Service ports (sorted in kpe's canonical order)
 * and their endpoints. Also the pure "what changed" comparison a change tracker produces,
 * used to plan partial syncs.
 */
import type { EndpointSlice, Service } from '../../api/index.js'
import type { IPFamily } from '../../net/index.js'
import { buildEndpointsMap, cmp, type EndpointsMap } from './endpoint.js'
import { servicePortsFromService, type ServicePortInfo } from './service-port.js'

export interface ProxyState {
  /** Sorted by namespace/name, then port name, then protocol (see docs/architecture.md). */
  readonly servicePorts: readonly ServicePortInfo[]
  readonly endpoints: EndpointsMap
}

export function compareServicePorts(a: ServicePortInfo, b: ServicePortInfo): number {
  return (
    cmp(`${a.name.namespace}/${a.name.name}`, `${b.name.namespace}/${b.name.name}`) ||
    cmp(a.name.port, b.name.port) ||
    cmp(a.protocol, b.protocol)
  )
}

export function buildProxyState(services: readonly Service[], slices: readonly EndpointSlice[], family: IPFamily, nodeName: string): ProxyState {
  const servicePorts = services.flatMap((s) => servicePortsFromService(s, family)).sort(compareServicePorts)
  return { servicePorts, endpoints: buildEndpointsMap(slices, family, nodeName) }
}

/**
 * Namespaced names (`ns/name`) whose Service or EndpointSlices differ between two object sets:
 * the net change a change tracker would report since the last successful sync.
 */
export function changedServiceNames(
  before: { services: readonly Service[]; endpointSlices: readonly EndpointSlice[] },
  after: { services: readonly Service[]; endpointSlices: readonly EndpointSlice[] },
): Set<string> {
  const changed = new Set<string>()
  const diff = (a: Map<string, string>, b: Map<string, string>): void => {
    for (const [k, v] of a) if (b.get(k) !== v) changed.add(k)
    for (const k of b.keys()) if (!a.has(k)) changed.add(k)
  }
  diff(indexServices(before.services), indexServices(after.services))
  diff(indexSlices(before.endpointSlices), indexSlices(after.endpointSlices))
  return changed
}

function indexServices(list: readonly Service[]): Map<string, string> {
  return new Map(list.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, stableJson({ spec: s.spec, status: s.status, annotations: s.metadata.annotations })]))
}

function indexSlices(list: readonly EndpointSlice[]): Map<string, string> {
  const bySvc = new Map<string, string[]>()
  for (const s of list) {
    const key = `${s.metadata.namespace}/${s.metadata.labels?.['kubernetes.io/service-name'] ?? ''}`
    bySvc.set(key, [...(bySvc.get(key) ?? []), stableJson({ name: s.metadata.name, addressType: s.addressType, endpoints: s.endpoints, ports: s.ports })])
  }
  return new Map([...bySvc].map(([k, v]) => [k, v.sort().join('\n')]))
}

function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val !== null && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => cmp(a, b)))
      : val,
  )
}
