/**
 * planLab: cluster objects + a lab prefix -> the namespaces, links, addresses, routes, sysctls
 * and processes of a kernel lab (KERNEL-LAB-NOTES topology). Pure: no I/O. Every namespace and
 * interface name carries the prefix; interface names stay within IFNAMSIZ-1 (15) characters.
 * The root namespace appears nowhere in a plan.
 */
import { objectKey, type EndpointSlice, type Node, type Pod } from '../api/index.js'
import { UsageError } from '../errors.js'
import { bigIntToIP, cidrContains, ipFamily, ipToBigInt, parseCidr, parseIP, type IPAddress, type L4Proto } from '../net/index.js'

/** Lab prefixes: short enough that `${prefix}-v99999` fits in 15 characters. */
export const labPrefixPattern = /^[a-z][a-z0-9]{0,7}$/
export const defaultLabPrefix = 'kpelab'
/**
 * The external host sends from one address per (kind, node) and policy-routes each address via
 * its node, as an upstream router or load balancer would: `lan` is on the node segment,
 * `range` in 203.0.113.0/24 and `outside` in 198.51.100.0/24 (both on its loopback).
 */
export type ExternalClientKind = 'lan' | 'range' | 'outside'
export const externalClientKinds: readonly ExternalClientKind[] = ['lan', 'range', 'outside']
export const clientPodNamespace = 'kpe-lab'

export interface LabCluster {
  readonly nodes: readonly Node[]
  readonly pods: readonly Pod[]
  readonly endpointSlices: readonly EndpointSlice[]
}

export interface LabPort {
  readonly port: number
  readonly protocol: L4Proto
}

export interface LabNode {
  readonly name: string
  readonly netns: string
  readonly address: IPAddress
  readonly podCIDR: string
  readonly bridge: string
  readonly bridgeAddress: IPAddress
  /** What `--dst-type LOCAL` means on this node (interpreter NodeContext). */
  readonly localAddresses: readonly IPAddress[]
}

export interface LabPod {
  readonly namespace: string
  readonly name: string
  /** `namespace/name` */
  readonly key: string
  readonly node: string
  readonly netns: string
  readonly address: IPAddress
  readonly ports: readonly LabPort[]
  /** Added by the lab (one per node) to send traffic from a pod address that no Service selects. */
  readonly isClient: boolean
}

export interface ExternalClient {
  readonly kind: ExternalClientKind
  /** Packets from this address are routed via this node. */
  readonly via: string
  readonly address: IPAddress
}

export interface LabExternal {
  readonly netns: string
  readonly address: IPAddress
  readonly clients: readonly ExternalClient[]
}

export type LinkPlan =
  | { readonly kind: 'bridge'; readonly netns: string; readonly name: string }
  | {
      readonly kind: 'veth'
      readonly netns: string
      readonly name: string
      readonly peerNetns: string
      readonly peerName: string
      /** The bridge (in peerNetns) the peer end is enslaved to. */
      readonly peerMaster: string
      readonly peerHairpin: boolean
    }

export interface AddressPlan {
  readonly netns: string
  readonly dev: string
  readonly cidr: string
}

export interface RoutePlan {
  readonly netns: string
  readonly dst: string
  readonly via: IPAddress
  /** A policy-routing table (with `dev ... onlink`); absent: main. */
  readonly table?: { readonly id: number; readonly dev: string }
}

export interface RoutingRulePlan {
  readonly netns: string
  readonly from: IPAddress
  readonly table: number
}

export interface SysctlPlan {
  readonly netns: string
  readonly key: string
  readonly value: string
}

export interface ProcessPlan {
  readonly kind: 'pod-server'
  readonly netns: string
  readonly pod: string
  readonly ports: readonly LabPort[]
}

export interface LabPlan {
  readonly prefix: string
  readonly lanNetns: string
  readonly lanBridge: string
  readonly lanCIDR: string
  readonly external: LabExternal
  readonly nodes: readonly LabNode[]
  readonly pods: readonly LabPod[]
  /** Creation order; deletion removes them in reverse. */
  readonly namespaces: readonly string[]
  readonly links: readonly LinkPlan[]
  readonly addresses: readonly AddressPlan[]
  readonly routes: readonly RoutePlan[]
  readonly routingRules: readonly RoutingRulePlan[]
  readonly sysctls: readonly SysctlPlan[]
  readonly processes: readonly ProcessPlan[]
  /** Things of the cluster the lab leaves out, with the reason (shown by `kpe lab up`). */
  readonly skipped: readonly string[]
}

export interface PlanOptions {
  readonly prefix: string
  /** kube-proxy's localhostNodePorts (sets route_localnet on the nodes). */
  readonly localhostNodePorts: boolean
}

export function assertLabPrefix(prefix: string): void {
  if (!labPrefixPattern.test(prefix)) {
    throw new UsageError(`invalid lab name ${JSON.stringify(prefix)}`, { hint: 'use 1-8 characters of [a-z0-9], starting with a letter (--name)' })
  }
}

function ipv4Of(node: Node): IPAddress | undefined {
  const a = node.status?.addresses?.find((x) => x.type === 'InternalIP' && ipFamily(x.address) === 'IPv4')
  return a ? parseIP(a.address) : undefined
}

function podCIDRv4(node: Node): string | undefined {
  return [...(node.spec?.podCIDRs ?? []), ...(node.spec?.podCIDR ? [node.spec.podCIDR] : [])].find((c) => ipFamily(c) === 'IPv4')
}

function podAddressV4(pod: Pod): IPAddress | undefined {
  const ips = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)].filter((x): x is string => x !== undefined)
  const v4 = ips.find((ip) => ipFamily(ip) === 'IPv4')
  return v4 === undefined ? undefined : parseIP(v4)
}

function portsOf(pod: Pod, address: IPAddress | undefined, slices: readonly EndpointSlice[]): LabPort[] {
  const out = new Map<string, LabPort>()
  const add = (port: number, protocol: string | undefined): void => {
    const proto = (protocol ?? 'TCP').toLowerCase() as L4Proto
    out.set(`${proto}/${port}`, { port, protocol: proto })
  }
  for (const c of pod.spec.containers) for (const p of c.ports ?? []) add(p.containerPort, p.protocol)
  // Slices given in the manifests may name ports no container declares: serve those too.
  for (const s of slices) {
    if (!s.endpoints.some((e) => address !== undefined && e.addresses.includes(address))) continue
    for (const p of s.ports ?? []) if (p.port !== undefined && p.port !== null) add(p.port, p.protocol ?? undefined)
  }
  return [...out.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port)
}

/** Names as the lab uses them: `${prefix}-node-NAME`, `${prefix}-pod-NS.NAME`. */
export function nodeNetnsName(prefix: string, node: string): string {
  return `${prefix}-node-${node}`
}

export function podNetnsName(prefix: string, namespace: string, name: string): string {
  return `${prefix}-pod-${namespace}.${name}`
}

export function planLab(cluster: LabCluster, opts: PlanOptions): LabPlan {
  assertLabPrefix(opts.prefix)
  const p = opts.prefix
  const skipped: string[] = []
  const lanNetns = `${p}-lan`
  const lanBridge = `${p}-lan`
  const extNetns = `${p}-ext`

  const nodeRows = cluster.nodes.map((n) => {
    const name = n.metadata.name ?? ''
    const address = ipv4Of(n)
    const cidr = podCIDRv4(n)
    if (address === undefined || cidr === undefined) {
      throw new UsageError(`Node ${name} needs an IPv4 InternalIP and an IPv4 podCIDR for the lab`, { hint: 'set status.addresses (InternalIP) and spec.podCIDR' })
    }
    return { name, address, cidr }
  })
  if (nodeRows.length === 0) throw new UsageError('the manifests hold no Node: a lab needs at least one', { hint: 'add Nodes with an InternalIP and a podCIDR' })
  const lan = parseCidr(`${nodeRows[0]!.address}/24`)!
  for (const n of nodeRows) {
    if (ipToBigInt(n.address) >> 8n !== lan.network >> 8n) {
      throw new UsageError(`Node ${n.name} (${n.address}) is not in ${lan.cidr}: the lab puts every node on one /24`)
    }
  }
  const taken = new Set<string>(nodeRows.map((n) => n.address))
  const extLan: IPAddress[] = []
  for (let i = 1n; i < 255n && extLan.length < nodeRows.length; i++) {
    const candidate = bigIntToIP(lan.network + i, 'IPv4')
    if (!taken.has(candidate)) extLan.push(candidate)
  }
  const extAddress = extLan[0]

  const nodes: LabNode[] = nodeRows.map((n) => {
    const network = parseCidr(n.cidr)!
    const bridgeAddress = bigIntToIP(network.network + 1n, 'IPv4')
    return {
      name: n.name,
      netns: nodeNetnsName(p, n.name),
      address: n.address,
      podCIDR: network.cidr,
      bridge: `${p}-cni`,
      bridgeAddress,
      localAddresses: [n.address, bridgeAddress, '127.0.0.1' as IPAddress],
    }
  })

  const pods: LabPod[] = []
  for (const pod of cluster.pods) {
    const key = objectKey(pod, 'default')
    const node = nodes.find((n) => n.name === pod.spec.nodeName)
    const address = podAddressV4(pod)
    if (!node || address === undefined) {
      skipped.push(`pod ${key}: ${!node ? 'not on a Node of the manifests' : 'no IPv4 podIP'}`)
      continue
    }
    if (!isInCidr(node.podCIDR, address) || address === node.bridgeAddress) {
      skipped.push(`pod ${key}: podIP ${address} is not a host address of ${node.name}'s podCIDR ${node.podCIDR} (the .1 is the bridge)`)
      continue
    }
    const ns = pod.metadata.namespace ?? 'default'
    const name = pod.metadata.name ?? ''
    pods.push({ namespace: ns, name, key, node: node.name, netns: podNetnsName(p, ns, name), address, ports: portsOf(pod, address, cluster.endpointSlices), isClient: false })
  }
  for (const node of nodes) {
    const used = new Set(pods.filter((x) => x.node === node.name).map((x) => x.address))
    const network = parseCidr(node.podCIDR)!
    const size = 1n << BigInt(32 - network.prefix)
    let address: IPAddress | undefined
    for (let off = size - 2n; off > 1n && address === undefined; off--) {
      const candidate = bigIntToIP(network.network + off, 'IPv4')
      if (!used.has(candidate)) address = candidate
    }
    if (address === undefined) throw new UsageError(`no free address for the client pod in ${node.podCIDR}`)
    const name = `client-${node.name}`
    pods.push({ namespace: clientPodNamespace, name, key: `${clientPodNamespace}/${name}`, node: node.name, netns: podNetnsName(p, clientPodNamespace, name), address, ports: [], isClient: true })
  }
  for (const pod of pods) {
    for (const port of pod.ports) if (port.protocol === 'sctp') skipped.push(`pod ${pod.key}: SCTP port ${port.port} gets no server (Node.js has no SCTP sockets)`)
  }
  if (extAddress === undefined || extLan.length < nodeRows.length) throw new UsageError(`not enough free addresses for the external host in ${lan.cidr}`)
  const clients: ExternalClient[] = nodes.flatMap((node, i) => [
    { kind: 'lan' as const, via: node.name, address: extLan[i]! },
    { kind: 'range' as const, via: node.name, address: `203.0.113.${10 + i}` as IPAddress },
    { kind: 'outside' as const, via: node.name, address: `198.51.100.${10 + i}` as IPAddress },
  ])
  if (nodes.length > 200) throw new UsageError('a lab holds at most 200 nodes')
  const external: LabExternal = { netns: extNetns, address: extAddress, clients }

  const links: LinkPlan[] = [{ kind: 'bridge', netns: lanNetns, name: lanBridge }]
  const addresses: AddressPlan[] = []
  const routes: RoutePlan[] = []
  const sysctls: SysctlPlan[] = []
  links.push({ kind: 'veth', netns: extNetns, name: `${p}-x`, peerNetns: lanNetns, peerName: `${p}-lx`, peerMaster: lanBridge, peerHairpin: false })
  const routingRules: RoutingRulePlan[] = []
  addresses.push({ netns: extNetns, dev: `${p}-x`, cidr: `${extAddress}/24` })
  for (const c of clients) {
    if (c.address !== extAddress) addresses.push({ netns: extNetns, dev: c.kind === 'lan' ? `${p}-x` : 'lo', cidr: `${c.address}/32` })
    const i = nodes.findIndex((n) => n.name === c.via)
    routingRules.push({ netns: extNetns, from: c.address, table: 100 + i })
  }
  nodes.forEach((node, i) => routes.push({ netns: extNetns, dst: 'default', via: node.address, table: { id: 100 + i, dev: `${p}-x` } }))
  nodes.forEach((node, i) => {
    const nic = `${p}-n${i}`
    links.push({ kind: 'veth', netns: node.netns, name: nic, peerNetns: lanNetns, peerName: `${p}-l${i}`, peerMaster: lanBridge, peerHairpin: false })
    links.push({ kind: 'bridge', netns: node.netns, name: node.bridge })
    addresses.push({ netns: node.netns, dev: nic, cidr: `${node.address}/24` })
    addresses.push({ netns: node.netns, dev: node.bridge, cidr: `${node.bridgeAddress}/${parseCidr(node.podCIDR)!.prefix}` })
    for (const other of nodes) if (other !== node) routes.push({ netns: node.netns, dst: other.podCIDR, via: other.address })
    routes.push({ netns: node.netns, dst: 'default', via: extAddress })
    routes.push({ netns: extNetns, dst: node.podCIDR, via: node.address })
    const set = (key: string, value: string): void => void sysctls.push({ netns: node.netns, key, value })
    set('net.ipv4.ip_forward', '1')
    set('net.bridge.bridge-nf-call-iptables', '1')
    // REJECT answers are ICMP errors; the default per-host rate limit makes a burst of them slow (gotcha 5).
    set('net.ipv4.icmp_ratelimit', '0')
    // ... and the namespace-wide ICMP budget (1000/s, burst 50) would still throttle a burst of probes.
    set('net.ipv4.icmp_msgs_per_sec', '100000')
    set('net.ipv4.icmp_msgs_burst', '10000')
    // What many CNIs do; otherwise NodePort traffic forwarded out its arrival NIC sends redirects (gotcha 7).
    set('net.ipv4.conf.all.send_redirects', '0')
    if (opts.localhostNodePorts) set('net.ipv4.conf.all.route_localnet', '1')
  })
  pods.forEach((pod, j) => {
    const net = planPodNetwork(p, nodes.find((n) => n.name === pod.node)!, pod, j)
    links.push(...net.links)
    addresses.push(...net.addresses)
    routes.push(...net.routes)
    sysctls.push(...net.sysctls)
  })
  const processes: ProcessPlan[] = pods
    .filter((pod) => pod.ports.some((x) => x.protocol !== 'sctp'))
    .map((pod) => ({ kind: 'pod-server', netns: pod.netns, pod: pod.key, ports: pod.ports.filter((x) => x.protocol !== 'sctp') }))

  const namespaces = [lanNetns, extNetns, ...nodes.map((n) => n.netns), ...pods.map((x) => x.netns)]
  const duplicate = namespaces.find((n, i) => namespaces.indexOf(n) !== i)
  if (duplicate !== undefined) throw new UsageError(`two lab objects map to the namespace ${duplicate}`)
  return { prefix: p, lanNetns, lanBridge, lanCIDR: lan.cidr, external, nodes, pods, namespaces, links, addresses, routes, routingRules, sysctls, processes, skipped }
}

export interface PodNetworkPlan {
  readonly links: readonly LinkPlan[]
  readonly addresses: readonly AddressPlan[]
  readonly routes: readonly RoutePlan[]
  readonly sysctls: readonly SysctlPlan[]
}

/**
 * One pod's network (what a CNI bridge plugin's ADD does): a veth from the pod's namespace into
 * its node's bridge, hairpin on (gotcha 2), the pod address on the node's pod CIDR prefix and a
 * default route via the bridge. `index` makes the interface names unique within the lab.
 */
export function planPodNetwork(prefix: string, node: LabNode, pod: Pick<LabPod, 'netns' | 'address'>, index: number): PodNetworkPlan {
  const dev = `${prefix}-p${index}`
  return {
    links: [{ kind: 'veth', netns: pod.netns, name: dev, peerNetns: node.netns, peerName: `${prefix}-v${index}`, peerMaster: node.bridge, peerHairpin: true }],
    addresses: [{ netns: pod.netns, dev, cidr: `${pod.address}/${parseCidr(node.podCIDR)!.prefix}` }],
    routes: [{ netns: pod.netns, dst: 'default', via: node.bridgeAddress }],
    // A closed UDP port answers with ICMP port unreachable: unthrottled, like the nodes' REJECTs.
    sysctls: [
      { netns: pod.netns, key: 'net.ipv4.icmp_ratelimit', value: '0' },
      { netns: pod.netns, key: 'net.ipv4.icmp_msgs_per_sec', value: '100000' },
      { netns: pod.netns, key: 'net.ipv4.icmp_msgs_burst', value: '10000' },
    ],
  }
}

function isInCidr(cidr: string, ip: IPAddress): boolean {
  const c = parseCidr(cidr)
  return c !== undefined && cidrContains(c, ip)
}

/** The address that `--dst-type LOCAL` and MASQUERADE would use on the node's side of a pod. */
export function nodeOfPod(plan: LabPlan, podKey: string): LabNode | undefined {
  const pod = plan.pods.find((x) => x.key === podKey)
  return pod ? plan.nodes.find((n) => n.name === pod.node) : undefined
}
