/**
 * What compile() may take over from an earlier compile of the same tables: each rule's compiled
 * matches and (unless it jumps) target, and each chain's dispatch index and jump targets, keyed by
 * the Rule objects and rule lists that a --noflush restore leaves untouched. A partial sync that
 * names a few chains then parses and indexes those chains' rules, not the whole table again, and
 * looks for jump loops only among the chains whose jumps changed and the chains that reach them.
 */
import type { Rule } from '../types.js'
import type { CompiledMatch, CompiledTarget, DispatchIndex } from './compiled.js'
import { findJumpLoop } from './jump-loops.js'
import type { HookTable } from './types.js'

export interface CachedRule {
  readonly matches: readonly CompiledMatch[]
  /** Absent for jumps and gotos: they point at this compile's chain objects. */
  readonly target?: CompiledTarget
}

export interface CachedChain {
  readonly index: DispatchIndex | undefined
  /** The chains the rules jump or go to, by name, in rule order. */
  readonly jumps: readonly string[]
}

export class CompileCache {
  /** The dispatch index threshold the cached indexes were built with. */
  readonly minIndexedRules: number
  /** Weak: a rule replaced by a later restore is forgotten with it. */
  readonly #rules = new WeakMap<Rule, CachedRule>()
  readonly #chains = new WeakMap<readonly Rule[], CachedChain>()
  /** Per table, the jump graph of the last compile, which had no loop. */
  readonly #graphs = new Map<HookTable, JumpGraph>()

  constructor(minIndexedRules = 16) {
    this.minIndexedRules = minIndexedRules
  }

  rule(rule: Rule): CachedRule | undefined {
    return this.#rules.get(rule)
  }

  /** Remembers a rule's compiled form; one with an `nth` match is not kept (its counter id is per compile). */
  keepRule(rule: Rule, matches: readonly CompiledMatch[], target: CompiledTarget): void {
    if (matches.some((m) => m.k === 'nth')) return
    this.#rules.set(rule, target.k === 'jump' || target.k === 'goto' || rule.target?.kind === 'jump' || rule.target?.kind === 'goto' ? { matches } : { matches, target })
  }

  chain(rules: readonly Rule[]): CachedChain | undefined {
    return this.#chains.get(rules)
  }

  keepChain(rules: readonly Rule[], chain: CachedChain): void {
    this.#chains.set(rules, chain)
  }

  /**
   * A loop in `jumps` (chain -> the chains it jumps to, by name), or undefined. The graph of the
   * last compile had none, so a loop runs through a chain whose jumps changed, and every chain on
   * it reaches that chain: the search covers only those, not the whole table.
   */
  findLoop(table: HookTable, jumps: ReadonlyMap<string, readonly string[]>): string[] | undefined {
    let graph = this.#graphs.get(table)
    if (!graph) this.#graphs.set(table, (graph = new JumpGraph()))
    const changed = graph.update(jumps)
    const near = new Map<string, readonly string[]>()
    for (const name of graph.reaching(changed)) near.set(name, jumps.get(name)!)
    const loop = changed.length === 0 ? undefined : findJumpLoop(near)
    // A graph with a loop is no base for the next search: that one searches the whole table.
    if (loop) this.#graphs.delete(table)
    return loop
  }
}

/** A table's jumps, and who jumps to each chain. */
class JumpGraph {
  readonly #jumps = new Map<string, readonly string[]>()
  /** target -> chains that jump to it -> how many of their rules do */
  readonly #callers = new Map<string, Map<string, number>>()

  /** Brings the graph to `jumps`; answers the chains whose jump lists are new (by identity). */
  update(jumps: ReadonlyMap<string, readonly string[]>): string[] {
    const changed: string[] = []
    for (const [name, targets] of jumps) {
      const old = this.#jumps.get(name)
      if (old === targets) continue
      changed.push(name)
      if (old) this.#edges(name, old, -1)
      this.#edges(name, targets, 1)
      this.#jumps.set(name, targets)
    }
    for (const [name, old] of this.#jumps) {
      if (jumps.has(name)) continue
      this.#edges(name, old, -1)
      this.#jumps.delete(name)
    }
    return changed
  }

  /** `from` and every chain that reaches one of them. */
  reaching(from: readonly string[]): Set<string> {
    const seen = new Set(from)
    const todo = [...from]
    while (todo.length > 0) {
      for (const caller of this.#callers.get(todo.pop()!)?.keys() ?? []) {
        if (!seen.has(caller)) {
          seen.add(caller)
          todo.push(caller)
        }
      }
    }
    return seen
  }

  #edges(from: string, targets: readonly string[], by: 1 | -1): void {
    for (const t of targets) {
      let callers = this.#callers.get(t)
      if (!callers) this.#callers.set(t, (callers = new Map()))
      const n = (callers.get(from) ?? 0) + by
      if (n > 0) callers.set(from, n)
      else callers.delete(from)
      if (callers.size === 0) this.#callers.delete(t)
    }
  }
}
