/**
 * kube-proxy's fixed chain names and its per-service chain names (upstream
 * pkg/proxy/iptables/proxier.go: servicePortPolicyClusterChain and friends).
 */
import { chainHash, chainName, type ChainName, type L4Proto } from '../../net/index.js'

// Upstream's fixed iptables chain names. Shaped like nftables/names.ts's table, but the two modes
// name different objects: a constant table, not a shared mechanism.

export const kubeServicesChain = chainName('KUBE-SERVICES')
export const kubeExternalServicesChain = chainName('KUBE-EXTERNAL-SERVICES')
export const kubeNodePortsChain = chainName('KUBE-NODEPORTS')
export const kubePostroutingChain = chainName('KUBE-POSTROUTING')
export const kubeMarkMasqChain = chainName('KUBE-MARK-MASQ')
export const kubeForwardChain = chainName('KUBE-FORWARD')
export const kubeProxyFirewallChain = chainName('KUBE-PROXY-FIREWALL')
export const kubeletFirewallChain = chainName('KUBE-FIREWALL')
export const kubeProxyCanaryChain = chainName('KUBE-PROXY-CANARY')

export const servicePortPolicyClusterChainPrefix = 'KUBE-SVC-'
export const servicePortPolicyLocalChainPrefix = 'KUBE-SVL-'
export const serviceFirewallChainPrefix = 'KUBE-FW-'
export const serviceExternalChainPrefix = 'KUBE-EXT-'
export const servicePortEndpointChainPrefix = 'KUBE-SEP-'

/** Prefixes of the chains kube-proxy owns per service and deletes when stale. */
export const serviceChainPrefixes = [
  servicePortPolicyClusterChainPrefix,
  servicePortPolicyLocalChainPrefix,
  servicePortEndpointChainPrefix,
  serviceFirewallChainPrefix,
  serviceExternalChainPrefix,
] as const

export function isServiceChain(name: string): boolean {
  return serviceChainPrefixes.some((p) => name.startsWith(p))
}

export function servicePortPolicyClusterChain(servicePortName: string, proto: L4Proto): ChainName {
  return chainName(chainHash(servicePortName + proto, servicePortPolicyClusterChainPrefix))
}
export function servicePortPolicyLocalChainName(servicePortName: string, proto: L4Proto): ChainName {
  return chainName(chainHash(servicePortName + proto, servicePortPolicyLocalChainPrefix))
}
export function serviceFirewallChainName(servicePortName: string, proto: L4Proto): ChainName {
  return chainName(chainHash(servicePortName + proto, serviceFirewallChainPrefix))
}
export function serviceExternalChainName(servicePortName: string, proto: L4Proto): ChainName {
  return chainName(chainHash(servicePortName + proto, serviceExternalChainPrefix))
}
/** hash(name string + protocol + endpoint string), e.g. "ns1/svc1:p80tcp10.180.0.1:80". */
export function servicePortEndpointChainName(servicePortName: string, proto: L4Proto, endpoint: string): ChainName {
  return chainName(chainHash(servicePortName + proto + endpoint, servicePortEndpointChainPrefix))
}

/**
 * Upstream's chain order for restore text, as its tests normalize it: KUBE-NODEPORTS,
 * KUBE-SERVICES, other KUBE-* chains by byte order, then everything else by byte order.
 */
export function compareChainNames(a: string, b: string): number {
  const rank = (n: string): number => (n === 'KUBE-NODEPORTS' ? 0 : n === 'KUBE-SERVICES' ? 1 : n.startsWith('KUBE-') ? 2 : 3)
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  return a < b ? -1 : a > b ? 1 : 0
}

/** compareChainNames' order, computed by grouping then the engine's native string sort (much faster on 100k chains). */
export function sortChainNames<T extends string>(names: readonly T[]): T[] {
  const head: T[] = []
  const kube: T[] = []
  const rest: T[] = []
  for (const n of names) {
    if (n === 'KUBE-NODEPORTS' || n === 'KUBE-SERVICES') head.push(n)
    else (n.startsWith('KUBE-') ? kube : rest).push(n)
  }
  return [...head.sort(compareChainNames), ...kube.sort(), ...rest.sort()]
}
