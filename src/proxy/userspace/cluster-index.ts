/**
 * The set of addresses and names the entry points may forward to, built from the cluster's
 * objects: ClusterIPs, LoadBalancer ingress IPs, externalIPs, pod IPs, node IPs, Service DNS
 * names and NodePorts. Anything not in it is outside the cluster. Pure data; an object whose
 * fields cannot be read is left out and listed, never thrown.
 */
import type { Node, Pod, Service } from '../../api/index.js'
import { podIPs, objectKey } from '../../api/index.js'
import { parseIPSloppy, type L4Proto } from '../../net/index.js'
import { clusterAddresses, defaultClusterDomain, nodeIPs } from '../model/index.js'

export type ClusterAddressKind = 'cluster-ip' | 'load-balancer-ip' | 'external-ip' | 'pod-ip' | 'node-ip'

export interface ClusterAddress {
  readonly kind: ClusterAddressKind
  /** `ns/name` of the Service or Pod, or the Node's name. */
  readonly owner: string
}

/** An object left out of the index because reading it threw (it would not pass validation). */
export interface SkippedObject {
  readonly kind: 'Service' | 'Pod' | 'Node'
  /** `ns/name`, or the Node's name. */
  readonly key: string
  readonly error: string
}

/** Cluster DNS as the entry points use it (src/dns ClusterDns answers it). */
export interface NameResolver {
  lookupHost(name: string, conf: { readonly search: readonly string[]; readonly ndots: number }): { readonly addresses: readonly string[] } | undefined
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
  /** The NodePorts of every NodePort and LoadBalancer Service, sorted by port, then protocol. */
  readonly nodePorts: readonly { readonly port: number; readonly proto: L4Proto }[]
  /** Objects whose fields could not be read; the rest of the index is complete without them. */
  readonly skipped: readonly SkippedObject[]
  /** Cluster DNS, when the entry points resolve names through it. */
  readonly resolver?: NameResolver
}

export interface ClusterIndexInput {
  readonly services: readonly Service[]
  readonly pods: readonly Pod[]
  readonly nodes: readonly Node[]
  readonly clusterDomain?: string
  readonly resolver?: NameResolver
}

/** What one object adds to the index, read completely before any of it is committed. */
interface Contribution {
  readonly addresses: readonly (readonly [string, ClusterAddress])[]
  commit?(): void
}

const parsed = (ips: readonly (string | undefined)[], a: ClusterAddress): [string, ClusterAddress][] =>
  ips.flatMap((ip) => {
    const p = ip === undefined ? undefined : parseIPSloppy(ip)
    return p === undefined ? [] : [[p, a] as [string, ClusterAddress]]
  })

type NodePorts = Map<string, { readonly port: number; readonly proto: L4Proto }>

function serviceContribution(s: Service, services: Map<string, string[]>, nodePorts: NodePorts): Contribution {
  const owner = objectKey(s, 'default')
  const { clusterIPs, loadBalancerIPs, externalIPs } = clusterAddresses(s)
  const addresses = [
    ...parsed(clusterIPs, { kind: 'cluster-ip', owner }),
    ...parsed(loadBalancerIPs, { kind: 'load-balancer-ip', owner }),
    ...parsed(externalIPs, { kind: 'external-ip', owner }),
  ]
  const dnsName = `${s.metadata.name}.${s.metadata.namespace ?? 'default'}`
  const ports: { port: number; proto: L4Proto }[] = []
  for (const p of s.spec.ports ?? []) {
    if (!p.nodePort || (p.protocol ?? 'TCP') === 'SCTP') continue
    ports.push({ port: p.nodePort, proto: p.protocol === 'UDP' ? 'udp' : 'tcp' })
  }
  return {
    addresses,
    commit: () => {
      if (s.spec.type !== 'ExternalName') services.set(dnsName, [...clusterIPs])
      for (const p of ports) nodePorts.set(`${p.port}/${p.proto}`, p)
    },
  }
}

function podContribution(p: Pod, pods: Map<string, { ip: string; node: string | undefined }>): Contribution {
  const owner = objectKey(p, 'default')
  const ips = podIPs(p)
  const addresses = parsed(ips, { kind: 'pod-ip', owner })
  const first = ips[0]
  const node = p.spec.nodeName
  return { addresses, commit: first === undefined ? undefined : () => pods.set(owner, { ip: first, node }) }
}

function nodeContribution(n: Node, nodes: Map<string, string>): Contribution {
  const name = n.metadata.name ?? ''
  const ips = nodeIPs(n)
  const first = ips[0]
  return { addresses: parsed(ips, { kind: 'node-ip', owner: name }), commit: first === undefined ? undefined : () => nodes.set(name, first) }
}

export function buildClusterIndex(input: ClusterIndexInput): ClusterIndex {
  const addresses = new Map<string, ClusterAddress>()
  const services = new Map<string, string[]>()
  const pods = new Map<string, { ip: string; node: string | undefined }>()
  const nodes = new Map<string, string>()
  const nodePorts: NodePorts = new Map()
  const skipped: SkippedObject[] = []
  // Each object is read whole before anything of it is added: one that throws (a wrong-typed
  // field the store still holds from before validation) is left out and reported, never fatal.
  const take = <T extends { readonly metadata?: { readonly name?: string; readonly namespace?: string } }>(kind: SkippedObject['kind'], objects: readonly T[], read: (o: T) => Contribution): void => {
    for (const o of objects) {
      let c: Contribution
      try {
        c = read(o)
      } catch (err) {
        const name = String(o?.metadata?.name ?? '')
        skipped.push({ kind, key: kind === 'Node' ? name : `${String(o?.metadata?.namespace ?? 'default')}/${name}`, error: err instanceof Error ? err.message : String(err) })
        continue
      }
      for (const [ip, a] of c.addresses) if (!addresses.has(ip)) addresses.set(ip, a)
      c.commit?.()
    }
  }
  take('Service', input.services, (s) => serviceContribution(s, services, nodePorts))
  take('Pod', input.pods, (p) => podContribution(p, pods))
  take('Node', input.nodes, (n) => nodeContribution(n, nodes))
  const sortedNodePorts = [...nodePorts.values()].sort((a, b) => a.port - b.port || (a.proto < b.proto ? -1 : 1))
  return { addresses, services, nodeIPs: nodes, pods, clusterDomain: input.clusterDomain ?? defaultClusterDomain, nodePorts: sortedNodePorts, skipped, ...(input.resolver ? { resolver: input.resolver } : {}) }
}
