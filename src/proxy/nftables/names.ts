/**
 * nftables object names (upstream pkg/proxy/nftables/proxier.go): the fixed chains, sets and
 * maps of the kube-proxy table, and the per-service-port names `<prefix><H8>-ns/name/proto/port`.
 * Pure string functions; nothing here builds rules.
 */
import { chainHash8, chainName, type ChainName, type L4Proto } from '../../net/index.js'
import type { ServicePortName } from '../model/index.js'

export const kubeProxyTable = 'kube-proxy'

// Upstream's fixed nftables object names: a constant table like iptables/chains.ts, not a shared mechanism.
export const filterPreroutingPreDNATChain = chainName('filter-prerouting-pre-dnat')
export const filterOutputPreDNATChain = chainName('filter-output-pre-dnat')
export const filterInputChain = chainName('filter-input')
export const filterForwardChain = chainName('filter-forward')
export const filterOutputChain = chainName('filter-output')
export const natPreroutingChain = chainName('nat-prerouting')
export const natOutputChain = chainName('nat-output')
export const natPostroutingChain = chainName('nat-postrouting')

export const servicesChain = chainName('services')
export const serviceEndpointsCheckChain = chainName('service-endpoints-check')
export const nodePortEndpointsCheckChain = chainName('nodeport-endpoints-check')
export const firewallCheckChain = chainName('firewall-check')
export const clusterIPsCheckChain = chainName('cluster-ips-check')
export const rejectChain = chainName('reject-chain')
export const markMasqChain = chainName('mark-for-masquerade')
export const masqueradingChain = chainName('masquerading')

export const clusterIPsSet = 'cluster-ips'
export const nodePortIPsSet = 'nodeport-ips'
export const serviceIPsMap = 'service-ips'
export const serviceNodePortsMap = 'service-nodeports'
export const firewallIPsMap = 'firewall-ips'
export const noEndpointServicesMap = 'no-endpoint-services'
export const noEndpointNodePortsMap = 'no-endpoint-nodeports'

export const servicePortPolicyClusterChainNamePrefix = 'service-'
export const servicePortPolicyLocalChainNamePrefix = 'local-'
export const serviceExternalChainNamePrefix = 'external-'
export const servicePortFirewallChainNamePrefix = 'firewall-'
export const servicePortEndpointChainNamePrefix = 'endpoint-'
export const servicePortEndpointAffinityNamePrefix = 'affinity-'

/** knftables.NameLengthMax (256) minus the longest prefix allowance (16). */
const chainNameBaseLengthMax = 256 - 16

/** `H8-name`, cut to 237 characters plus `...` when longer than 240 (upstream hashAndTruncate). */
export function hashAndTruncate(name: string): string {
  const full = `${chainHash8(name)}-${name}`
  return full.length > chainNameBaseLengthMax ? `${full.slice(0, chainNameBaseLengthMax - 3)}...` : full
}

/** `H8-ns/name/proto/port`, e.g. `ULMVA6XW-ns1/svc1/tcp/p80`. */
export function servicePortChainNameBase(n: ServicePortName, proto: L4Proto): string {
  return hashAndTruncate(`${n.namespace}/${n.name}/${proto}/${n.port}`)
}

/** `H8-ns/name/proto/port__ip/port`; IPv6 colons become dots, e.g. `…__fd00.10.244..2/8080`. */
export function servicePortEndpointChainNameBase(n: ServicePortName, proto: L4Proto, ip: string, port: number): string {
  return hashAndTruncate(`${n.namespace}/${n.name}/${proto}/${n.port}__${ip.replaceAll(':', '.')}/${port}`)
}

export interface ServicePortChainNames {
  readonly clusterPolicyChain: ChainName
  readonly localPolicyChain: ChainName
  readonly externalChain: ChainName
  readonly firewallChain: ChainName
}

export function servicePortChainNames(n: ServicePortName, proto: L4Proto): ServicePortChainNames {
  const base = servicePortChainNameBase(n, proto)
  return {
    clusterPolicyChain: chainName(servicePortPolicyClusterChainNamePrefix + base),
    localPolicyChain: chainName(servicePortPolicyLocalChainNamePrefix + base),
    externalChain: chainName(serviceExternalChainNamePrefix + base),
    firewallChain: chainName(servicePortFirewallChainNamePrefix + base),
  }
}

export interface EndpointNames {
  readonly chain: ChainName
  readonly affinitySet: string
}

export function endpointNames(n: ServicePortName, proto: L4Proto, ip: string, port: number): EndpointNames {
  const base = servicePortEndpointChainNameBase(n, proto, ip, port)
  return { chain: chainName(servicePortEndpointChainNamePrefix + base), affinitySet: servicePortEndpointAffinityNamePrefix + base }
}

/** Service and endpoint chains always hold a `/`; fixed chains never do (upstream isServiceChainName). */
export function isServiceChainName(name: string): boolean {
  return name.includes('/')
}
