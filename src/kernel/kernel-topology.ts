/**
 * The kernel dataplane's topology, derived from the lab plan (pure): the node namespaces on one
 * bridged segment with their InternalIPs, routes over the pod CIDRs, the external host and the
 * sysctls, but no pods (they come and go with the kubelet). Each pod's namespace and veth are
 * planned when the kubelet sets its sandbox up.
 */
import type { KubeProxyConfiguration, Node } from '../api/index.js'
import { UsageError } from '../errors.js'
import { cidrContains, ipFamily, parseCidr, parseIP, type IPAddress } from '../net/index.js'
import { planLab, planPodNetwork, podNetnsName, type LabNode, type LabPlan, type PodNetworkPlan } from '../lab/index.js'

/** Every namespace and interface name of `kpe up --dataplane kernel` starts with this. */
export const kernelPrefix = 'kpe'

/** localhost NodePorts (route_localnet on the nodes) as kube-proxy decides them: iptables mode only, default on. */
export function wantsLocalhostNodePorts(kpc: KubeProxyConfiguration | undefined): boolean {
  return (kpc?.mode ?? 'iptables') !== 'nftables' && (kpc?.iptables?.localhostNodePorts ?? true)
}

/** planLab over the Nodes alone, without the lab's client pods: the part that lives as long as kpe up. */
export function planKernelTopology(nodes: readonly Node[], kpc: KubeProxyConfiguration | undefined): LabPlan {
  const full = planLab({ nodes, pods: [], endpointSlices: [] }, { prefix: kernelPrefix, localhostNodePorts: wantsLocalhostNodePorts(kpc) })
  const podNs = new Set(full.pods.map((p) => p.netns))
  const keep = (x: { readonly netns: string }): boolean => !podNs.has(x.netns)
  return {
    ...full,
    pods: [],
    namespaces: full.namespaces.filter((n) => !podNs.has(n)),
    links: full.links.filter((l) => keep(l) && (l.kind !== 'veth' || !podNs.has(l.peerNetns))),
    addresses: full.addresses.filter(keep),
    routes: full.routes.filter(keep),
    sysctls: full.sysctls.filter(keep),
    processes: [],
  }
}

export interface PodSandboxRequest {
  readonly namespace: string
  readonly name: string
  readonly node: string
  readonly podIP: string
}

export interface PodSandboxPlan extends PodNetworkPlan {
  /** The pod's namespace label (its holder is found by this name). */
  readonly netns: string
  readonly node: LabNode
  readonly address: IPAddress
}

/**
 * One pod's namespace and veth into its node's bridge. `index` keeps interface names unique
 * while kpe up runs (a counter: names of removed pods are not reused). Refuses a pod whose
 * node or address the topology cannot carry, naming the pod and the field.
 */
export function planPodSandbox(topology: LabPlan, pod: PodSandboxRequest, index: number): PodSandboxPlan {
  const key = `${pod.namespace}/${pod.name}`
  const node = topology.nodes.find((n) => n.name === pod.node)
  if (!node) throw new UsageError(`pod ${key}: spec.nodeName ${JSON.stringify(pod.node)} is not a node of the kernel dataplane (nodes: ${topology.nodes.map((n) => n.name).join(', ')})`)
  const address = parseIP(pod.podIP)
  if (address === undefined || ipFamily(address) !== 'IPv4') throw new UsageError(`pod ${key}: status.podIP ${JSON.stringify(pod.podIP)} is not an IPv4 address (the kernel dataplane carries IPv4 only)`)
  const cidr = parseCidr(node.podCIDR)!
  if (!cidrContains(cidr, address) || address === node.bridgeAddress) {
    throw new UsageError(`pod ${key}: status.podIP ${address} is not a host address of node ${node.name}'s podCIDR ${node.podCIDR} (the .1 is the bridge)`)
  }
  if (!Number.isInteger(index) || index < 0 || index > 99_999) throw new UsageError(`pod ${key}: interface index ${index} out of range (at most 100000 pods per kpe up)`)
  const netns = podNetnsName(kernelPrefix, pod.namespace, pod.name)
  return { netns, node, address, ...planPodNetwork(kernelPrefix, node, { netns, address }, index) }
}
