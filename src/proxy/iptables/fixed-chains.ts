/**
 * The rules kube-proxy writes on every sync that belong to no service port: the fixed filter
 * and nat chains (upstream syncProxyRules' opening), and the KUBE-SERVICES -> KUBE-NODEPORTS
 * tail. Pure.
 */
import { cidrTextContains, type IPAddress } from '../../net/index.js'
import type { ProxierConfig } from '../model/index.js'
import type { Match } from '../netfilter/index.js'
import {
  kubeExternalServicesChain,
  kubeForwardChain,
  kubeletFirewallChain,
  kubeMarkMasqChain,
  kubeNodePortsChain,
  kubePostroutingChain,
  kubeProxyFirewallChain,
  kubeServicesChain,
} from './chains.js'
import { comment, dst, dstTypeLocal, jump, rule, src, verdict } from './rule-parts.js'
import type { NodeOrigin } from './rule-origin.js'
import type { RuleTableBuilder } from './rule-table-builder.js'

const ctStateInvalidDroppedPkts = 'ct_state_invalid_dropped_pkts'

/** Fixed filter and nat chains and rules, written on every sync. */
export function writeFixedChains(out: RuleTableBuilder, config: ProxierConfig): void {
  for (const c of [kubeServicesChain, kubeExternalServicesChain, kubeForwardChain, kubeNodePortsChain, kubeProxyFirewallChain]) out.filter.declare(c)
  for (const c of [kubeServicesChain, kubeNodePortsChain, kubePostroutingChain, kubeMarkMasqChain]) out.nat.declare(c)
  const mark = config.masqueradeMark
  const markWhy = (): NodeOrigin => nodeOrigin('KubeProxyConfiguration iptables.masqueradeBit')
  if (config.localhostNodePorts && config.ipFamily === 'IPv4') {
    out.filter.add(kubeletFirewallChain, rule([
      comment('block incoming localnet connections'),
      dst('127.0.0.0/8'),
      src('127.0.0.0/8', true),
      { kind: 'conntrack', states: ['RELATED', 'ESTABLISHED', 'DNAT'], negated: true },
    ], verdict('DROP')), () => nodeOrigin('KubeProxyConfiguration iptables.localhostNodePorts'))
  }
  if (!config.host.conntrackTCPBeLiberal) {
    const invalid: Match[] = [{ kind: 'conntrack', states: ['INVALID'] }]
    if (config.host.nfacctCounters.ctStateInvalidDroppedPkts) invalid.push({ kind: 'nfacct', name: ctStateInvalidDroppedPkts })
    out.filter.add(kubeForwardChain, rule(invalid, verdict('DROP')), () => nodeOrigin('node sysctl net.netfilter.nf_conntrack_tcp_be_liberal = 0'))
  }
  out.filter.add(kubeForwardChain, rule([comment('kubernetes forwarding rules'), { kind: 'mark', value: mark, mask: mark }], verdict('ACCEPT')), markWhy)
  out.filter.add(kubeForwardChain, rule([comment('kubernetes forwarding conntrack rule'), { kind: 'conntrack', states: ['RELATED', 'ESTABLISHED'] }], verdict('ACCEPT')), () => nodeOrigin('fixed rule'))

  out.nat.add(kubePostroutingChain, rule([{ kind: 'mark', value: mark, mask: mark, negated: true }], verdict('RETURN')), markWhy)
  // Clear the mark so a packet that re-enters the stack (e.g. VXLAN) is not masqueraded twice.
  out.nat.add(kubePostroutingChain, rule([], { kind: 'mark', op: 'xor', value: mark }), markWhy)
  out.nat.add(kubePostroutingChain, rule([comment('kubernetes service traffic requiring SNAT')],
    config.host.iptablesSupportsRandomFully ? { kind: 'masquerade', randomFully: true } : { kind: 'masquerade' }), () => nodeOrigin('fixed rule'))
  out.nat.add(kubeMarkMasqChain, rule([], { kind: 'mark', op: 'or', value: mark }), markWhy)
}

/** The KUBE-SERVICES -> KUBE-NODEPORTS jump(s); must stay the last rules of that chain. */
export function writeNodePortsTail(out: RuleTableBuilder, config: ProxierConfig): void {
  const c = comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain')
  if (config.nodePortAddresses.length === 0) {
    const exclude = config.ipFamily === 'IPv6' ? [dst('::1/128', true)] : config.localhostNodePorts ? [] : [dst('127.0.0.0/8', true)]
    out.nat.add(kubeServicesChain, rule([c, dstTypeLocal, ...exclude], jump(kubeNodePortsChain)), () => nodeOrigin('KubeProxyConfiguration nodePortAddresses (empty: every local address)'))
    return
  }
  const seen = new Set<string>()
  for (const ip of config.interfaceAddresses) {
    if (seen.has(ip) || (ip.includes(':') ? 'IPv6' : 'IPv4') !== config.ipFamily) continue
    if (!config.nodePortAddresses.some((cidr) => cidrTextContains(cidr, ip))) continue
    const loopback = ip === '::1' || ip.startsWith('127.')
    if (loopback && (config.ipFamily === 'IPv6' || !config.localhostNodePorts)) continue
    seen.add(ip)
    out.nat.add(kubeServicesChain, rule([c, dst(ip)], jump(kubeNodePortsChain)), () => nodeOrigin(`KubeProxyConfiguration nodePortAddresses (holds ${ip})`))
  }
}

function nodeOrigin(setting: string): NodeOrigin {
  return { kind: 'node', role: 'node-wide', setting }
}
