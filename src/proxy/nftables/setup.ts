/**
 * The fixed part of the kube-proxy table (upstream setupNFTables at 531be812): base chains,
 * the jumps into the regular chains, masquerading, the cluster-ips guard, no-endpoint handling,
 * LoadBalancerSourceRanges dispatch and service dispatch. Writes into a builder; no text.
 */
import { cidrContains, ipFamily, isLoopback, parseCidr, type ChainName, type Cidr, type IPAddress } from '../../net/index.js'
import type { ProxierConfig } from '../model/index.js'
import type { NftRulesetBuilder } from './ruleset-builder.js'
import type { NftBaseChainSpec, NftDataType, NftMatch } from './types.js'
import {
  clusterIPsCheckChain,
  clusterIPsSet,
  filterForwardChain,
  filterInputChain,
  filterOutputChain,
  filterOutputPreDNATChain,
  filterPreroutingPreDNATChain,
  firewallCheckChain,
  firewallIPsMap,
  markMasqChain,
  masqueradingChain,
  natOutputChain,
  natPostroutingChain,
  natPreroutingChain,
  noEndpointNodePortsMap,
  noEndpointServicesMap,
  nodePortEndpointsCheckChain,
  nodePortIPsSet,
  rejectChain,
  serviceEndpointsCheckChain,
  serviceIPsMap,
  serviceNodePortsMap,
  servicesChain,
} from './names.js'
import { addrInSet, addrIs, addrProtoPortVmap, ctStateNew, jump, nftRule, protoPortVmap } from './rule-parts.js'
import { nodeOrigin } from './nft-origin.js'

const fixed = nodeOrigin('fixed rule')
const markBit = nodeOrigin('KubeProxyConfiguration nftables.masqueradeBit')
const nodePorts = nodeOrigin('KubeProxyConfiguration nodePortAddresses')

/** knftables' named priorities as numbers: dstnat -100, dstnat-10 -110, filter 0, srcnat 100. */
const baseChains: readonly (readonly [ChainName, NftBaseChainSpec])[] = [
  [filterPreroutingPreDNATChain, { type: 'filter', hook: 'prerouting', priority: -110 }],
  [filterOutputPreDNATChain, { type: 'filter', hook: 'output', priority: -110 }],
  [filterInputChain, { type: 'filter', hook: 'input', priority: 0 }],
  [filterForwardChain, { type: 'filter', hook: 'forward', priority: 0 }],
  [filterOutputChain, { type: 'filter', hook: 'output', priority: 0 }],
  [natPreroutingChain, { type: 'nat', hook: 'prerouting', priority: -100 }],
  [natOutputChain, { type: 'nat', hook: 'output', priority: -100 }],
  [natPostroutingChain, { type: 'nat', hook: 'postrouting', priority: 100 }],
]

/** [destination, source, ct state new?] in upstream's nftablesJumpChains order. */
const jumpChains: readonly (readonly [ChainName, ChainName, boolean])[] = [
  [nodePortEndpointsCheckChain, filterInputChain, true],
  [serviceEndpointsCheckChain, filterInputChain, true],
  [serviceEndpointsCheckChain, filterForwardChain, true],
  [serviceEndpointsCheckChain, filterOutputChain, true],
  [firewallCheckChain, filterPreroutingPreDNATChain, true],
  [firewallCheckChain, filterOutputPreDNATChain, true],
  [servicesChain, natOutputChain, false],
  [servicesChain, natPreroutingChain, false],
  [masqueradingChain, natPostroutingChain, false],
  [clusterIPsCheckChain, filterForwardChain, true],
  [clusterIPsCheckChain, filterOutputChain, true],
]

export function addrType(config: ProxierConfig): NftDataType {
  return config.ipFamily === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr'
}

/** nodePortAddresses empty means every local address (upstream NodePortAddresses.MatchAll). */
export function nodePortsMatchAll(config: ProxierConfig): boolean {
  return config.nodePortAddresses.length === 0
}

/** The ServiceCIDRs of this proxier's family, in the order given. */
export function serviceCIDRsOfFamily(config: ProxierConfig, serviceCIDRs: readonly Cidr[]): Cidr[] {
  return serviceCIDRs.flatMap((c) => {
    const p = parseCidr(c)
    return p && p.family === config.ipFamily ? [p.cidr] : []
  })
}

/** Node addresses inside nodePortAddresses, loopback excluded (never supported in this mode). */
export function nodePortIPs(config: ProxierConfig): IPAddress[] {
  const cidrs = config.nodePortAddresses.flatMap((c) => parseCidr(c) ?? [])
  const out: IPAddress[] = []
  for (const ip of config.interfaceAddresses) {
    if (ipFamily(ip) !== config.ipFamily || isLoopback(ip) || out.includes(ip)) continue
    if (cidrs.some((c) => cidrContains(c, ip))) out.push(ip)
  }
  return out
}

export function writeSetup(out: NftRulesetBuilder, config: ProxierConfig, serviceCIDRs: readonly Cidr[]): void {
  const addr = addrType(config)
  const noLocalhost: NftMatch = addrIs('daddr', config.ipFamily === 'IPv4' ? '127.0.0.0/8' : '::1', true)
  const matchAll = nodePortsMatchAll(config)
  const mark = config.masqueradeMark

  for (const [name, base] of baseChains) out.chain(name, { base })
  for (const [dst] of jumpChains) out.chain(dst)
  for (const c of [servicesChain, clusterIPsCheckChain, masqueradingChain, markMasqChain]) out.chain(c)
  out.chain(rejectChain, { comment: 'helper for @no-endpoint-services / @no-endpoint-nodeports' })
  for (const [dst, src, isNew] of jumpChains) out.rule(src, nftRule({ matches: isNew ? [ctStateNew] : [], verdict: jump(dst) }), fixed)

  out.rule(markMasqChain, nftRule({ statements: [{ kind: 'mark-set', op: 'or', value: mark }] }), markBit)
  out.rule(masqueradingChain, nftRule({ matches: [{ kind: 'mark-clear', mask: mark }], verdict: { kind: 'return' } }), markBit)
  // Clear the mark so a packet that re-enters the stack is not masqueraded twice.
  out.rule(masqueradingChain, nftRule({ statements: [{ kind: 'mark-set', op: 'xor', value: mark }] }), markBit)
  out.rule(masqueradingChain, nftRule({ statements: [{ kind: 'masquerade', fullyRandom: true }] }), fixed)

  out.set({ name: clusterIPsSet, type: [addr], comment: 'Active ClusterIPs' })
  out.rule(clusterIPsCheckChain, nftRule({ matches: [addrInSet('daddr', clusterIPsSet)], verdict: { kind: 'reject' }, comment: 'Reject traffic to invalid ports of ClusterIPs' }), fixed)
  const cidrs = serviceCIDRsOfFamily(config, serviceCIDRs)
  if (cidrs.length > 0) {
    out.rule(clusterIPsCheckChain, nftRule({
      matches: [{ kind: 'addr', side: 'daddr', value: { kind: 'anonymous-set', items: cidrs, compact: true } }],
      verdict: { kind: 'drop' },
      comment: 'Drop traffic to unallocated ClusterIPs',
    }), nodeOrigin(`ServiceCIDR spec.cidrs (${cidrs.join(', ')})`))
  }

  // Upstream adds and then deletes nodeport-ips when every address accepts NodePorts; a fresh table never has it.
  if (!matchAll) {
    out.set({ name: nodePortIPsSet, type: [addr], comment: 'IPs that accept NodePort traffic' })
    for (const ip of nodePortIPs(config)) out.setElement(nodePortIPsSet, { key: [{ kind: 'address', address: ip }] }, nodePorts)
  }

  out.map({ name: noEndpointServicesMap, keyType: [addr, 'inet_proto', 'inet_service'], comment: 'vmap to drop or reject packets to services with no endpoints' })
  out.map({ name: noEndpointNodePortsMap, keyType: ['inet_proto', 'inet_service'], comment: 'vmap to drop or reject packets to service nodeports with no endpoints' })
  out.rule(rejectChain, nftRule({ verdict: { kind: 'reject' } }), fixed)
  out.rule(serviceEndpointsCheckChain, nftRule({ verdict: addrProtoPortVmap(noEndpointServicesMap) }), fixed)
  out.rule(nodePortEndpointsCheckChain, nftRule({
    matches: matchAll ? [noLocalhost] : [addrInSet('daddr', nodePortIPsSet)],
    verdict: protoPortVmap(noEndpointNodePortsMap),
  }), nodePorts)

  out.map({ name: firewallIPsMap, keyType: [addr, 'inet_proto', 'inet_service'], comment: 'destinations that are subject to LoadBalancerSourceRanges' })
  out.rule(firewallCheckChain, nftRule({ verdict: addrProtoPortVmap(firewallIPsMap) }), fixed)

  out.map({ name: serviceIPsMap, keyType: [addr, 'inet_proto', 'inet_service'], comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic' })
  out.map({ name: serviceNodePortsMap, keyType: ['inet_proto', 'inet_service'], comment: 'NodePort traffic' })
  out.rule(servicesChain, nftRule({ verdict: addrProtoPortVmap(serviceIPsMap) }), fixed)
  out.rule(servicesChain, nftRule({
    matches: matchAll ? [{ kind: 'fib-local', side: 'daddr' }, noLocalhost] : [addrInSet('daddr', nodePortIPsSet)],
    verdict: protoPortVmap(serviceNodePortsMap),
  }), nodePorts)
}
