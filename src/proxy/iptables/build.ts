/**
 * buildIptablesRules: (service ports, endpoints, node config) -> RuleTable, mirroring upstream
 * kube-proxy's iptables syncProxyRules (pkg/proxy/iptables/proxier.go) phase by phase. Pure:
 * no clock, no randomness, no I/O. Partial syncs are the same function with a changed-set.
 */
import { cidrContains, parseCidr, type ChainName, type IPAddress } from '../../net/index.js'
import type { EndpointInfo, LocalDetector, ProxierConfig, ProxyState, ServicePortInfo } from '../model/index.js'
import type { Match, Rule, RuleTable } from '../netfilter/index.js'
import {
  isServiceChain,
  kubeExternalServicesChain,
  kubeForwardChain,
  kubeletFirewallChain,
  kubeMarkMasqChain,
  kubeNodePortsChain,
  kubePostroutingChain,
  kubeProxyFirewallChain,
  kubeServicesChain,
} from './chains.js'
import { planServicePort, type ServicePortPlan } from './plan.js'
import { comment, dport, dst, dstTypeLocal, filterTarget, jump, protoMatch, rule, src, srcTypeLocal, verdict } from './rule-parts.js'
import { RuleTableBuilder } from './rule-table-builder.js'

export type SyncMode =
  | { readonly mode: 'full' }
  /** Only these namespaced names (`ns/name`) get their SVC/SVL/EXT/FW/SEP chains rewritten. */
  | { readonly mode: 'partial'; readonly changedServices: ReadonlySet<string> }

export interface IptablesBuildInput {
  readonly state: ProxyState
  readonly config: ProxierConfig
  readonly sync?: SyncMode
  /** nat chains that exist before this sync (iptables-save -t nat); stale service chains among them get -X. */
  readonly existingNatChains?: Iterable<ChainName>
  /** Large-cluster mode looks for stale chains only once per sync period; false skips the look. */
  readonly deleteStaleChains?: boolean
  /** When given, filled with the object and field behind each rule (`kpe rules --explain`). */
  readonly provenance?: Map<Rule, string>
}

const localhostNodePortsAcceptedPkts = 'localhost_nps_accepted_pkts'
const ctStateInvalidDroppedPkts = 'ct_state_invalid_dropped_pkts'

export function buildIptablesRules(input: IptablesBuildInput): RuleTable {
  const { state, config } = input
  const sync = input.sync ?? { mode: 'full' }
  const out = new RuleTableBuilder(config.ipFamily, input.provenance)
  const largeClusterMode = countEndpoints(state) > config.largeClusterEndpointsThreshold
  const existingNatChains = [...(input.existingNatChains ?? [])]
  // Only needed to find stale chains; skip the bookkeeping when there are none to check.
  const activeNatChains = existingNatChains.length > 0 && (input.deleteStaleChains ?? true) ? new Set<ChainName>() : undefined

  writeFixedChains(out, config)
  for (const sp of state.servicePorts) {
    const plan = planServicePort(sp, state.endpoints.get(`${sp.nameString}/${sp.protocol}`) ?? [], config)
    if (activeNatChains) noteActiveChains(plan, activeNatChains)
    writeCaptureRules(out, plan, config)
    const ns = `${sp.name.namespace}/${sp.name.name}`
    // Partial sync: unchanged services keep their kernel chains; only KUBE-SERVICES & co. are rewritten.
    if (sync.mode === 'partial' && !sync.changedServices.has(ns)) continue
    writeInternalTrafficRules(out, plan, config)
    writeExternalTrafficChain(out, plan, config.localDetector)
    writeFirewallChain(out, plan, config)
    if (plan.usesClusterPolicyChain) writeServiceToEndpointRules(out, plan, plan.clusterPolicyChain, plan.clusterEndpoints, largeClusterMode)
    if (plan.usesLocalPolicyChain) writeServiceToEndpointRules(out, plan, plan.localPolicyChain, plan.localEndpoints, largeClusterMode)
    writeEndpointChains(out, plan, largeClusterMode)
  }
  if (activeNatChains) {
    for (const chain of existingNatChains) {
      if (isServiceChain(chain) && !activeNatChains.has(chain)) out.nat.delete(chain)
    }
  }
  writeNodePortsTail(out, config)
  return out.finish()
}

function countEndpoints(state: ProxyState): number {
  let n = 0
  for (const sp of state.servicePorts) n += state.endpoints.get(`${sp.nameString}/${sp.protocol}`)?.length ?? 0
  return n
}

function noteActiveChains(plan: ServicePortPlan, active: Set<ChainName>): void {
  for (const { chain } of plan.endpointChains) active.add(chain)
  if (plan.usesClusterPolicyChain) active.add(plan.clusterPolicyChain)
  if (plan.usesLocalPolicyChain) active.add(plan.localPolicyChain)
  if (plan.usesExternalTrafficChain) active.add(plan.externalTrafficChain)
  if (plan.usesFWChain) active.add(plan.fwChain)
}

/** Fixed filter and nat chains and rules, written on every sync. */
function writeFixedChains(out: RuleTableBuilder, config: ProxierConfig): void {
  for (const c of [kubeServicesChain, kubeExternalServicesChain, kubeForwardChain, kubeNodePortsChain, kubeProxyFirewallChain]) out.filter.declare(c)
  for (const c of [kubeServicesChain, kubeNodePortsChain, kubePostroutingChain, kubeMarkMasqChain]) out.nat.declare(c)
  const mark = config.masqueradeMark
  const markWhy = 'KubeProxyConfiguration iptables.masqueradeBit'
  if (config.localhostNodePorts && config.ipFamily === 'IPv4') {
    out.filter.add(kubeletFirewallChain, rule([
      comment('block incoming localnet connections'),
      dst('127.0.0.0/8'),
      src('127.0.0.0/8', true),
      { kind: 'conntrack', states: ['RELATED', 'ESTABLISHED', 'DNAT'], negated: true },
    ], verdict('DROP')), 'KubeProxyConfiguration iptables.localhostNodePorts')
  }
  if (!config.host.conntrackTCPBeLiberal) {
    const invalid: Match[] = [{ kind: 'conntrack', states: ['INVALID'] }]
    if (config.host.nfacctCounters.ctStateInvalidDroppedPkts) invalid.push({ kind: 'nfacct', name: ctStateInvalidDroppedPkts })
    out.filter.add(kubeForwardChain, rule(invalid, verdict('DROP')), 'node sysctl net.netfilter.nf_conntrack_tcp_be_liberal = 0')
  }
  out.filter.add(kubeForwardChain, rule([comment('kubernetes forwarding rules'), { kind: 'mark', value: mark, mask: mark }], verdict('ACCEPT')), markWhy)
  out.filter.add(kubeForwardChain, rule([comment('kubernetes forwarding conntrack rule'), { kind: 'conntrack', states: ['RELATED', 'ESTABLISHED'] }], verdict('ACCEPT')), 'fixed rule')

  out.nat.add(kubePostroutingChain, rule([{ kind: 'mark', value: mark, mask: mark, negated: true }], verdict('RETURN')), markWhy)
  // Clear the mark so a packet that re-enters the stack (e.g. VXLAN) is not masqueraded twice.
  out.nat.add(kubePostroutingChain, rule([], { kind: 'mark', op: 'xor', value: mark }), markWhy)
  out.nat.add(kubePostroutingChain, rule([comment('kubernetes service traffic requiring SNAT')],
    config.host.iptablesSupportsRandomFully ? { kind: 'masquerade', randomFully: true } : { kind: 'masquerade' }), 'fixed rule')
  out.nat.add(kubeMarkMasqChain, rule([], { kind: 'mark', op: 'or', value: mark }), markWhy)
}

/** Capture rules: clusterIP, externalIPs, LB ingress, NodePorts, health-check NodePort. */
function writeCaptureRules(out: RuleTableBuilder, plan: ServicePortPlan, config: ProxierConfig): void {
  const { sp, proto } = plan
  const name = sp.nameString
  const mp = protoMatch(proto)
  const port = dport(sp.port)
  const p = portPath(sp)
  const noEndpointsWhy = (v: { target: 'REJECT' | 'DROP' }, field: string): string =>
    why(sp, `${field}, ${p}.port: ${v.target === 'REJECT' ? 'no usable endpoint in its EndpointSlices' : 'no endpoint on this node under a Local traffic policy'}`)
  const filterRule = (chain: ChainName, v: { target: 'REJECT' | 'DROP'; comment: string }, address: string, field: string): void =>
    out.filter.add(chain, rule([comment(v.comment), ...mp, dst(address), port], filterTarget(v.target)), noEndpointsWhy(v, field))

  if (plan.hasInternalEndpoints) {
    out.nat.add(kubeServicesChain, rule([comment(`${name} cluster IP`), ...mp, dst(sp.clusterIP), port], jump(plan.internalTrafficChain)),
      why(sp, `spec.clusterIP, ${p}.port${sp.internalPolicyLocal ? ', spec.internalTrafficPolicy' : ''}`))
  } else if (plan.internalTrafficFilter) {
    filterRule(kubeServicesChain, plan.internalTrafficFilter, sp.clusterIP, 'spec.clusterIP')
  }
  for (const ip of sp.externalIPs) {
    if (plan.hasEndpoints) out.nat.add(kubeServicesChain, rule([comment(`${name} external IP`), ...mp, dst(ip), port], jump(plan.externalTrafficChain)), why(sp, `spec.externalIPs (${ip}), ${p}.port`))
    if (plan.externalTrafficFilter) filterRule(kubeExternalServicesChain, plan.externalTrafficFilter, ip, `spec.externalIPs (${ip})`)
  }
  for (const ip of sp.loadBalancerVIPs) {
    const lb = `status.loadBalancer.ingress (${ip}), ${p}.port`
    if (plan.hasEndpoints) out.nat.add(kubeServicesChain, rule([comment(`${name} loadbalancer IP`), ...mp, dst(ip), port], jump(plan.loadBalancerTrafficChain)), why(sp, lb))
    if (plan.usesFWChain) {
      out.filter.add(kubeProxyFirewallChain, rule([comment(`${name} traffic not accepted by ${plan.fwChain}`), ...mp, dst(ip), port], verdict('DROP')), why(sp, `spec.loadBalancerSourceRanges, ${lb}`))
    }
  }
  if (plan.externalTrafficFilter) for (const ip of sp.loadBalancerVIPs) filterRule(kubeExternalServicesChain, plan.externalTrafficFilter, ip, `status.loadBalancer.ingress (${ip})`)
  if (sp.nodePort !== 0) {
    if (plan.hasEndpoints) writeNodePortRules(out, plan, config)
    if (plan.externalTrafficFilter) {
      out.filter.add(kubeExternalServicesChain, rule([comment(plan.externalTrafficFilter.comment), dstTypeLocal, ...mp, dport(sp.nodePort)], filterTarget(plan.externalTrafficFilter.target)),
        noEndpointsWhy(plan.externalTrafficFilter, `${p}.nodePort`))
    }
  }
  if (sp.healthCheckNodePort !== 0) {
    out.filter.add(kubeNodePortsChain, rule([comment(`${name} health check node port`), ...protoMatch('tcp'), dport(sp.healthCheckNodePort)], verdict('ACCEPT')), why(sp, 'spec.healthCheckNodePort'))
  }
}

// NodePorts are not subject to loadBalancerSourceRanges (upstream keeps it so for compatibility).
function writeNodePortRules(out: RuleTableBuilder, plan: ServicePortPlan, config: ProxierConfig): void {
  const { sp, proto } = plan
  const w = why(sp, `${portPath(sp)}.nodePort`)
  if (config.localhostNodePorts && config.host.nfacctCounters.localhostNodePortsAcceptedPkts) {
    out.nat.add(kubeNodePortsChain, rule([
      comment(sp.nameString), ...protoMatch(proto), dst('127.0.0.0/8'), dport(sp.nodePort), { kind: 'nfacct', name: localhostNodePortsAcceptedPkts },
    ], jump(plan.externalTrafficChain)), `${w}, KubeProxyConfiguration iptables.localhostNodePorts`)
  }
  out.nat.add(kubeNodePortsChain, rule([comment(sp.nameString), ...protoMatch(proto), dport(sp.nodePort)], jump(plan.externalTrafficChain)), w)
}

function ifLocal(d: LocalDetector): Match[] {
  switch (d.kind) {
    case 'cidr':
      return [src(d.cidrs[0]!)]
    case 'bridge-interface':
      return [{ kind: 'in-interface', name: d.name }]
    case 'interface-name-prefix':
      return [{ kind: 'in-interface', name: `${d.prefix}+` }]
    case 'none':
      return []
  }
}

function ifNotLocal(d: LocalDetector): Match[] {
  return ifLocal(d).map((m) => ({ ...m, negated: true as const }))
}

/** The "cluster IP" masquerade rule at the top of the internal policy chain. */
function writeInternalTrafficRules(out: RuleTableBuilder, plan: ServicePortPlan, config: ProxierConfig): void {
  if (!plan.hasInternalEndpoints) return
  const { sp } = plan
  const args = [comment(`${sp.nameString} cluster IP`), ...protoMatch(plan.proto), dst(sp.clusterIP), dport(sp.port)]
  const w = why(sp, `spec.clusterIP, ${portPath(sp)}.port`)
  if (config.masqueradeAll) out.nat.add(plan.internalTrafficChain, rule(args, jump(kubeMarkMasqChain)), `${w}, KubeProxyConfiguration iptables.masqueradeAll`)
  // Off-cluster traffic to a ClusterIP (a static route to any node) may bounce off-node: masquerade it.
  else if (config.localDetector.kind !== 'none') out.nat.add(plan.internalTrafficChain, rule([...args, ...ifNotLocal(config.localDetector)], jump(kubeMarkMasqChain)), `${w}, KubeProxyConfiguration detectLocalMode`)
}

function writeExternalTrafficChain(out: RuleTableBuilder, plan: ServicePortPlan, detector: LocalDetector): void {
  if (!plan.usesExternalTrafficChain) return
  const ext = plan.externalTrafficChain
  const name = plan.sp.nameString
  const w = why(plan.sp, 'spec.externalTrafficPolicy')
  out.nat.declare(ext)
  if (!plan.sp.externalPolicyLocal) {
    // Cluster policy may cross nodes, so the reply must come back through this node.
    out.nat.add(ext, rule([comment(`masquerade traffic for ${name} external destinations`)], jump(kubeMarkMasqChain)), w)
  } else {
    // Pods reaching an external address of the service are not subject to either policy.
    if (detector.kind !== 'none') out.nat.add(ext, rule([comment(`pod traffic for ${name} external destinations`), ...ifLocal(detector)], jump(plan.clusterPolicyChain)), `${w}, KubeProxyConfiguration detectLocalMode`)
    // The node's own traffic to an external address has a local source IP: masquerade and use the cluster chain.
    out.nat.add(ext, rule([comment(`masquerade LOCAL traffic for ${name} external destinations`), srcTypeLocal], jump(kubeMarkMasqChain)), w)
    out.nat.add(ext, rule([comment(`route LOCAL traffic for ${name} external destinations`), srcTypeLocal], jump(plan.clusterPolicyChain)), w)
  }
  if (plan.hasExternalEndpoints) out.nat.add(ext, rule([], jump(plan.externalPolicyChain)), w)
}

function writeFirewallChain(out: RuleTableBuilder, plan: ServicePortPlan, config: ProxierConfig): void {
  if (!plan.usesFWChain) return
  const { sp, fwChain } = plan
  const c = comment(`${sp.nameString} loadbalancer IP`)
  out.nat.declare(fwChain)
  let allowFromNode = false
  for (const range of sp.loadBalancerSourceRanges) {
    out.nat.add(fwChain, rule([c, src(range)], jump(plan.externalTrafficChain)), why(sp, `spec.loadBalancerSourceRanges (${range})`))
    if (config.nodeIP !== undefined && cidrHasIP(range, config.nodeIP)) allowFromNode = true
  }
  // A VIP often is a local address too: the node's own requests then arrive with the VIP as source.
  if (allowFromNode) {
    for (const ip of sp.loadBalancerVIPs) {
      out.nat.add(fwChain, rule([c, src(ip)], jump(plan.externalTrafficChain)), why(sp, `status.loadBalancer.ingress (${ip}); a source range holds the node IP ${config.nodeIP}`))
    }
  }
  // Traffic reaching this point was not DNATed, so KUBE-PROXY-FIREWALL drops it in filter.
  out.nat.add(fwChain, rule([comment(`other traffic to ${sp.nameString} will be dropped by KUBE-PROXY-FIREWALL`)]), why(sp, 'spec.loadBalancerSourceRanges'))
}

/** upstream writeServiceToEndpointRules: affinity checks, then the statistic ladder. */
function writeServiceToEndpointRules(
  out: RuleTableBuilder,
  plan: ServicePortPlan,
  chain: ChainName,
  endpoints: ServicePortPlan['clusterEndpoints'],
  largeClusterMode: boolean,
): void {
  out.nat.declare(chain)
  const name = plan.sp.nameString
  const sepOf = new Map(plan.endpointChains.map((e) => [e.endpoint.endpoint, e.chain]))
  const epComment = (ep: string): Match[] => (largeClusterMode ? [] : [comment(`${name} -> ${ep}`)])
  const sticky = plan.sp.stickyMaxAgeSeconds
  if (sticky !== undefined) {
    for (const ep of endpoints) {
      const sep = sepOf.get(ep.endpoint)!
      out.nat.add(chain, rule([...epComment(ep.endpoint), { kind: 'recent', name: sep, op: 'rcheck', seconds: sticky, reap: true }], jump(sep)),
        `${why(plan.sp, 'spec.sessionAffinity, spec.sessionAffinityConfig')}; ${endpointWhy(ep)}`)
    }
  }
  const n = endpoints.length
  endpoints.forEach((ep, i) => {
    const sep = sepOf.get(ep.endpoint)!
    const matches = epComment(ep.endpoint)
    if (i < n - 1) matches.push({ kind: 'statistic-random', probability: computeProbability(n - i) })
    out.nat.add(chain, rule(matches, jump(sep)), `${endpointWhy(ep)}${n > 1 ? `: 1 of ${n} endpoints` : ''}`)
  })
}

/** 1/n as upstream prints it (%0.10f), stored as the printed value so parse(render(t)) == t. */
export function computeProbability(n: number): number {
  return Number((1 / n).toFixed(10))
}

function writeEndpointChains(out: RuleTableBuilder, plan: ServicePortPlan, largeClusterMode: boolean): void {
  const { sp, proto } = plan
  // One comment value shared by every SEP rule of the service port (matches are immutable).
  const c: Match[] = largeClusterMode ? [] : [comment(sp.nameString)]
  for (const { endpoint, chain } of plan.endpointChains) {
    out.nat.declare(chain)
    // Hairpin: a pod reaching itself through the service must be masqueraded to get the reply.
    out.nat.add(chain, rule([...c, src(endpoint.ip)], jump(kubeMarkMasqChain)), `${endpointWhy(endpoint)}: hairpin (the pod reaching itself)`)
    const affinity: Match[] = sp.stickyMaxAgeSeconds !== undefined ? [{ kind: 'recent', name: chain, op: 'set' }] : []
    out.nat.add(chain, rule([...c, ...affinity, ...protoMatch(proto)], { kind: 'dnat', to: endpoint.endpoint }), endpointWhy(endpoint))
  }
}

/** The KUBE-SERVICES -> KUBE-NODEPORTS jump(s); must stay the last rules of that chain. */
function writeNodePortsTail(out: RuleTableBuilder, config: ProxierConfig): void {
  const c = comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain')
  if (config.nodePortAddresses.length === 0) {
    const exclude = config.ipFamily === 'IPv6' ? [dst('::1/128', true)] : config.localhostNodePorts ? [] : [dst('127.0.0.0/8', true)]
    out.nat.add(kubeServicesChain, rule([c, dstTypeLocal, ...exclude], jump(kubeNodePortsChain)), 'KubeProxyConfiguration nodePortAddresses (empty: every local address)')
    return
  }
  const seen = new Set<string>()
  for (const ip of config.interfaceAddresses) {
    if (seen.has(ip) || (ip.includes(':') ? 'IPv6' : 'IPv4') !== config.ipFamily) continue
    if (!config.nodePortAddresses.some((cidr) => cidrHasIP(cidr, ip))) continue
    const loopback = ip === '::1' || ip.startsWith('127.')
    if (loopback && (config.ipFamily === 'IPv6' || !config.localhostNodePorts)) continue
    seen.add(ip)
    out.nat.add(kubeServicesChain, rule([c, dst(ip)], jump(kubeNodePortsChain)), `KubeProxyConfiguration nodePortAddresses (holds ${ip})`)
  }
}

function why(sp: ServicePortInfo, fields: string): string {
  return `Service ${sp.name.namespace}/${sp.name.name} ${fields}`
}

function portPath(sp: ServicePortInfo): string {
  return `spec.ports[${sp.portIndex}]`
}

function endpointWhy(ep: EndpointInfo): string {
  return `EndpointSlice ${ep.slice} endpoint ${ep.endpoint}${ep.nodeName ? ` on ${ep.nodeName}` : ''}`
}

function cidrHasIP(cidr: string, ip: IPAddress): boolean {
  const parsed = parseCidr(cidr)
  return parsed !== undefined && cidrContains(parsed, ip)
}
