/**
 * buildIptablesRules: (service ports, endpoints, node config) -> RuleTable, mirroring upstream
 * kube-proxy's iptables syncProxyRules (pkg/proxy/iptables/proxier.go) phase by phase. Pure:
 * no clock, no randomness, no I/O. Partial syncs are the same function with a changed-set.
 */
import { cidrContains, parseCidr, type ChainName, type IPAddress } from '../../net/index.js'
import { servicePortKey, type EndpointInfo, type ProxierConfig, type ProxyState, type ServicePortInfo } from '../model/index.js'
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
import { planServicePort } from './plan.js'
import { comment, dst, dstTypeLocal, jump, rule, src, verdict } from './rule-parts.js'
import { activeServiceChains, appendServicePortRules, buildServicePortRules } from './service-port-rules.js'
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

const ctStateInvalidDroppedPkts = 'ct_state_invalid_dropped_pkts'

export function buildIptablesRules(input: IptablesBuildInput): RuleTable {
  const { state, config } = input
  const sync = input.sync ?? { mode: 'full' }
  const out = new RuleTableBuilder(config.ipFamily, input.provenance)
  const largeClusterMode = isLargeCluster(state, config)
  const existingNatChains = [...(input.existingNatChains ?? [])]
  // Only needed to find stale chains; skip the bookkeeping when there are none to check.
  const activeNatChains = existingNatChains.length > 0 && (input.deleteStaleChains ?? true) ? new Set<ChainName>() : undefined

  writeFixedChains(out, config)
  for (const sp of state.servicePorts) {
    const plan = planServicePort(sp, endpointsOf(state, sp), config)
    if (activeNatChains) for (const chain of activeServiceChains(plan)) activeNatChains.add(chain)
    // Partial sync: unchanged services keep their kernel chains; only KUBE-SERVICES & co. are rewritten.
    const ownChains = sync.mode === 'full' || sync.changedServices.has(serviceName(sp))
    const rules = buildServicePortRules(plan, config, { largeClusterMode, ownChains, render: 'values', provenance: input.provenance })
    appendServicePortRules(out, rules, { chains: 'own' })
  }
  if (activeNatChains) {
    for (const chain of existingNatChains) {
      if (isServiceChain(chain) && !activeNatChains.has(chain)) out.nat.delete(chain)
    }
  }
  writeNodePortsTail(out, config)
  return out.finish().table
}

/** upstream largeClusterMode: more endpoints than the threshold drops per-endpoint comments. */
export function isLargeCluster(state: ProxyState, config: ProxierConfig): boolean {
  let n = 0
  for (const sp of state.servicePorts) n += endpointsOf(state, sp).length
  return n > config.largeClusterEndpointsThreshold
}

const noEndpoints: readonly EndpointInfo[] = []

/** A service port's endpoints; one shared empty list when it has none, so identity checks hold. */
export function endpointsOf(state: ProxyState, sp: ServicePortInfo): readonly EndpointInfo[] {
  return state.endpoints.get(servicePortKey(sp.name)) ?? noEndpoints
}

/** The Service (`ns/name`) a service port belongs to: the unit of change in a partial sync. */
export function serviceName(sp: ServicePortInfo): string {
  return `${sp.name.namespace}/${sp.name.name}`
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

function cidrHasIP(cidr: string, ip: IPAddress): boolean {
  const parsed = parseCidr(cidr)
  return parsed !== undefined && cidrContains(parsed, ip)
}
