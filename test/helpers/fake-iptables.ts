/**
 * A validating in-memory iptables that applies restore input the way
 * `iptables-restore --noflush` does: declared chains are created or flushed, -A appends,
 * -X deletes, and the whole commit fails on a jump to a missing chain or a deletion of a
 * referenced one. Like upstream's fake, it exists to check partial syncs; the merge itself is
 * the executors' own (mergeRestore), so the fake cannot drift from them.
 */
import { mergeRestore, type Chain, type RuleTable } from '../../src/proxy/netfilter/index.js'

export class FakeIptables {
  #table: RuleTable | undefined

  apply(t: RuleTable): void {
    this.#table = mergeRestore(this.#table ?? { family: t.family, tables: [] }, t, 'no-flush')
  }

  chainNames(table: string): string[] {
    return this.#table?.tables.find((t) => t.name === table)?.chains.map((c) => c.name) ?? []
  }

  /** A canonical, comparable view: chains sorted by name, rules in order. */
  snapshot(): Record<string, Chain[]> {
    const out: Record<string, Chain[]> = {}
    for (const t of [...(this.#table?.tables ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      out[t.name] = [...t.chains].sort((a, b) => (a.name < b.name ? -1 : 1)).map((c) => ({ name: c.name, rules: [...c.rules] }))
    }
    return out
  }
}
