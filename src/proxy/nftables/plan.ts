/**
 * The nftables view of one service port: upstream's mode-independent decisions from
 * planTraffic (src/proxy/model/traffic-plan.ts), with nftables chain names and verdicts.
 * Decide first, emit second: nothing here writes rules.
 */
import type { ChainName, L4Proto } from '../../net/index.js'
import { planTraffic, type EndpointInfo, type ProxierConfig, type ServicePortInfo, type TrafficPlan } from '../model/index.js'
import { endpointNames, rejectChain, servicePortChainNames, type EndpointNames, type ServicePortChainNames } from './names.js'
import type { NftElementVerdict } from './types.js'

export interface NftEndpoint {
  readonly endpoint: EndpointInfo
  readonly names: EndpointNames
}

export interface NftServicePortPlan {
  /** The booleans and endpoint lists shared with iptables mode. */
  readonly common: TrafficPlan
  readonly sp: ServicePortInfo
  readonly proto: L4Proto
  readonly names: ServicePortChainNames
  /** Endpoints that get endpoint chains (and affinity sets), sorted by endpoint string. */
  readonly reachable: readonly NftEndpoint[]
  readonly clusterEndpoints: readonly NftEndpoint[]
  readonly localEndpoints: readonly NftEndpoint[]
  readonly internalTrafficChain: ChainName
  readonly externalPolicyChain: ChainName
  /**
   * Upstream's nftables proxier creates the firewall chain whenever there are LB VIPs and
   * source ranges, endpoints or not (iptables mode also requires endpoints).
   */
  readonly usesFWChain: boolean
  /** no-endpoint-* verdicts; undefined when that traffic has endpoints. */
  readonly internalTrafficFilterVerdict: NftElementVerdict | undefined
  readonly externalTrafficFilterVerdict: NftElementVerdict | undefined
}

export function planNftServicePort(sp: ServicePortInfo, endpoints: readonly EndpointInfo[], config: ProxierConfig): NftServicePortPlan {
  const common = planTraffic(sp, endpoints, config)
  const proto = common.proto
  const names = servicePortChainNames(sp.name, proto)
  const byEndpoint = new Map<string, NftEndpoint>()
  const nft = (e: EndpointInfo): NftEndpoint => {
    let v = byEndpoint.get(e.endpoint)
    if (!v) byEndpoint.set(e.endpoint, (v = { endpoint: e, names: endpointNames(sp.name, proto, e.ip, e.port) }))
    return v
  }
  const reject: NftElementVerdict = { kind: 'goto', chain: rejectChain }
  const drop: NftElementVerdict = { kind: 'drop' }
  return {
    common,
    sp,
    proto,
    names,
    reachable: common.reachableEndpoints.map(nft),
    clusterEndpoints: common.clusterEndpoints.map(nft),
    localEndpoints: common.localEndpoints.map(nft),
    internalTrafficChain: sp.internalPolicyLocal ? names.localPolicyChain : names.clusterPolicyChain,
    externalPolicyChain: sp.externalPolicyLocal ? names.localPolicyChain : names.clusterPolicyChain,
    usesFWChain: sp.loadBalancerVIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0,
    internalTrafficFilterVerdict: !common.hasEndpoints ? reject : common.hasInternalEndpoints ? undefined : drop,
    externalTrafficFilterVerdict: !common.hasEndpoints ? reject : common.hasExternalEndpoints ? undefined : drop,
  }
}
