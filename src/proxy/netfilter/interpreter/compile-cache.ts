/**
 * What compile() may take over from an earlier compile of the same tables: each chain's compiled
 * matches and (unless a rule jumps) targets, dispatch index and jump targets, keyed by the rule
 * lists that a --noflush restore leaves untouched. A partial sync that names a few chains then
 * parses and indexes those chains' rules, not the whole table again, and looks for jump loops only
 * through the chains whose jumps changed.
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

/** Past this many chains with new jumps, one linear search of the whole table costs less than one per chain. */
const maxChangedSearched = 64

export class CompileCache {
  /** The dispatch index threshold the cached indexes were built with. */
  readonly minIndexedRules: number
  /** By rule list (weak: a list replaced by a later restore is forgotten with it); undefined where a rule is not kept. */
  readonly #rules = new WeakMap<readonly Rule[], readonly (CachedRule | undefined)[]>()
  readonly #chains = new WeakMap<readonly Rule[], CachedChain>()
  /** Per table, the jump graph of the last compile, which had no loop. */
  readonly #graphs = new Map<HookTable, JumpGraph>()

  constructor(minIndexedRules = 16) {
    this.minIndexedRules = minIndexedRules
  }

  rules(rules: readonly Rule[]): readonly (CachedRule | undefined)[] | undefined {
    return this.#rules.get(rules)
  }

  keepRules(rules: readonly Rule[], compiled: readonly (CachedRule | undefined)[]): void {
    this.#rules.set(rules, compiled)
  }

  chain(rules: readonly Rule[]): CachedChain | undefined {
    return this.#chains.get(rules)
  }

  keepChain(rules: readonly Rule[], chain: CachedChain): void {
    this.#chains.set(rules, chain)
  }

  /**
   * A loop in `jumps` (chain -> the chains it jumps to, by name), or undefined. The graph of the
   * last compile had none, so a new loop runs through a chain whose jumps changed: each such chain
   * is searched from both ends at once (what it reaches, what reaches it) until one end runs out,
   * so a chain near the top (KUBE-SERVICES) or the bottom (KUBE-MARK-MASQ) of a large table costs
   * little. Many changed chains: one search of the whole table.
   */
  findLoop(table: HookTable, jumps: ReadonlyMap<string, readonly string[]>): string[] | undefined {
    let graph = this.#graphs.get(table)
    if (!graph) this.#graphs.set(table, (graph = new JumpGraph()))
    const changed = graph.update(jumps)
    const loop = changed.length > maxChangedSearched ? findJumpLoop(jumps) : changed.some((c) => graph.onLoop(c, jumps)) ? findJumpLoop(jumps) : undefined
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

  /**
   * Whether `chain` reaches itself: a search forwards (jumps) and one backwards (callers) take
   * turns edge by edge, and the first to run out of chains without meeting `chain` says no.
   */
  onLoop(chain: string, jumps: ReadonlyMap<string, readonly string[]>): boolean {
    const forward = new EdgeWalk(chain, (c) => (jumps.has(c) ? jumps.get(c)! : []), (c) => jumps.has(c))
    const backward = new EdgeWalk(chain, (c) => [...(this.#callers.get(c)?.keys() ?? [])], (c) => jumps.has(c))
    for (;;) {
      const f = forward.step(chain)
      if (f !== 'more') return f === 'met'
      const b = backward.step(chain)
      if (b !== 'more') return b === 'met'
    }
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

/** A depth-first walk from one chain, an edge per step; `step` says whether it met `goal` or ran out. */
class EdgeWalk {
  readonly #next: (chain: string) => readonly string[]
  readonly #exists: (chain: string) => boolean
  readonly #seen = new Set<string>()
  readonly #stack: { readonly edges: readonly string[]; i: number }[]

  constructor(from: string, next: (chain: string) => readonly string[], exists: (chain: string) => boolean) {
    this.#next = next
    this.#exists = exists
    this.#seen.add(from)
    this.#stack = [{ edges: next(from), i: 0 }]
  }

  step(goal: string): 'met' | 'done' | 'more' {
    for (;;) {
      const top = this.#stack[this.#stack.length - 1]
      if (!top) return 'done'
      if (top.i >= top.edges.length) {
        this.#stack.pop()
        continue
      }
      const c = top.edges[top.i++]!
      if (c === goal) return 'met'
      if (this.#exists(c) && !this.#seen.has(c)) {
        this.#seen.add(c)
        this.#stack.push({ edges: this.#next(c), i: 0 })
      }
      return 'more'
    }
  }
}
