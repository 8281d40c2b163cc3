/**
 * What a kernel dataplane gives each node's agents (kpe up --dataplane kernel): rule executors
 * for the node's network namespace, which the proxier applies to before the interpreter, and
 * the kubelet's pod sandboxes. Without it the node is userspace only.
 */
import type { PodNetworkTable, PodSandboxes, SeenSourceTable } from '../kubelet/index.js'
import type { NftRuleExecutor, RuleExecutor } from '../proxy/netfilter/index.js'

export interface NodeKernel {
  readonly iptables: RuleExecutor
  readonly nftables: NftRuleExecutor
  readonly sandboxes: PodSandboxes
}

export interface KernelNodeHooks {
  /** The node's kernel parts; pods register their ports in `network`, and report what they saw in `seen`. */
  node(name: string, tables: { readonly network: PodNetworkTable; readonly seen: SeenSourceTable }): NodeKernel
}
