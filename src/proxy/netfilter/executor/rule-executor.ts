/**
 * The seam between the proxier and a node's tables: restore text applied as iptables-restore
 * would, and the ensure commands for the jumps from the built-in chains.
 * The kernel (iptables-restore), the in-memory interpreter and test fakes all sit behind it.
 */
import type { ChainName } from '../../../net/index.js'
import type { Rule, TableName } from '../types.js'

/** A node's tables as the proxier changes them: upstream's utiliptables.Interface, cut to what the loop uses. */
export interface RuleExecutor {
  /** iptables-restore with the restore text of one sync. */
  apply(text: string, opts: { readonly flush: 'no-flush' | 'flush'; readonly counters: 'restore' | 'reset' }): Promise<void>
  /** `iptables -N`: creates the chain unless it exists (upstream EnsureChain). */
  ensureChain(table: TableName, chain: ChainName): Promise<void>
  /** `iptables -C`, then `-I CHAIN 1` unless an identical rule is there (upstream EnsureRule(Prepend)). */
  ensureRule(position: 'prepend', table: TableName, chain: string, rule: Rule): Promise<void>
}
