/**
 * The interpreter's public vocabulary: packets, node context, injected clock and randomness,
 * and the outcomes a walk through nat and filter produces. Data only; no behaviour.
 */
import type { L4Proto } from '../../../net/index.js'
import type { Clock, RandomSource } from '../../../runtime/index.js'
import type { Rule } from '../types.js'

/** The first packet of a new connection. Addresses are text (IPv4 or IPv6). */
export interface Packet {
  readonly src: string
  readonly dst: string
  readonly proto: L4Proto
  readonly dport: number
  readonly sport?: number
  readonly inInterface?: string
  readonly outInterface?: string
  /** Packet mark on arrival; default 0. */
  readonly mark?: number
}

/** What the interpreter needs to know about the node: its own addresses (`--src/dst-type LOCAL`). */
export interface NodeContext {
  readonly localAddresses: ReadonlySet<string>
}

/** `external`: arrives through PREROUTING (a pod or a remote host). `local`: sent by the node (OUTPUT). */
export type Origin = 'external' | 'local'

export type { Clock, RandomSource }

export type HookTable = 'nat' | 'filter'

/** Where a rule sits: table, chain, 1-based rule number. */
export interface RuleLocation {
  readonly table: HookTable
  readonly chain: string
  readonly rule: number
}

/**
 * One rule the walk evaluated and that shaped the path: every rule whose target was applied,
 * and every rule that failed on a probabilistic, `recent` or unmodelled match.
 */
export interface Hop extends RuleLocation {
  readonly ruleRef: Rule
  readonly matched: boolean
  /** Index in `ruleRef.matches` of the match that decided: the failing one, or the branching one taken. */
  readonly decidedBy?: number
}

/** A rule part the interpreter does not evaluate; it was treated as not matching. */
export interface Unmodelled extends RuleLocation {
  readonly what: string
}

export type Verdict =
  | { readonly kind: 'dnat'; readonly to: string; readonly address: string; readonly port?: number }
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'reject'; readonly with?: string }

/** Where the packet goes after the node accepted it. */
export type Route = 'local' | 'forward' | 'output'

/** A change to a `recent` list that a walk made (sample) or would make (explore). */
export interface RecentEffect {
  readonly name: string
  readonly address: string
  readonly op: 'set' | 'update' | 'remove'
}

export interface Outcome {
  readonly probability: number
  readonly verdict: Verdict
  /** Absent when the packet was dropped or rejected. */
  readonly route?: Route
  /** True when nat POSTROUTING applied MASQUERADE or SNAT. */
  readonly masquerade: boolean
  readonly snatTo?: string
  /** The rule that decided the verdict (DROP, REJECT, or an explicit filter ACCEPT); absent for a policy. */
  readonly decidedAt?: RuleLocation
  /** The packet mark when the walk ended. */
  readonly mark: number
  readonly hops: readonly Hop[]
  /** Non-empty means the outcome is uncertain: these conditions were treated as not matching. */
  readonly unmodelled: readonly Unmodelled[]
  readonly recent: readonly RecentEffect[]
}
