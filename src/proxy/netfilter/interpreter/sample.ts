/**
 * Sample mode (the userspace proxy): one outcome per new connection, drawn with the injected
 * RandomSource, with `recent` lists and `nth` counters updated in the caller's state as the
 * kernel would. Records hops only when asked; otherwise a walk allocates only its Outcome.
 */
import type { CompiledMatch, CompiledRules } from './compiled.js'
import { compileNodeContext } from './packet-state.js'
import type { RecentMatch, RecentState } from './recent-table.js'
import { checkRecent, createRecentState } from './recent-table.js'
import { runHooks, toOutcome } from './run-hooks.js'
import type { Clock, NodeContext, Origin, Outcome, Packet, RandomSource } from './types.js'
import { WalkEnv } from './walk-env.js'

/** What survives between connections: `recent` lists and `statistic --mode nth` counters. */
export interface InterpreterState {
  readonly recent: RecentState
  /** Counter per nth match id (see CompiledMatch 'nth'); created on first use. */
  readonly nth: Map<number, number>
}

export function createInterpreterState(): InterpreterState {
  return { recent: createRecentState(), nth: new Map() }
}

export interface SampleOptions {
  readonly origin: Origin
  readonly state: InterpreterState
  readonly random: RandomSource
  readonly clock: Clock
  /** Record hops (default false). */
  readonly trace?: boolean
  readonly linear?: boolean
}

class SampleEnv extends WalkEnv {
  state!: InterpreterState
  random!: RandomSource
  clock!: Clock
  probability = 1
  /** The clock is read once per walk, and only if a `recent` match needs it. */
  now: number | undefined = undefined

  start(packet: Packet, ctx: NodeContext, opts: SampleOptions): void {
    this.begin(packet, compileNodeContext(ctx), opts.linear !== true, opts.trace === true)
    this.state = opts.state
    this.random = opts.random
    this.clock = opts.clock
    this.probability = 1
    this.now = undefined
  }

  choose(p: number): boolean {
    const take = this.random.next() < p
    this.probability *= take ? p : 1 - p
    return take
  }

  /** xt_statistic nth: the counter starts at --packet and the match fires when it wraps to 0. */
  nth(m: Extract<CompiledMatch, { k: 'nth' }>): boolean {
    const old = this.state.nth.get(m.id) ?? m.packet
    const next = old >= m.every - 1 ? 0 : old + 1
    this.state.nth.set(m.id, next)
    return next === 0
  }

  recent(m: RecentMatch): boolean {
    return checkRecent(this.state.recent, m, this.src, this.dst, (this.now ??= this.clock.now()), true, (this.recentEffects ??= []))
  }
}

/** The env the next sample reuses; taken while a walk runs, so a nested call gets its own. */
let spare: SampleEnv | undefined

export function sample(rules: CompiledRules, packet: Packet, ctx: NodeContext, opts: SampleOptions): Outcome {
  const env = spare ?? new SampleEnv()
  spare = undefined
  try {
    env.start(packet, ctx, opts)
    return toOutcome(rules.program, env, runHooks(rules.program, env, opts.origin), env.probability)
  } finally {
    // Drop what the outcome holds or the caller passed, so the spare keeps nothing alive.
    env.hops = env.unmodelled = env.recentEffects = undefined
    spare = env
  }
}
