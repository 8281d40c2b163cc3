/**
 * A validating in-memory iptables that applies restore input the way
 * `iptables-restore --noflush` does: declared chains are created or flushed, -A appends,
 * -X deletes, and the whole commit fails on a jump to a missing chain or a deletion of a
 * referenced one. Like upstream's fake, it exists to check partial syncs.
 */
import type { Chain, Rule, RuleTable } from '../../src/proxy/netfilter/types.js'

export class FakeIptables {
  readonly tables = new Map<string, Map<string, Rule[]>>()

  apply(t: RuleTable): void {
    const next = new Map([...this.tables].map(([name, chains]) => [name, new Map([...chains].map(([c, r]) => [c, [...r]]))]))
    for (const table of t.tables) {
      const chains = next.get(table.name) ?? new Map<string, Rule[]>()
      next.set(table.name, chains)
      for (const c of table.chains) chains.set(c.name, [...c.rules])
      for (const d of table.deletedChains) chains.delete(d)
    }
    for (const [name, chains] of next) {
      for (const [chain, rules] of chains) {
        for (const r of rules) {
          const target = r.target?.kind === 'jump' || r.target?.kind === 'goto' ? r.target.chain : undefined
          if (target !== undefined && !chains.has(target)) throw new Error(`${name}: ${chain} jumps to missing chain ${target}`)
        }
      }
    }
    this.tables.clear()
    for (const [k, v] of next) this.tables.set(k, v)
  }

  chainNames(table: string): string[] {
    return [...(this.tables.get(table)?.keys() ?? [])]
  }

  /** A canonical, comparable view: chains sorted by name, rules in order. */
  snapshot(): Record<string, Chain[]> {
    const out: Record<string, Chain[]> = {}
    for (const [name, chains] of [...this.tables].sort()) {
      out[name] = [...chains].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, rules]) => ({ name: n as Chain['name'], rules }))
    }
    return out
  }
}
