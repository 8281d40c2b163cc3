/**
 * The set of addresses and names the entry points may forward to, built from the cluster's
 * objects: ClusterIPs, LoadBalancer ingress IPs, externalIPs, pod IPs, node IPs and Service DNS
 * names. Anything not in it is outside the cluster. Pure data.
 */
import type { Node, Pod, Service } from '../../api/index.js'
import { podIPs } from '../../api/index.js'
import { parseIPSloppy } from '../../net/index.js'
import { nodeIPs } from '../model/index.js'

export type ClusterAddressKind = 'cluster-ip' | 'load-balancer-ip' | 'external-ip' | 'pod-ip' | 'node-ip'

export interface ClusterAddress {
  readonly kind: ClusterAddressKind
  /** `ns/name` of the Service or Pod, or the Node's name. */
  readonly owner: string
}

export interface ClusterIndex {
  readonly addresses: ReadonlyMap<string, ClusterAddress>
  /** `name.namespace` -> the Service's ClusterIPs ([] for a headless Service). */
  readonly services: ReadonlyMap<string, readonly string[]>
  /** Node name -> its InternalIP (the address a NodePort is reached at). */
  readonly nodeIPs: ReadonlyMap<string, string>
  /** `ns/name` -> pod IP and node, for the `pod.NS.NAME` client convention. */
  readonly pods: ReadonlyMap<string, { readonly ip: string; readonly node: string | undefined }>
  readonly clusterDomain: string
}

export interface ClusterIndexInput {
  readonly services: readonly Service[]
  readonly pods: readonly Pod[]
  readonly nodes: readonly Node[]
  readonly clusterDomain?: string
}

export function buildClusterIndex(input: ClusterIndexInput): ClusterIndex {
  const addresses = new Map<string, ClusterAddress>()
  const add = (ip: string | undefined, a: ClusterAddress): void => {
    const parsed = ip === undefined ? undefined : parseIPSloppy(ip)
    if (parsed !== undefined && !addresses.has(parsed)) addresses.set(parsed, a)
  }
  const services = new Map<string, string[]>()
  for (const s of input.services) {
    const owner = `${s.metadata.namespace ?? 'default'}/${s.metadata.name ?? ''}`
    const ips = (s.spec.clusterIPs ?? (s.spec.clusterIP ? [s.spec.clusterIP] : [])).filter((ip) => ip !== 'None' && ip !== '')
    for (const ip of ips) add(ip, { kind: 'cluster-ip', owner })
    for (const ing of s.status?.loadBalancer?.ingress ?? []) add(ing.ip, { kind: 'load-balancer-ip', owner })
    for (const ip of s.spec.externalIPs ?? []) add(ip, { kind: 'external-ip', owner })
    if (s.spec.type !== 'ExternalName') services.set(`${s.metadata.name}.${s.metadata.namespace ?? 'default'}`, ips.flatMap((ip) => parseIPSloppy(ip) ?? []))
  }
  const pods = new Map<string, { ip: string; node: string | undefined }>()
  for (const p of input.pods) {
    const owner = `${p.metadata.namespace ?? 'default'}/${p.metadata.name ?? ''}`
    const ips = podIPs(p)
    for (const ip of ips) add(ip, { kind: 'pod-ip', owner })
    if (ips[0] !== undefined) pods.set(owner, { ip: ips[0], node: p.spec.nodeName })
  }
  const nodes = new Map<string, string>()
  for (const n of input.nodes) {
    const ips = nodeIPs(n)
    for (const ip of ips) add(ip, { kind: 'node-ip', owner: n.metadata.name ?? '' })
    if (ips[0] !== undefined) nodes.set(n.metadata.name ?? '', ips[0])
  }
  return { addresses, services, nodeIPs: nodes, pods, clusterDomain: input.clusterDomain ?? 'cluster.local' }
}
