/**
 * Jump loops: a chain that reaches itself through `-j`/`-g`. The kernel refuses to load such a
 * table (iptables-restore fails with ELOOP), so the interpreter refuses it at compile time,
 * before any walk: a walk would never end, or branch exponentially under a depth bound. A
 * loop-free table can still fan out (each chain jumping twice to the next): a walk stops with
 * RuleWalkLimitError after maxJumpsPerHook jumps instead of running for ever.
 */
import { InputError } from '../../../errors.js'

/** A table whose jumps loop; `chains` runs along the loop and repeats its first chain at the end. */
export class RuleLoopError extends InputError {
  readonly table: string
  readonly chains: readonly string[]
  constructor(table: string, chains: readonly string[]) {
    super({ object: `table ${table}` }, `rule loop: ${chains.join(' -> ')} (the kernel refuses a table whose jumps loop)`, {
      hint: 'remove the jump that closes the loop',
    })
    this.name = 'RuleLoopError'
    this.table = table
    this.chains = chains
  }
}

/**
 * The first loop in a jump graph (chain -> chains it jumps or goes to), in the graph's order, or
 * undefined. Iterative depth-first search, linear in chains plus jumps.
 */
export function findJumpLoop(jumps: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const done = new Set<string>()
  for (const root of jumps.keys()) {
    if (done.has(root)) continue
    // The current path, with the next edge to try at each step.
    const path: string[] = [root]
    const next: number[] = [0]
    const onPath = new Set<string>([root])
    while (path.length > 0) {
      const top = path.length - 1
      const chain = path[top]!
      const targets = jumps.get(chain) ?? []
      const i = next[top]!
      if (i >= targets.length) {
        done.add(chain)
        onPath.delete(chain)
        path.pop()
        next.pop()
        continue
      }
      next[top] = i + 1
      const target = targets[i]!
      if (onPath.has(target)) return [...path.slice(path.indexOf(target)), target]
      if (done.has(target) || !jumps.has(target)) continue
      path.push(target)
      next.push(0)
      onPath.add(target)
    }
  }
  return undefined
}

/** Far above any kube-proxy table (a packet takes a handful of jumps), far below a hang. */
export const maxJumpsPerHook = 100_000

/** One hook's walk took more jumps than maxJumpsPerHook: the table's jumps fan out exponentially. */
export class RuleWalkLimitError extends InputError {
  constructor(table: string, hook: string, limit: number) {
    super({ object: `table ${table}` }, `rule walk from ${hook} took more than ${limit} jumps: the jumps fan out (a chain jumps to the same chain several times, at several levels)`, {
      hint: 'a kube-proxy table never does this; check the dump',
    })
    this.name = 'RuleWalkLimitError'
  }
}
