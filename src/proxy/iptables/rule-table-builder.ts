/**
 * Accumulates chains and rules per table, then emits them in upstream's normalized order (see
 * compareChainNames). With `render: 'text'` it also keeps each chain's restore lines as rules
 * arrive, so parts rendered once (a cached service port's rules) are joined, not re-rendered.
 */
import type { ChainName, IPFamily } from '../../net/index.js'
import { renderRuleLine, renderRestoreTable, type Chain, type Rule, type RuleTable, type Table, type TableName } from '../netfilter/index.js'
import { sortChainNames } from './chains.js'

export type RenderMode = 'values' | 'text'

interface ChainEntry {
  rules: Rule[]
  /** False while `rules` is an array borrowed from append(): copied before the first change. */
  ownsRules: boolean
  /** The chain's `-A` lines so far; only kept in text mode. */
  text: string
}

export class TableBuilder {
  readonly #chains = new Map<ChainName, ChainEntry>()
  #deleted: ChainName[] | undefined
  constructor(
    readonly name: TableName,
    readonly provenance: Map<Rule, string> | undefined,
    readonly render: RenderMode = 'values',
  ) {}

  /** Declares a chain (in restore text: creates or flushes it). Idempotent. */
  declare(chain: ChainName): void {
    if (!this.#chains.has(chain)) this.#chains.set(chain, { rules: [], ownsRules: true, text: '' })
  }

  /** Appends a rule; `why` names the object and field that produced it (kept only when asked). */
  add(chain: ChainName, rule: Rule, why?: string): void {
    if (why !== undefined) this.provenance?.set(rule, why)
    const entry = this.#owned(chain)
    entry.rules.push(rule)
    if (this.render === 'text') entry.text += renderRuleLine(chain, rule)
  }

  /** Declares the chain and appends rules whose lines were rendered before (`text` may be '' in values mode). */
  append(chain: ChainName, rules: readonly Rule[], text: string): void {
    const found = this.#chains.get(chain)
    // A chain first seen here (a service port's own chain) borrows the caller's array: no copy.
    if (found === undefined) {
      this.#chains.set(chain, { rules: rules as Rule[], ownsRules: false, text: this.render === 'text' ? text : '' })
      return
    }
    const entry = this.#owned(chain)
    for (const r of rules) entry.rules.push(r)
    if (this.render === 'text') entry.text += text
  }

  /** Declares a stale chain (flushing it) and deletes it with -X. */
  delete(chain: ChainName): void {
    this.declare(chain)
    ;(this.#deleted ??= []).push(chain)
  }

  has(chain: ChainName): boolean {
    return this.#chains.has(chain)
  }

  /** The chains in the order they were first written, with their rules and (text mode) lines. */
  entries(): IterableIterator<[ChainName, { readonly rules: readonly Rule[]; readonly text: string }]> {
    return this.#chains.entries()
  }

  finish(): { table: Table; text: string } {
    const names = sortChainNames([...this.#chains.keys()])
    const chains: Chain[] = []
    const texts: string[] = []
    for (const name of names) {
      const entry = this.#chains.get(name)!
      chains.push({ name, rules: entry.rules })
      texts.push(entry.text)
    }
    const table: Table = { name: this.name, chains, deletedChains: sortChainNames(this.#deleted ?? []) }
    return { table, text: this.render === 'text' ? renderRestoreTable(table, (_c, i) => texts[i]!) : '' }
  }

  #owned(chain: ChainName): ChainEntry {
    let entry = this.#chains.get(chain)
    if (entry === undefined) this.#chains.set(chain, (entry = { rules: [], ownsRules: true, text: '' }))
    else if (!entry.ownsRules) {
      entry.rules = [...entry.rules]
      entry.ownsRules = true
    }
    return entry
  }
}

export class RuleTableBuilder {
  readonly filter: TableBuilder
  readonly nat: TableBuilder
  constructor(
    readonly family: IPFamily,
    provenance?: Map<Rule, string>,
    render: RenderMode = 'values',
  ) {
    this.filter = new TableBuilder('filter', provenance, render)
    this.nat = new TableBuilder('nat', provenance, render)
  }

  /** The table, and in text mode its restore text (equal to renderIptablesRestore of the table). */
  finish(): { table: RuleTable; text: string } {
    const filter = this.filter.finish()
    const nat = this.nat.finish()
    return { table: { family: this.family, tables: [filter.table, nat.table] }, text: filter.text + nat.text }
  }
}
