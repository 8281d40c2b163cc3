/**
 * What makes one node's rules for a service port differ from another's, for builders that
 * share work between nodes (either mode): the node's settled config and zone (its class), its
 * own endpoints under a Local policy, its name in node hints, and its IP in a source range.
 * Pure; computed once per cluster model.
 */
import { cidrTextContains } from '../../net/index.js'
import type { EndpointInfo } from './endpoint.js'
import { nodeZone, type ProxierConfig } from './proxier-config.js'
import type { ProxyState } from './proxy-state.js'
import { servicePortKey, usesClusterEndpoints, usesLocalEndpoints, type ServicePortInfo } from './service-port.js'

/**
 * A node name that no node has and no hint names: a class's common rules are those of such a
 * node. (Node and hint names are DNS subdomains, which cannot hold a NUL.)
 */
export const noNodeName = '\u0000kpe-no-node'

const noEndpoints: readonly EndpointInfo[] = []

export class NodeLocality {
  readonly ports: readonly ServicePortInfo[]
  /** Per port: its endpoints as the model gave them (the identity that says "unchanged"). */
  readonly modelEndpoints: readonly (readonly EndpointInfo[])[]
  /** Per port: its endpoints with isLocal false, as for a node that has none of them. */
  readonly endpoints: readonly (readonly EndpointInfo[])[]
  /** Per port: whether zone hints may pick its endpoints (its rules then differ between zones). */
  readonly zoneSensitive: readonly boolean[]
  readonly endpointCount: number
  /** Node name -> ports whose rules may differ on that node (local endpoints, node hints). */
  readonly #portsByNode = new Map<string, number[]>()
  /** Ports with loadBalancerSourceRanges and VIPs: a range holding the node IP adds rules. */
  readonly #firewallPorts: number[] = []

  constructor(state: ProxyState) {
    this.ports = state.servicePorts
    this.modelEndpoints = this.ports.map((sp) => state.endpoints.get(servicePortKey(sp.name)) ?? noEndpoints)
    let count = 0
    const zoneSensitive: boolean[] = []
    this.endpoints = this.modelEndpoints.map((eps, i) => {
      const sp = this.ports[i]!
      count += eps.length
      this.#index(sp, eps, i)
      zoneSensitive.push(usesClusterEndpoints(sp) && eps.some((e) => e.zoneHints !== undefined))
      return eps.some((e) => e.isLocal) ? eps.map((e) => (e.isLocal ? { ...e, isLocal: false } : e)) : eps
    })
    this.zoneSensitive = zoneSensitive
    this.endpointCount = count
  }

  #index(sp: ServicePortInfo, eps: readonly EndpointInfo[], i: number): void {
    const depends = new Set<string>()
    if (usesLocalEndpoints(sp)) for (const e of eps) if (e.nodeName !== undefined) depends.add(e.nodeName)
    if (usesClusterEndpoints(sp)) for (const e of eps) for (const n of e.nodeHints ?? []) depends.add(n)
    for (const n of depends) {
      const list = this.#portsByNode.get(n)
      if (list === undefined) this.#portsByNode.set(n, [i])
      else list.push(i)
    }
    if (sp.loadBalancerSourceRanges.length > 0 && sp.loadBalancerVIPs.length > 0) this.#firewallPorts.push(i)
  }

  /**
   * Ports whose rules on this node may differ from its class's, ascending. `anyRange` counts
   * every firewall port when the node has an IP (for a builder whose range check is its own).
   */
  deviatingPorts(config: ProxierConfig, opts: { anyRange?: boolean } = {}): number[] {
    const set = new Set(this.#portsByNode.get(config.nodeName))
    const nodeIP = config.nodeIP
    if (nodeIP !== undefined) {
      for (const i of this.#firewallPorts) {
        if (opts.anyRange || this.ports[i]!.loadBalancerSourceRanges.some((r) => cidrTextContains(r, nodeIP))) set.add(i)
      }
    }
    return [...set].sort((a, b) => a - b)
  }

  /** The model as the proxier of `nodeName` holds it, for a node built alone. */
  nodeState(nodeName: string): ProxyState {
    const endpoints = new Map<string, readonly EndpointInfo[]>()
    this.ports.forEach((sp, i) => endpoints.set(servicePortKey(sp.name), this.nodeEndpoints(i, nodeName)))
    return { servicePorts: this.ports, endpoints }
  }

  /** A port's endpoints as the proxier of `nodeName` models them (buildEndpointsMap's isLocal). */
  nodeEndpoints(i: number, nodeName: string): readonly EndpointInfo[] {
    return this.endpoints[i]!.map((e) => (e.nodeName !== undefined && e.nodeName === nodeName ? { ...e, isLocal: true } : e))
  }
}

/**
 * The settled config without what only the node-dependent ports and the node-wide rules read
 * (node name and IP, addresses, NodePort addresses, Service CIDRs), plus the zone: nodes with
 * equal keys build every service port alike. A field added to ProxierConfig joins the key.
 */
export function nodeClassKey(config: ProxierConfig): string {
  const { nodeName: _n, nodeIP: _ip, interfaceAddresses: _a, nodePortAddresses: _npa, topologyLabels: _l, serviceCIDRs: _s, ...rest } = config
  return JSON.stringify([rest, nodeZone(config) ?? null])
}

/** The config a class builds its common rules with: no node's name or IP. */
export function nodeClassConfig(config: ProxierConfig): ProxierConfig {
  return { ...config, nodeName: noNodeName, nodeIP: undefined }
}

export interface ClassCacheKeys {
  readonly zoned: string
  readonly zoneFree: string
}

interface KeptPortValue<T> {
  readonly endpoints: readonly EndpointInfo[]
  /** What else the value was built from (iptables: largeClusterMode). */
  readonly variant: string
  readonly value: T
}

/**
 * A service port's value built for a class (its rules or rendered part), kept while its inputs
 * are the same objects: across zone classes for ports zone hints cannot touch, and from the
 * previous cluster model for unchanged ports (IncrementalProxyState keeps them identical).
 */
export class ClassPortCache<T> {
  readonly #kept = new Map<string, Map<ServicePortInfo, KeptPortValue<T>>>()
  readonly #previous: ReadonlyMap<string, ReadonlyMap<ServicePortInfo, KeptPortValue<T>>> | undefined

  constructor(previous?: ClassPortCache<T>) {
    this.#previous = previous === undefined ? undefined : previous.#kept
  }

  /** The keys `get` files a class's values under: with and without the zone. */
  static keys(config: ProxierConfig): ClassCacheKeys {
    return { zoned: nodeClassKey(config), zoneFree: nodeClassKey({ ...config, topologyLabels: {} }) }
  }

  /**
   * Port i's value in the class whose keys are given, from `build` unless kept. The zone-free
   * key serves when zone hints cannot pick the port's endpoints.
   */
  get(locality: NodeLocality, i: number, keys: ClassCacheKeys, variant: string, build: () => T): T {
    const cacheKey = locality.zoneSensitive[i] ? keys.zoned : keys.zoneFree
    let kept = this.#kept.get(cacheKey)
    if (kept === undefined) this.#kept.set(cacheKey, (kept = new Map()))
    const sp = locality.ports[i]!
    const endpoints = locality.modelEndpoints[i]!
    const hit = kept.get(sp) ?? this.#previous?.get(cacheKey)?.get(sp)
    if (hit !== undefined && hit.endpoints === endpoints && hit.variant === variant) {
      kept.set(sp, hit)
      return hit.value
    }
    const value = build()
    kept.set(sp, { endpoints, variant, value })
    return value
  }
}
