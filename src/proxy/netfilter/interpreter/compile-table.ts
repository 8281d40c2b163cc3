/**
 * compile(table): turns the nat and filter tables of a RuleTable into CompiledRules (matches
 * pre-parsed, jumps resolved, dispatch indexes built, and the compact program the walk runs).
 * Compile once per rule set; evaluating a packet then allocates nothing per rule. A table whose
 * jumps loop is refused here (RuleLoopError), as the kernel refuses to load it.
 */
import type { Rule, RuleTable, Table } from '../types.js'
import { builtinChains } from '../types.js'
import type { CachedRule, CompileCache } from './compile-cache.js'
import type { CompiledChain, CompiledMatch, CompiledRule, CompiledRules, CompiledTable, CompiledTarget } from './compiled.js'
import type { HookTable } from './types.js'
import { compileMatch, compileTarget } from './compile-match.js'
import { buildDispatchIndex } from './dispatch-index.js'
import { findJumpLoop, RuleLoopError } from './jump-loops.js'
import { buildProgram } from './program.js'

export interface CompileOptions {
  /** Index a chain once it has this many indexable rules (default 16); `Infinity` disables indexes. */
  readonly minIndexedRules?: number
  /**
   * Compiled rules and chains to take over where the table holds the same Rule objects and rule
   * lists (the InterpreterExecutor keeps one across applies); the result equals a compile without it.
   */
  readonly cache?: CompileCache
}

const jumpTargetName = (r: Rule): string | undefined => (r.target?.kind === 'jump' || r.target?.kind === 'goto' ? r.target.chain : undefined)

/** A rule's compiled form as the cache keeps it: none with an `nth` match (its counter id is per compile), no jump target. */
function cacheable(rule: Rule, matches: readonly CompiledMatch[], target: CompiledTarget): CachedRule | undefined {
  if (matches.some((m) => m.k === 'nth')) return undefined
  return rule.target?.kind === 'jump' || rule.target?.kind === 'goto' ? { matches } : { matches, target }
}

function compileRules(rules: readonly Rule[], nextNthId: () => number, resolve: (name: string) => CompiledChain | undefined, cache: CompileCache | undefined): CompiledRule[] {
  const kept = cache?.rules(rules)
  const keep: (CachedRule | undefined)[] | undefined = cache && !kept ? [] : undefined
  const out: CompiledRule[] = []
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!
    const k = kept?.[i]
    if (k) {
      out.push({ rule, n: i + 1, matches: k.matches, target: k.target ?? compileTarget(rule.target, resolve) })
      continue
    }
    const matches = rule.matches.map((m) => compileMatch(m, nextNthId))
    const target = compileTarget(rule.target, resolve)
    keep?.push(cacheable(rule, matches, target))
    out.push({ rule, n: i + 1, matches, target })
  }
  if (keep) cache!.keepRules(rules, keep)
  return out
}

/** `all` collects every chain (both tables) in id order. */
function compileSection(name: HookTable, t: Table | undefined, nextNthId: () => number, minIndexed: number, all: CompiledChain[], cache: CompileCache | undefined): CompiledTable {
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
  const resolve = (n: string): CompiledChain | undefined => chains.get(n)
  // By chain name: the rule list it was compiled from (the last declaration's, as for its rules).
  const sources = new Map<string, readonly Rule[]>()
  const derived = new Map<string, { index: CompiledChain['index']; jumps: readonly string[] }>()
  for (const c of t?.chains ?? []) {
    const chain = chains.get(c.name)
    if (!chain) continue
    chain.rules = compileRules(c.rules, nextNthId, resolve, cache)
    sources.set(c.name, c.rules)
  }
  for (const chain of chains.values()) {
    const source = sources.get(chain.name)
    // The index and the jumps follow from the rules alone: taken over when the rule list is the one compiled before.
    const kept = source && cache?.minIndexedRules === minIndexed ? cache.chain(source) : undefined
    const index = kept ? kept.index : Number.isFinite(minIndexed) ? buildDispatchIndex(chain.rules, minIndexed) : undefined
    const jumps = kept ? kept.jumps : chain.rules.flatMap((r) => jumpTargetName(r.rule) ?? [])
    if (source && !kept && cache?.minIndexedRules === minIndexed) cache.keepChain(source, { index, jumps })
    derived.set(chain.name, { index, jumps })
  }
  refuseJumpLoops(name, derived, cache)
  for (const chain of chains.values()) {
    const index = derived.get(chain.name)?.index
    if (index) chain.index = index
  }
  return { chains }
}

/**
 * As the kernel does when the table is loaded: a table whose jumps loop is refused. A jump to a
 * chain the table does not hold is no edge (the walk finds it unmodelled).
 */
function refuseJumpLoops(table: HookTable, chains: ReadonlyMap<string, { readonly jumps: readonly string[] }>, cache: CompileCache | undefined): void {
  const jumps = new Map<string, readonly string[]>()
  for (const [name, c] of chains) jumps.set(name, c.jumps)
  const loop = cache ? cache.findLoop(table, jumps) : findJumpLoop(jumps)
  // The error names the loop a search of the whole table finds first, with a cache or without.
  if (loop) throw new RuleLoopError(table, findJumpLoop(jumps) ?? loop)
}

export function compile(table: RuleTable, opts: CompileOptions = {}): CompiledRules {
  let nth = 0
  const nextNthId = (): number => nth++
  const minIndexed = opts.minIndexedRules ?? opts.cache?.minIndexedRules ?? 16
  const pick = (n: HookTable): Table | undefined => table.tables.find((t) => t.name === n)
  const all: CompiledChain[] = []
  const nat = compileSection('nat', pick('nat'), nextNthId, minIndexed, all, opts.cache)
  const filter = compileSection('filter', pick('filter'), nextNthId, minIndexed, all, opts.cache)
  return { family: table.family, nat, filter, nthCount: nth, program: buildProgram(all) }
}
