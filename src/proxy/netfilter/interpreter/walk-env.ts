/**
 * What one walk carries besides the packet: how branching matches decide (explore script or
 * random draws), the `recent` and `nth` state, and what is being recorded (hops, unmodelled
 * conditions). Explore and sample modes differ only in the WalkEnv they build.
 */
import type { CompiledMatch } from './compiled.js'
import type { CompiledNodeContext, PacketState } from './packet-state.js'
import type { RecentMatch } from './recent-table.js'
import type { Hop, RecentEffect, RuleLocation, Unmodelled } from './types.js'

export interface WalkEnv {
  readonly pkt: PacketState
  readonly node: CompiledNodeContext
  readonly useIndex: boolean
  /** Decides a `statistic --mode random` match with probability p. */
  choose(p: number): boolean
  /** Decides a `statistic --mode nth` match. */
  nth(m: Extract<CompiledMatch, { k: 'nth' }>): boolean
  /** Decides a `recent` match (and applies or records its effect). */
  recent(m: RecentMatch): boolean
  /** Recorded only when defined. */
  readonly hops: Hop[] | undefined
  readonly unmodelled: Unmodelled[]
  readonly recentEffects: RecentEffect[]
  /** Where the current hook's verdict was decided (a rule), if not by policy. */
  decidedAt: RuleLocation | undefined
  rejectWith: string | undefined
}
