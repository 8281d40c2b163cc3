/**
 * Sample mode (the userspace proxy): one outcome per new connection, drawn with the injected
 * RandomSource, with `recent` lists and `nth` counters updated in the caller's state as the
 * kernel would. Records hops only when asked, so the common path allocates almost nothing.
 */
import type { CompiledMatch, CompiledRules } from './compiled.js'
import { compileNodeContext, newPacketState } from './packet-state.js'
import type { RecentState } from './recent-table.js'
import { checkRecent, createRecentState } from './recent-table.js'
import { runHooks, toOutcome } from './run-hooks.js'
import type { Clock, NodeContext, Origin, Outcome, Packet, RandomSource } from './types.js'
import type { WalkEnv } from './walk-env.js'

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

/** xt_statistic nth: the counter starts at --packet and the match fires when it wraps to 0. */
function nthMatches(state: InterpreterState, m: Extract<CompiledMatch, { k: 'nth' }>): boolean {
  const old = state.nth.get(m.id) ?? m.packet
  const next = old >= m.every - 1 ? 0 : old + 1
  state.nth.set(m.id, next)
  return next === 0
}

export function sample(rules: CompiledRules, packet: Packet, ctx: NodeContext, opts: SampleOptions): Outcome {
  const { state, random, clock } = opts
  let probability = 1
  let now: number | undefined
  const env: WalkEnv = {
    pkt: newPacketState(packet),
    node: compileNodeContext(ctx),
    useIndex: opts.linear !== true,
    choose: (p) => {
      const take = random.next() < p
      probability *= take ? p : 1 - p
      return take
    },
    nth: (m) => nthMatches(state, m),
    recent: (m) => checkRecent(state.recent, m, env.pkt.src, env.pkt.dst, (now ??= clock.now()), true, env.recentEffects),
    hops: opts.trace ? [] : undefined,
    unmodelled: [],
    recentEffects: [],
    decidedAt: undefined,
    rejectWith: undefined,
  }
  return toOutcome(env, runHooks(rules, env, opts.origin), probability)
}
