/**
 * The seam between an nftables-mode sync and a node's tables: one `nft -f` transaction per sync,
 * applied all or nothing, as knftables' Run does. The kernel (`nft -f -` in a namespace) sits
 * behind it; an nft interpreter can sit behind the same interface.
 */

/** A node's nftables state as a sync changes it: upstream's knftables.Interface, cut to what a sync uses. */
export interface NftRuleExecutor {
  /** Applies one transaction of `add`/`flush`/`delete` commands atomically. */
  apply(transaction: string): Promise<void>
}
