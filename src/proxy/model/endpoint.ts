/**
 * kube-proxy's view of endpoints (upstream pkg/proxy/endpoint.go and endpointslicecache.go):
 * EndpointSlices of one family grouped by Service port, de-duplicated, sorted by `ip:port`.
 */
import type { EndpointSlice } from '../../api/index.js'
import { serviceNameLabel } from '../../api/index.js'
import { ipFamily, joinHostPort, parseIPSloppy, type IPAddress, type IPFamily } from '../../net/index.js'
import { servicePortKey } from './service-port.js'

export interface EndpointInfo {
  readonly ip: IPAddress
  readonly port: number
  /** `ip:port` or `[ip]:port`: the endpoint string used in hashes, comments and DNAT. */
  readonly endpoint: string
  readonly isLocal: boolean
  readonly ready: boolean
  readonly serving: boolean
  readonly terminating: boolean
  readonly nodeName: string | undefined
  readonly zoneHints: ReadonlySet<string> | undefined
  readonly nodeHints: ReadonlySet<string> | undefined
  /** The EndpointSlice (`ns/name`) it came from, for provenance. */
  readonly slice: string
}

/** Endpoints of every Service port, keyed by servicePortKey, each list sorted by endpoint string. */
export type EndpointsMap = ReadonlyMap<string, readonly EndpointInfo[]>

export function buildEndpointsMap(slices: readonly EndpointSlice[], family: IPFamily, nodeName: string): EndpointsMap {
  const byKey = new Map<string, Map<string, EndpointInfo>>()
  // Slices are visited in a fixed order (namespace/name) so duplicate resolution is deterministic.
  const ordered = [...slices].sort((a, b) => cmp(`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`))
  for (const slice of ordered) {
    if (slice.addressType !== family) continue
    const svcName = slice.metadata.labels?.[serviceNameLabel]
    if (!svcName) continue
    const namespace = slice.metadata.namespace ?? 'default'
    for (const p of slice.ports ?? []) {
      if (p.name === undefined || p.name === null || !p.port) continue
      const key = servicePortKey({ namespace, name: svcName, port: p.name, protocol: p.protocol ?? 'TCP' })
      let eps = byKey.get(key)
      if (!eps) byKey.set(key, (eps = new Map()))
      for (const ep of slice.endpoints ?? []) {
        const first = ep.addresses[0]
        const ip = first === undefined ? undefined : parseIPSloppy(first)
        if (ip === undefined || ipFamily(ip) !== family) continue
        const info: EndpointInfo = {
          ip,
          port: p.port,
          endpoint: joinHostPort(ip, p.port),
          isLocal: ep.nodeName !== undefined && ep.nodeName === nodeName,
          ready: ep.conditions?.ready ?? true,
          serving: ep.conditions?.serving ?? true,
          terminating: ep.conditions?.terminating ?? false,
          nodeName: ep.nodeName,
          zoneHints: ep.hints?.forZones ? new Set(ep.hints.forZones.map((z) => z.name)) : undefined,
          nodeHints: ep.hints?.forNodes ? new Set(ep.hints.forNodes.map((n) => n.name)) : undefined,
          slice: `${namespace}/${slice.metadata.name ?? ''}`,
        }
        const prev = eps.get(info.endpoint)
        // A non-terminating endpoint wins over an earlier duplicate; a terminating one only fills a gap.
        if (prev === undefined || !info.terminating) eps.set(info.endpoint, info)
      }
    }
  }
  const out = new Map<string, readonly EndpointInfo[]>()
  for (const [key, eps] of byKey) out.set(key, [...eps.values()].sort((a, b) => cmp(a.endpoint, b.endpoint)))
  return out
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
