/**
 * compile(table): turns the nat and filter tables of a RuleTable into CompiledRules (matches
 * pre-parsed, jumps resolved, dispatch indexes built, and the compact program the walk runs).
 * Compile once per rule set; evaluating a packet then allocates nothing per rule. A table whose
 * jumps loop is refused here (RuleLoopError), as the kernel refuses to load it.
 */
import type { RuleTable, Table } from '../types.js'
import { builtinChains } from '../types.js'
import type { CompiledChain, CompiledRules, CompiledTable } from './compiled.js'
import type { HookTable } from './types.js'
import { compileMatch, compileTarget } from './compile-match.js'
import { buildDispatchIndex } from './dispatch-index.js'
import { findJumpLoop, RuleLoopError } from './jump-loops.js'
import { buildProgram } from './program.js'

export interface CompileOptions {
  /** Index a chain once it has this many indexable rules (default 16); `Infinity` disables indexes. */
  readonly minIndexedRules?: number
}

/** `all` collects every chain (both tables) in id order. */
function compileSection(name: HookTable, t: Table | undefined, nextNthId: () => number, minIndexed: number, all: CompiledChain[]): CompiledTable {
  const chains = new Map<string, CompiledChain>()
  const builtins = builtinChains[name]
  const declare = (chainName: string, builtin: boolean, policy: 'accept' | 'drop'): void => {
    // A redeclared chain keeps its first id; the id only has to be unique.
    const id = chains.get(chainName)?.id ?? all.length
    const c: CompiledChain = { id, table: name, name: chainName, builtin, policy, rules: [] }
    chains.set(chainName, c)
    all[id] = c
  }
  for (const b of builtins) declare(b, true, 'accept')
  for (const c of t?.chains ?? []) declare(c.name, builtins.includes(c.name), c.policy === 'DROP' ? 'drop' : 'accept')
  // `-X` lines come after the declarations in restore input: a declared-then-deleted chain is gone.
  for (const d of t?.deletedChains ?? []) if (!builtins.includes(d)) chains.delete(d)
  for (const c of t?.chains ?? []) {
    const chain = chains.get(c.name)
    if (!chain) continue
    chain.rules = c.rules.map((rule, i) => ({
      rule,
      n: i + 1,
      matches: rule.matches.map((m) => compileMatch(m, nextNthId)),
      target: compileTarget(rule.target, (n) => chains.get(n)),
    }))
  }
  refuseJumpLoops(name, chains)
  for (const chain of chains.values()) {
    const index = Number.isFinite(minIndexed) ? buildDispatchIndex(chain.rules, minIndexed) : undefined
    if (index) chain.index = index
  }
  return { chains }
}

/** As the kernel does when the table is loaded: a table whose jumps loop is refused. */
function refuseJumpLoops(table: HookTable, chains: ReadonlyMap<string, CompiledChain>): void {
  const jumps = new Map<string, string[]>()
  for (const c of chains.values()) {
    const targets: string[] = []
    for (const r of c.rules) if (r.target.k === 'jump' || r.target.k === 'goto') targets.push(r.target.chain.name)
    jumps.set(c.name, targets)
  }
  const loop = findJumpLoop(jumps)
  if (loop) throw new RuleLoopError(table, loop)
}

export function compile(table: RuleTable, opts: CompileOptions = {}): CompiledRules {
  let nth = 0
  const nextNthId = (): number => nth++
  const minIndexed = opts.minIndexedRules ?? 16
  const pick = (n: HookTable): Table | undefined => table.tables.find((t) => t.name === n)
  const all: CompiledChain[] = []
  const nat = compileSection('nat', pick('nat'), nextNthId, minIndexed, all)
  const filter = compileSection('filter', pick('filter'), nextNthId, minIndexed, all)
  return { family: table.family, nat, filter, nthCount: nth, program: buildProgram(all) }
}
