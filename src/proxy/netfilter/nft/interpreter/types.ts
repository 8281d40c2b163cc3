/**
 * The nft interpreter's vocabulary: where a rule sits, what a walk records, and its outcome.
 * Packets, node context, verdicts and routes are the iptables interpreter's (one set of
 * answers for every executor); only rule locations differ, since nft names tables freely.
 */
import type { Packet, Route, Verdict } from '../../interpreter/index.js'
import type { NftElementDef, NftRuleDef } from '../types.js'

/** `ip kube-proxy`, chain, 1-based rule number. */
export interface NftRuleLocation {
  readonly table: string
  readonly chain: string
  readonly rule: number
  /** The type of the base chain whose walk reached the rule (`filter` or `nat`). */
  readonly chainType: 'filter' | 'nat' | 'route'
}

/** A rule that matched and applied its statements or verdict. */
export interface NftHop extends NftRuleLocation {
  readonly ruleRef: NftRuleDef
  /** Always true: only rules that matched are recorded (the iptables Hop's field, for shared readers). */
  readonly matched: true
  /** For `numgen … vmap`: the branch taken (0-based) out of `of`. */
  readonly branch?: { readonly taken: number; readonly of: number }
  /** For a verdict-map lookup: the map and the element that matched. */
  readonly element?: { readonly map: string; readonly element: NftElementDef }
}

export interface NftUnmodelled extends NftRuleLocation {
  readonly what: string
}

/** A dynamic set (affinity) change a walk made (sample) or would make (explore). */
export interface NftSetEffect {
  readonly table: string
  readonly set: string
  readonly key: string
  readonly op: 'update' | 'add'
}

export interface NftOutcome {
  readonly probability: number
  readonly verdict: Verdict
  readonly route?: Route
  /** True when a postrouting `masquerade` applied. */
  readonly masquerade: boolean
  readonly snatTo?: string
  /** The rule that decided (drop, reject, an explicit accept); absent for a policy. */
  readonly decidedAt?: NftRuleLocation & { readonly table: string }
  readonly mark: number
  readonly hops: readonly NftHop[]
  readonly unmodelled: readonly NftUnmodelled[]
  readonly setEffects: readonly NftSetEffect[]
}

export type { Packet }
