/**
 * Explore mode (`kpe trace`): follows every branch of every probabilistic match and returns
 * all outcomes with their probabilities, in chain order (the matching branch first). Paths are
 * enumerated by replaying the walk with a script of earlier decisions, so the walk itself stays
 * a plain single-path function. `recent` lists are read from a given snapshot (default empty)
 * and never changed: what a walk would change is reported in Outcome.recent.
 */
import type { RuleTable } from '../types.js'
import type { CompiledRules } from './compiled.js'
import { compile } from './compile-table.js'
import { compileNodeContext, newPacketState } from './packet-state.js'
import type { RecentState } from './recent-table.js'
import { checkRecent } from './recent-table.js'
import { runHooks, toOutcome } from './run-hooks.js'
import type { NodeContext, Origin, Outcome, Packet } from './types.js'
import type { WalkEnv } from './walk-env.js'

export interface ExploreOptions {
  readonly origin: Origin
  /** `recent` lists as they stand, and the time to judge --seconds against (ms). */
  readonly recent?: { readonly state: RecentState; readonly now: number }
  /** Stop after this many outcomes (default 10,000); the result then says `truncated`. */
  readonly maxOutcomes?: number
  /** Walk without dispatch indexes (for checking that indexed and linear walks agree). */
  readonly linear?: boolean
}

export interface ExploreResult {
  readonly outcomes: readonly Outcome[]
  readonly truncated: boolean
}

export function explore(rules: RuleTable | CompiledRules, packet: Packet, ctx: NodeContext, opts: ExploreOptions): ExploreResult {
  const compiled = 'tables' in rules ? compile(rules) : rules
  const node = compileNodeContext(ctx)
  const max = opts.maxOutcomes ?? 10_000
  const outcomes: Outcome[] = []
  const pending: boolean[][] = [[]]
  while (pending.length > 0) {
    if (outcomes.length >= max) return { outcomes, truncated: true }
    const script = pending.pop()!
    const taken: boolean[] = []
    let probability = 1
    const branch = (p: number): boolean => {
      if (p >= 1) return true
      if (p <= 0) return false
      const pos = taken.length
      const take = pos < script.length ? script[pos]! : true
      if (pos >= script.length) pending.push([...taken, false])
      taken.push(take)
      probability *= take ? p : 1 - p
      return take
    }
    const env: WalkEnv = {
      pkt: newPacketState(packet),
      node,
      useIndex: opts.linear !== true,
      choose: branch,
      nth: (m) => branch(1 / m.every),
      recent: (m) => checkRecent(opts.recent?.state, m, env.pkt.src, env.pkt.dst, opts.recent?.now ?? 0, false, env.recentEffects),
      hops: [],
      unmodelled: [],
      recentEffects: [],
      decidedAt: undefined,
      rejectWith: undefined,
    }
    outcomes.push(toOutcome(env, runHooks(compiled, env, opts.origin), probability))
  }
  return { outcomes, truncated: false }
}
