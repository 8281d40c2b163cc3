/**
 * The NftRuleExecutor for a real kernel: one node's network namespace, where every transaction
 * goes to `nft -f -` (atomic: the kernel takes all of it or none), and the table is read back
 * with `nft list table` as the kernel prints it.
 */
import type { NftRuleExecutor } from '../proxy/netfilter/index.js'
import { kubeProxyTable, renderNftablesTransaction, type NftFamily, type NftRuleset } from '../proxy/nftables/index.js'
import type { NetnsRunner } from './node-rules.js'

export class NftKernelExecutor implements NftRuleExecutor {
  readonly #run: NetnsRunner
  #applies = 0

  constructor(opts: { readonly run: NetnsRunner }) {
    this.#run = opts.run
  }

  get applies(): number {
    return this.#applies
  }

  async apply(transaction: string): Promise<void> {
    await this.#run(['nft', '-f', '-'], { input: transaction })
    this.#applies++
  }

  /** `nft list table FAMILY kube-proxy`: the kernel's own printing of what it holds. */
  async list(family: NftFamily): Promise<string> {
    return (await this.#run(['nft', 'list', 'table', family, kubeProxyTable])).stdout
  }
}

/**
 * A full sync as one transaction: the table is created if missing and flushed (every rule and
 * element goes; chains and sets stay, so nothing that references them breaks), then the whole
 * ruleset is written again. Chains of deleted Services stay behind empty, as upstream's stale chains do.
 */
export function fullSyncTransaction(rs: NftRuleset): string {
  const table = `${rs.family} ${rs.table.name}`
  return `add table ${table}\nflush table ${table}\n${renderNftablesTransaction(rs)}`
}
