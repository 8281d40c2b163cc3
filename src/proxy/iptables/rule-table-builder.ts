/**
 * Accumulates chains and rules per table, then emits them in upstream's normalized order (see
 * compareChainNames). With `render: 'text'` it also keeps each chain's restore lines as rules
 * arrive, so parts rendered once (a cached service port's rules) are joined, not re-rendered.
 */
import type { ChainName, IPFamily } from '../../net/index.js'
import { renderRuleLine, renderRestoreTable, type Chain, type Rule, type RuleTable, type Table, type TableName } from '../netfilter/index.js'
import { sortChainNames } from './chains.js'
import type { Provenance, RuleOrigin } from './rule-origin.js'

export type RenderMode = 'values' | 'text'

/** One chain's rules as a finished part of a build, with their `-A` lines in text mode ('' otherwise). */
export interface ChainPart {
  readonly chain: ChainName
  readonly rules: readonly Rule[]
  readonly text: string
}

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
    readonly provenance: Provenance | undefined,
    readonly render: RenderMode = 'values',
  ) {}

  /** Declares a chain (in restore text: creates or flushes it). Idempotent. */
  declare(chain: ChainName): void {
    if (!this.#chains.has(chain)) this.#chains.set(chain, { rules: [], ownsRules: true, text: '' })
  }

  /** Appends a rule; `why` gives its typed origin (computed only when provenance is asked for). */
  add(chain: ChainName, rule: Rule, why?: () => RuleOrigin): void {
    if (why !== undefined && this.provenance !== undefined) this.provenance.set(rule, why())
    const entry = this.#owned(chain)
    entry.rules.push(rule)
    if (this.render === 'text') entry.text += renderRuleLine(chain, rule)
  }

  /** Declares the part's chain and appends its rules, whose lines were rendered before. */
  append(part: ChainPart): void {
    const entry = this.#chains.get(part.chain)
    // A chain first seen here (a service port's own chain) borrows the part's array: no copy.
    if (entry === undefined) {
      this.#chains.set(part.chain, { rules: part.rules as Rule[], ownsRules: false, text: this.render === 'text' ? part.text : '' })
      return
    }
    if (!entry.ownsRules) {
      entry.rules = [...entry.rules]
      entry.ownsRules = true
    }
    for (const r of part.rules) entry.rules.push(r)
    if (this.render === 'text') entry.text += part.text
  }

  /** Declares a stale chain (flushing it) and deletes it with -X. */
  delete(chain: ChainName): void {
    this.declare(chain)
    ;(this.#deleted ??= []).push(chain)
  }

  has(chain: ChainName): boolean {
    return this.#chains.has(chain)
  }

  /** The chains in the order they were first written, for keeping and appending elsewhere. */
  parts(): ChainPart[] {
    const parts: ChainPart[] = []
    // Parts are kept between syncs: a copy trims the room push() leaves (17 slots for a 2-rule chain).
    for (const [chain, entry] of this.#chains) parts.push({ chain, rules: entry.ownsRules ? entry.rules.slice() : entry.rules, text: flat(entry.text) })
    return parts
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

/**
 * V8 keeps a concatenation as a rope of its pieces. A kept part is joined into every later
 * sync's text, and a rope is walked piece by piece each time the result is flattened, so make
 * it one flat string once: reading a character flattens a rope in place.
 */
export function flat(text: string): string {
  if (text.length > 0) text.charCodeAt(0)
  return text
}

export class RuleTableBuilder {
  readonly filter: TableBuilder
  readonly nat: TableBuilder
  constructor(
    readonly family: IPFamily,
    provenance?: Provenance,
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
