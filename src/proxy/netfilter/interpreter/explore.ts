/**
 * Explore mode (`kpe trace`): follows every branch of every probabilistic match and returns
 * all outcomes with their probabilities, in chain order (the matching branch first). Paths are
 * enumerated by replaying the walk with a script of earlier decisions, so the walk itself stays
 * a plain single-path function. `recent` lists are read from a given snapshot (default empty)
 * and never changed: what a walk would change is reported in Outcome.recent.
 */
import type { RuleTable } from '../types.js'
import type { CompiledMatch, CompiledRules } from './compiled.js'
import { compile } from './compile-table.js'
import { compileNodeContext } from './packet-state.js'
import type { CompiledNodeContext } from './packet-state.js'
import type { RecentMatch } from './recent-table.js'
import { checkRecent } from './recent-table.js'
import { runHooks, toOutcome } from './run-hooks.js'
import type { NodeContext, Origin, Outcome, Packet } from './types.js'
import { WalkEnv } from './walk-env.js'
import type { RecentState } from './recent-table.js'

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

/** One path per walk: branches follow `script`, and each new branch queues its other side. */
class ExploreEnv extends WalkEnv {
  readonly pending: boolean[][] = [[]]
  script: boolean[] = []
  taken: boolean[] = []
  probability = 1

  constructor(readonly recentSnapshot: ExploreOptions['recent']) {
    super()
  }

  start(packet: Packet, node: CompiledNodeContext, linear: boolean, script: boolean[]): void {
    this.begin(packet, node, !linear, true)
    this.script = script
    this.taken = []
    this.probability = 1
  }

  choose(p: number): boolean {
    if (p >= 1) return true
    if (p <= 0) return false
    const pos = this.taken.length
    const take = pos < this.script.length ? this.script[pos]! : true
    if (pos >= this.script.length) this.pending.push([...this.taken, false])
    this.taken.push(take)
    this.probability *= take ? p : 1 - p
    return take
  }

  nth(m: Extract<CompiledMatch, { k: 'nth' }>): boolean {
    return this.choose(1 / m.every)
  }

  recent(m: RecentMatch): boolean {
    const r = this.recentSnapshot
    return checkRecent(r?.state, m, this.src, this.dst, r?.now ?? 0, false, (this.recentEffects ??= []))
  }
}

export function explore(rules: RuleTable | CompiledRules, packet: Packet, ctx: NodeContext, opts: ExploreOptions): ExploreResult {
  const compiled = 'tables' in rules ? compile(rules) : rules
  const node = compileNodeContext(ctx)
  const max = opts.maxOutcomes ?? 10_000
  const outcomes: Outcome[] = []
  const env = new ExploreEnv(opts.recent)
  while (env.pending.length > 0) {
    if (outcomes.length >= max) return { outcomes, truncated: true }
    env.start(packet, node, opts.linear === true, env.pending.pop()!)
    outcomes.push(toOutcome(compiled.program, env, runHooks(compiled.program, env, opts.origin), env.probability))
  }
  return { outcomes, truncated: false }
}
