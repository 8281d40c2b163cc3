/**
 * What `iptables-save` shows on a node after kube-proxy's full sync: the restore text's chains
 * plus the jump rules kube-proxy installs in built-in chains with separate `iptables -I`
 * commands (upstream iptablesJumpChains) and the KUBE-PROXY-CANARY chains.
 */
import type { ChainName } from '../../net/index.js'
import { chainName } from '../../net/index.js'
import { builtinChains, savedChainOrder, type Chain, type Match, type Rule, type RuleTable, type Table, type TableName } from '../netfilter/index.js'
import {
  kubeExternalServicesChain,
  kubeForwardChain,
  kubeletFirewallChain,
  kubeNodePortsChain,
  kubePostroutingChain,
  kubeProxyCanaryChain,
  kubeProxyFirewallChain,
  kubeServicesChain,
} from './chains.js'
import type { Provenance } from './rule-origin.js'
import { comment } from './rule-parts.js'

export interface JumpRule {
  readonly table: TableName
  readonly from: string
  readonly to: ChainName
  readonly rule: Rule
}

const ctNew: Match = { kind: 'conntrack', states: ['NEW'] }

/** The ensure commands of a full sync, in the order upstream runs them (each inserted at position 1). */
export function builtinJumpRules(): JumpRule[] {
  const rows: [TableName, string, ChainName, Match[], string | undefined][] = [
    ['filter', 'INPUT', kubeExternalServicesChain, [ctNew], 'kubernetes externally-visible service portals'],
    ['filter', 'FORWARD', kubeExternalServicesChain, [ctNew], 'kubernetes externally-visible service portals'],
    ['filter', 'INPUT', kubeNodePortsChain, [], 'kubernetes health check service ports'],
    ['filter', 'FORWARD', kubeServicesChain, [ctNew], 'kubernetes service portals'],
    ['filter', 'OUTPUT', kubeServicesChain, [ctNew], 'kubernetes service portals'],
    ['filter', 'FORWARD', kubeForwardChain, [], 'kubernetes forwarding rules'],
    ['filter', 'INPUT', kubeProxyFirewallChain, [ctNew], 'kubernetes load balancer firewall'],
    ['filter', 'OUTPUT', kubeProxyFirewallChain, [ctNew], 'kubernetes load balancer firewall'],
    ['filter', 'FORWARD', kubeProxyFirewallChain, [ctNew], 'kubernetes load balancer firewall'],
    ['nat', 'OUTPUT', kubeServicesChain, [], 'kubernetes service portals'],
    ['nat', 'PREROUTING', kubeServicesChain, [], 'kubernetes service portals'],
    ['nat', 'POSTROUTING', kubePostroutingChain, [], 'kubernetes postrouting rules'],
    ['filter', 'INPUT', kubeletFirewallChain, [], undefined],
    ['filter', 'OUTPUT', kubeletFirewallChain, [], undefined],
  ]
  return rows.map(([table, from, to, extra, text]) => ({
    table,
    from,
    to,
    rule: { matches: [...extra, ...(text ? [comment(text)] : [])], target: { kind: 'jump', chain: to } },
  }))
}

/**
 * The node's tables as iptables-save lists them after a full sync on a fresh host. With
 * `provenance` (the restore table's origins), the built-in jump rules get theirs added.
 */
export function savedView(restore: RuleTable, provenance?: Provenance): RuleTable {
  const jumps = builtinJumpRules()
  if (provenance) for (const j of jumps) provenance.set(j.rule, { kind: 'node', role: 'builtin-jump', setting: `kube-proxy's jump from ${j.table} ${j.from}`, from: j.from })
  const tables: Table[] = (['mangle', 'filter', 'nat'] as const).map((name) => {
    const fromRestore = restore.tables.find((t) => t.name === name)
    const deleted = new Set(fromRestore?.deletedChains ?? [])
    const chains = new Map<string, Chain>()
    for (const b of builtinChains[name]) {
      // Each jump was inserted at position 1, so later ones come first.
      const rules = jumps.filter((j) => j.table === name && j.from === b).map((j) => j.rule).reverse()
      chains.set(b, { name: chainName(b), policy: 'ACCEPT', rules })
    }
    for (const c of fromRestore?.chains ?? []) if (!deleted.has(c.name)) chains.set(c.name, c)
    for (const j of jumps) if (j.table === name && !chains.has(j.to)) chains.set(j.to, { name: j.to, rules: [] })
    chains.set(kubeProxyCanaryChain, { name: kubeProxyCanaryChain, rules: [] })
    return { name, chains: savedChainOrder([...chains.values()], builtinChains[name]), deletedChains: [] }
  })
  return { family: restore.family, tables }
}
