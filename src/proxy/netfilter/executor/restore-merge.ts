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

export function mergeRestore(current: RuleTable, input: RuleTable, flush: RestoreFlush): RuleTable {
  const merged = mergeAccepted(current, input, flush)
  for (const t of merged.tables) if (input.tables.some((i) => i.name === t.name)) checkJumps(t)
  return merged
}

/**
 * The merge without the commit-time jump check, for recording a commit an executor has already
 * accepted (the proxier's view of the node): the check ran where the commit happened.
 */
export function mergeAccepted(current: RuleTable, input: RuleTable, flush: RestoreFlush): RuleTable {
  const tables = new Map<TableName, Table>(current.tables.map((t) => [t.name, t]))
  for (const t of input.tables) {
    const base = flush === 'flush' || !tables.has(t.name) ? emptyTable(t.name) : tables.get(t.name)!
    const chains = new Map<string, Chain>(base.chains.map((c) => [c.name, c]))
    for (const c of t.chains) {
      const old = chains.get(c.name)
      chains.set(c.name, { ...c, ...(old?.policy && !c.policy ? { policy: old.policy } : {}) })
    }
    for (const d of t.deletedChains) {
      if (builtinChains[t.name].includes(d)) throw new ExecError('iptables-restore', 1, `-X ${d}: cannot delete a built-in chain`)
      chains.delete(d)
    }
    tables.set(t.name, { name: t.name, chains: [...chains.values()], deletedChains: [] })
  }
  return { family: current.family, tables: [...tables.values()] }
}

function emptyTable(name: TableName): Table {
  return { name, chains: builtinChains[name].map((b) => ({ name: b as Chain['name'], policy: 'ACCEPT', rules: [] })), deletedChains: [] }
}

function checkJumps(t: Table): void {
  const names = new Set(t.chains.map((c) => c.name as string))
  for (const c of t.chains) {
    for (const [i, r] of c.rules.entries()) {
      const target = r.target?.kind === 'jump' || r.target?.kind === 'goto' ? r.target.chain : undefined
      if (target !== undefined && !names.has(target)) {
        throw new ExecError('iptables-restore', 2, `table ${t.name}: ${c.name} rule ${i + 1} jumps to missing chain ${target}`)
      }
    }
  }
}
