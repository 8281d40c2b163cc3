/**
 * The seam between the proxier and a node's tables: apply restore text as iptables-restore would.
 * The kernel (iptables-restore), the in-memory interpreter and test fakes all sit behind it.
 */

/** Applies restore text to a node's tables (iptables-restore, or the interpreter). */
export interface RuleExecutor {
  apply(text: string, opts: { readonly flush: 'no-flush' | 'flush'; readonly counters: 'restore' | 'reset' }): Promise<void>
}
