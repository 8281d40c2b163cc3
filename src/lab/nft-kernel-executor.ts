/**
 * The NftRuleExecutor for a real kernel: one node's network namespace, where every transaction
 * goes to `nft -f -` (atomic: the kernel takes all of it or none), and the table is read back
 * with `nft list table` as the kernel prints it.
 */
import type { NftRuleExecutor } from '../proxy/netfilter/index.js'
import { kubeProxyTable, renderMap, renderNftablesTransaction, renderSet, type NftFamily, type NftRuleset } from '../proxy/nftables/index.js'
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
 * A full sync as one transaction: the table is created if missing and flushed (every rule goes;
 * chains stay, so nothing that references them breaks), every kube-proxy map and static set is
 * emptied (`flush table` keeps elements, and a key re-added with another verdict is refused with
 * "File exists"), then the whole ruleset is written again. Affinity sets (dynamic, with timeouts)
 * keep their entries, as upstream's syncs do. Chains of deleted Services stay behind empty, as
 * upstream's stale chains do.
 */
export function fullSyncTransaction(rs: NftRuleset): string {
  const table = `${rs.family} ${rs.table.name}`
  let out = `add table ${table}\nflush table ${table}\n`
  for (const m of rs.maps) out += `${renderMap(m, table)}flush map ${table} ${m.name}\n`
  for (const set of rs.sets) if (!set.flags?.includes('dynamic')) out += `${renderSet(set, table)}flush set ${table} ${set.name}\n`
  return out + renderNftablesTransaction(rs)
}
