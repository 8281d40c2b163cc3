/**
 * The settled inputs of one proxier (one node, one IP family): what upstream's NewProxier
 * derives from KubeProxyConfiguration, the Node and the host. Resolution is pure; facts about
 * the host (nfacct, --random-fully, sysctls) come in as explicit values.
 */
import type { KubeProxyConfiguration, Node } from '../../api/index.js'
import { zoneLabel } from '../../api/index.js'
import { InputError } from '../../errors.js'
import { ipFamily, parseCidr, parseIPSloppy, type Cidr, type IPAddress, type IPFamily, type MarkValue } from '../../net/index.js'

export type LocalDetector =
  | { readonly kind: 'cidr'; readonly cidrs: readonly Cidr[] }
  | { readonly kind: 'bridge-interface'; readonly name: string }
  | { readonly kind: 'interface-name-prefix'; readonly prefix: string }
  | { readonly kind: 'none' }

export interface HostFacts {
  /** iptables >= 1.6.2 accepts MASQUERADE --random-fully. */
  readonly iptablesSupportsRandomFully: boolean
  /** net.netfilter.nf_conntrack_tcp_be_liberal != 0 removes the INVALID drop rule. */
  readonly conntrackTCPBeLiberal: boolean
  readonly nfacctCounters: { readonly ctStateInvalidDroppedPkts: boolean; readonly localhostNodePortsAcceptedPkts: boolean }
}

export interface ProxierConfig {
  readonly ipFamily: IPFamily
  readonly nodeName: string
  /** The node IP used for the LoadBalancerSourceRanges "allow from node" check. */
  readonly nodeIP: IPAddress | undefined
  /** Every local address (lo and interfaces): NodePort addresses come from these. */
  readonly interfaceAddresses: readonly IPAddress[]
  readonly topologyLabels: Readonly<Record<string, string>>
  readonly localDetector: LocalDetector
  readonly masqueradeAll: boolean
  readonly masqueradeMark: MarkValue
  /** Effective: IPv4 only, and only when nodePortAddresses include IPv4 loopback (or match all). */
  readonly localhostNodePorts: boolean
  /** CIDRs of this family; empty means every local address. */
  readonly nodePortAddresses: readonly Cidr[]
  readonly host: HostFacts
  readonly largeClusterEndpointsThreshold: number
  readonly preferSameTrafficDistribution: boolean
  /**
   * The cluster's Service CIDRs of this family (upstream OnServiceCIDRsChanged, fed by ServiceCIDR
   * objects): nftables mode drops traffic to addresses inside them that no Service holds.
   */
  readonly serviceCIDRs: readonly Cidr[]
}

/** What a real Linux node with current iptables has; nfacct counters are off so rules load anywhere. */
export const defaultHostFacts: HostFacts = {
  iptablesSupportsRandomFully: true,
  conntrackTCPBeLiberal: false,
  nfacctCounters: { ctStateInvalidDroppedPkts: false, localhostNodePortsAcceptedPkts: false },
}

/** Upstream formats the mark with Go's %#08x: 1<<14 prints as 0x00004000. */
export function masqueradeMarkFromBit(bit: number): MarkValue {
  return { value: 2 ** bit, digits: 8 }
}

export function parseMarkText(text: string): MarkValue | undefined {
  const m = /^0x([0-9a-fA-F]+)$/.exec(text)
  return m ? { value: Number.parseInt(m[1]!, 16), digits: m[1]!.length } : undefined
}

export interface ResolveInput {
  readonly config: KubeProxyConfiguration
  readonly ipFamily: IPFamily
  /** The node this proxier runs on; its addresses, pod CIDRs and zone label are read. */
  readonly node: Node | undefined
  readonly nodeName: string
  readonly host?: HostFacts
  /** Extra local addresses (lo is always added). */
  readonly extraInterfaceAddresses?: readonly IPAddress[]
  /** ServiceCIDR objects' spec.cidrs, either family (the other family is dropped here). */
  readonly serviceCIDRs?: readonly string[]
}

export function nodeIPs(node: Node | undefined): IPAddress[] {
  const addrs = node?.status?.addresses ?? []
  const pick = (type: string): IPAddress[] => addrs.filter((a) => a.type === type).flatMap((a) => parseIPSloppy(a.address) ?? [])
  return [...pick('InternalIP'), ...pick('ExternalIP')]
}

export function resolveProxierConfig(input: ResolveInput): ProxierConfig {
  const cfg = input.config
  const family = input.ipFamily
  const nftables = cfg.mode === 'nftables'
  const ips = nodeIPs(input.node)
  const loopback = (family === 'IPv4' ? '127.0.0.1' : '::1') as IPAddress
  const interfaceAddresses = [...new Set([loopback, ...ips, ...(input.extraInterfaceAddresses ?? [])])]
  // Since 1.31 an unset nodePortAddresses means the node's primary IPs in nftables mode (server.go).
  const npaAll = cfg.nodePortAddresses && cfg.nodePortAddresses.length > 0 ? cfg.nodePortAddresses : nftables ? ['primary'] : []
  const npaCidrs = npaAll[0] === 'primary'
    ? ips.filter((ip) => ipFamily(ip) === family).slice(0, 1).map((ip) => `${ip}/${family === 'IPv4' ? 32 : 128}` as Cidr)
    : cidrsOfFamily(npaAll, family)
  const matchAll = npaAll.length === 0
  const containsV4Loopback = npaCidrs.some((c) => c.startsWith('127.'))
  // nftables mode reads its own section and never serves NodePorts on localhost.
  const masq = nftables ? cfg.nftables : cfg.iptables
  const wantLocalhost = !nftables && (cfg.iptables?.localhostNodePorts ?? true)
  return {
    ipFamily: family,
    nodeName: input.nodeName,
    nodeIP: ips.find((ip) => ipFamily(ip) === family),
    interfaceAddresses,
    topologyLabels: input.node?.metadata.labels ?? {},
    localDetector: resolveLocalDetector(cfg, family, input.node),
    masqueradeAll: masq?.masqueradeAll ?? false,
    masqueradeMark: masqueradeMarkFromBit(masq?.masqueradeBit ?? 14),
    localhostNodePorts: family === 'IPv4' && wantLocalhost && (matchAll || containsV4Loopback),
    nodePortAddresses: matchAll ? [] : npaCidrs,
    host: input.host ?? defaultHostFacts,
    largeClusterEndpointsThreshold: 1000,
    preferSameTrafficDistribution: cfg.featureGates?.['PreferSameTrafficDistribution'] ?? true,
    serviceCIDRs: cidrsOfFamily(input.serviceCIDRs ?? [], family),
  }
}

/** The valid CIDRs of one family, in the order given (upstream keeps only its proxier's family). */
function cidrsOfFamily(list: readonly string[], family: IPFamily): Cidr[] {
  return list.flatMap((c) => {
    const p = parseCidr(c)
    return p && p.family === family ? [p.cidr] : []
  })
}

function resolveLocalDetector(cfg: KubeProxyConfiguration, family: IPFamily, node: Node | undefined): LocalDetector {
  const mode = cfg.detectLocalMode || 'ClusterCIDR'
  switch (mode) {
    case 'ClusterCIDR': {
      const cidrs = (cfg.clusterCIDR ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '').flatMap((c) => {
        const p = parseCidr(c)
        return p && p.family === family ? [p.cidr] : []
      })
      return cidrs.length > 0 ? { kind: 'cidr', cidrs: cidrs.slice(0, 1) } : { kind: 'none' }
    }
    case 'NodeCIDR': {
      const list = node?.spec?.podCIDRs ?? (node?.spec?.podCIDR ? [node.spec.podCIDR] : [])
      const cidrs = list.flatMap((c) => {
        const p = parseCidr(c)
        return p && p.family === family ? [p.cidr] : []
      })
      if (node === undefined) throw new InputError({ field: 'detectLocalMode' }, 'NodeCIDR needs the Node object of this node', { hint: 'add the Node to the manifests or use detectLocalMode: ClusterCIDR' })
      return cidrs.length > 0 ? { kind: 'cidr', cidrs: cidrs.slice(0, 1) } : { kind: 'none' }
    }
    case 'BridgeInterface':
      return { kind: 'bridge-interface', name: cfg.detectLocal?.bridgeInterface ?? '' }
    case 'InterfaceNamePrefix':
      return { kind: 'interface-name-prefix', prefix: cfg.detectLocal?.interfaceNamePrefix ?? '' }
  }
}

export function nodeZone(cfg: ProxierConfig): string | undefined {
  return cfg.topologyLabels[zoneLabel]
}

/** The families a clusterCIDR names, in order; IPv4 when it names none. */
export function clusterFamilies(clusterCIDR: string | undefined): IPFamily[] {
  const families = (clusterCIDR ?? '').split(',').map((c) => c.trim()).filter((c) => c !== '').map((c): IPFamily => (c.includes(':') ? 'IPv6' : 'IPv4'))
  return families.length > 0 ? families : ['IPv4']
}

/**
 * Values set directly instead of derived, as upstream's fake proxier does in its unit tests (the
 * golden vectors inject them). All optional: an unset field keeps the resolved value.
 */
export interface ProxierConfigOverrides {
  readonly nodeName?: string
  readonly ipFamily?: IPFamily
  readonly nodeIP?: IPAddress
  /** Replace the resolved local addresses when non-empty. */
  readonly interfaceAddresses?: readonly IPAddress[]
  readonly topologyLabels?: Readonly<Record<string, string>>
  readonly masqueradeMark?: MarkValue
  /** Wanted as given: only the IPv4-only rule still applies, not the nodePortAddresses one. */
  readonly localhostNodePorts?: boolean
  readonly host?: {
    readonly iptablesSupportsRandomFully?: boolean
    readonly conntrackTCPBeLiberal?: boolean
    readonly nfacctCounters?: { readonly ctStateInvalidDroppedPkts?: boolean; readonly localhostNodePortsAcceptedPkts?: boolean }
  }
  readonly largeClusterEndpointsThreshold?: number
  /** Replaces the ServiceCIDRs learnt from objects (the fake's serviceCIDRs value). */
  readonly serviceCIDRs?: readonly string[]
}

/** A resolved config with the injected values laid over it. */
export function applyProxierOverrides(config: ProxierConfig, o: ProxierConfigOverrides): ProxierConfig {
  const h = o.host ?? {}
  return {
    ...config,
    nodeIP: o.nodeIP ?? config.nodeIP,
    interfaceAddresses: o.interfaceAddresses && o.interfaceAddresses.length > 0 ? o.interfaceAddresses : config.interfaceAddresses,
    topologyLabels: o.topologyLabels ?? config.topologyLabels,
    masqueradeMark: o.masqueradeMark ?? config.masqueradeMark,
    localhostNodePorts: o.localhostNodePorts === undefined ? config.localhostNodePorts : config.ipFamily === 'IPv4' && o.localhostNodePorts,
    host: {
      iptablesSupportsRandomFully: h.iptablesSupportsRandomFully ?? config.host.iptablesSupportsRandomFully,
      conntrackTCPBeLiberal: h.conntrackTCPBeLiberal ?? config.host.conntrackTCPBeLiberal,
      nfacctCounters: {
        ctStateInvalidDroppedPkts: h.nfacctCounters?.ctStateInvalidDroppedPkts ?? config.host.nfacctCounters.ctStateInvalidDroppedPkts,
        localhostNodePortsAcceptedPkts: h.nfacctCounters?.localhostNodePortsAcceptedPkts ?? config.host.nfacctCounters.localhostNodePortsAcceptedPkts,
      },
    },
    largeClusterEndpointsThreshold: o.largeClusterEndpointsThreshold ?? config.largeClusterEndpointsThreshold,
    serviceCIDRs: o.serviceCIDRs ? cidrsOfFamily(o.serviceCIDRs, config.ipFamily) : config.serviceCIDRs,
  }
}
