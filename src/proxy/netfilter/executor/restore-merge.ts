/**
 * iptables-restore's effect on a node's tables, as a pure function: with --noflush a declared
 * chain is created or flushed and then filled, chains the input does not mention keep their
 * rules, and -X deletes; without it, every table in the input is replaced whole. A jump to a
 * missing chain fails the whole commit, as in the kernel. The one implementation of this merge:
 * the interpreter executor, the proxier's record of what the node holds, and the tests' fake
 * iptables all call it.
 */
import { ExecError } from '../../../errors.js'
import { builtinChains, type Chain, type RuleTable, type Table, type TableName } from '../types.js'

export type RestoreFlush = 'no-flush' | 'flush'

export interface MergeOptions {
  /**
   * Every jump in `current` resolves (it came out of mergeRestore, as the InterpreterExecutor's
   * tables do): then only the chains the input wrote are checked, unless it deleted one.
   */
  readonly currentChecked?: boolean
}

export function mergeRestore(current: RuleTable, input: RuleTable, flush: RestoreFlush, opts: MergeOptions = {}): RuleTable {
  const node = new NodeTables(current)
  node.merge(input, flush)
  const merged = node.table()
  for (const t of merged.tables) {
    if (!input.tables.some((i) => i.name === t.name)) continue
    checkJumps(t, opts.currentChecked && flush === 'no-flush' ? current.tables.find((c) => c.name === t.name) : undefined)
  }
  return merged
}

/**
 * A node's tables as chain maps, merged in place: the merge step itself. mergeRestore copies
 * into one per commit (the commit must not half-apply); the proxier keeps one for its record of
 * the node, where a commit the executor accepted costs in proportion to the chains it names.
 */
export class NodeTables {
  readonly #family: RuleTable['family']
  readonly #tables = new Map<TableName, Map<string, Chain>>()

  constructor(from: RuleTable) {
    this.#family = from.family
    for (const t of from.tables) this.#tables.set(t.name, new Map(t.chains.map((c) => [c.name, c])))
  }

  /** Applies restore input with iptables-restore's semantics, without the commit-time jump check. */
  merge(input: RuleTable, flush: RestoreFlush): void {
    for (const t of input.tables) {
      let chains = this.#tables.get(t.name)
      if (flush === 'flush' || !chains) this.#tables.set(t.name, (chains = new Map(emptyTable(t.name).chains.map((c) => [c.name, c]))))
      for (const c of t.chains) {
        const old = chains.get(c.name)
        chains.set(c.name, { ...c, ...(old?.policy && !c.policy ? { policy: old.policy } : {}) })
      }
      for (const d of t.deletedChains) {
        if (builtinChains[t.name].includes(d)) throw new ExecError('iptables-restore', 1, `-X ${d}: cannot delete a built-in chain`)
        chains.delete(d)
      }
    }
  }

  /** Each table written so far, with its chains by name. */
  entries(): IterableIterator<[TableName, ReadonlyMap<string, Chain>]> {
    return this.#tables.entries()
  }

  /** The chains of one table by name (empty for a table never written). */
  chains(table: TableName): ReadonlyMap<string, Chain> {
    return this.#tables.get(table) ?? new Map()
  }

  table(): RuleTable {
    return { family: this.#family, tables: [...this.#tables].map(([name, chains]) => ({ name, chains: [...chains.values()], deletedChains: [] })) }
  }
}

function emptyTable(name: TableName): Table {
  return { name, chains: builtinChains[name].map((b) => ({ name: b as Chain['name'], policy: 'ACCEPT', rules: [] })), deletedChains: [] }
}

/** With `checked` (the table before, all of whose jumps resolve), a chain it held unchanged needs no check while no chain was deleted. */
function checkJumps(t: Table, checked: Table | undefined): void {
  const names = new Set(t.chains.map((c) => c.name as string))
  const unchanged = checked && checked.chains.every((c) => names.has(c.name)) ? new Set(checked.chains) : undefined
  for (const c of t.chains) {
    if (unchanged?.has(c)) continue
    for (const [i, r] of c.rules.entries()) {
      const target = r.target?.kind === 'jump' || r.target?.kind === 'goto' ? r.target.chain : undefined
      if (target !== undefined && !names.has(target)) {
        throw new ExecError('iptables-restore', 2, `table ${t.name}: ${c.name} rule ${i + 1} jumps to missing chain ${target}`)
      }
    }
  }
}
