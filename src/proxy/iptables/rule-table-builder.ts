/**
 * Accumulates chains and rules per table during one build, then emits them in upstream's
 * normalized order (see compareChainNames). Local to one build call; never shared.
 */
import type { ChainName, IPFamily } from '../../net/index.js'
import type { Chain, Rule, RuleTable, Table, TableName } from '../netfilter/index.js'
import { sortChainNames } from './chains.js'

class TableBuilder {
  readonly #chains = new Map<ChainName, Rule[]>()
  readonly #deleted: ChainName[] = []
  constructor(
    readonly name: TableName,
    readonly provenance: Map<Rule, string> | undefined,
  ) {}

  /** Declares a chain (in restore text: creates or flushes it). Idempotent. */
  declare(chain: ChainName): void {
    if (!this.#chains.has(chain)) this.#chains.set(chain, [])
  }

  /** Appends a rule; `why` names the object and field that produced it (kept only when asked). */
  add(chain: ChainName, rule: Rule, why?: string): void {
    if (why !== undefined) this.provenance?.set(rule, why)
    let rules = this.#chains.get(chain)
    if (rules === undefined) this.#chains.set(chain, (rules = []))
    rules.push(rule)
  }

  /** Declares a stale chain (flushing it) and deletes it with -X. */
  delete(chain: ChainName): void {
    this.declare(chain)
    this.#deleted.push(chain)
  }

  has(chain: ChainName): boolean {
    return this.#chains.has(chain)
  }

  finish(): Table {
    const names = sortChainNames([...this.#chains.keys()])
    const chains: Chain[] = names.map((name) => ({ name, rules: this.#chains.get(name)! }))
    return { name: this.name, chains, deletedChains: sortChainNames(this.#deleted) }
  }
}

export class RuleTableBuilder {
  readonly filter: TableBuilder
  readonly nat: TableBuilder
  constructor(
    readonly family: IPFamily,
    provenance?: Map<Rule, string>,
  ) {
    this.filter = new TableBuilder('filter', provenance)
    this.nat = new TableBuilder('nat', provenance)
  }
  finish(): RuleTable {
    return { family: this.family, tables: [this.filter.finish(), this.nat.finish()] }
  }
}
