/**
 * `kpe trace` as a pure function: explore a packet through a node's rules and explain each
 * outcome in Kubernetes terms (which pod, masqueraded to what, why dropped or rejected).
 */
import type { EndpointSlice } from '../../api/index.js'
import { assertNever } from '../../errors.js'
import { renderRuleArgs, renderTargetArgs, explore, summarizeLikeUpstream, type Hop, type NodeContext, type Outcome, type Packet, type RuleTable } from '../netfilter/index.js'
import type { Origin } from '../netfilter/index.js'
import type { ExplainRule } from './rule-meaning.js'

export interface HopView {
  readonly table: string
  readonly chain: string
  readonly rule: number
  readonly comment: string | undefined
  /** The decisive condition: the branch taken or the match that failed. */
  readonly decisive: string | undefined
  readonly target: string
  readonly matched: boolean
}

export interface OutcomeView {
  readonly probability: number
  readonly verdict: 'DNAT' | 'ACCEPT' | 'DROP' | 'REJECT'
  readonly endpoint: string | undefined
  readonly pod: string | undefined
  readonly masquerade: boolean
  /** The source address the pod sees. */
  readonly seenSource: string | undefined
  readonly reason: string
  readonly hops: readonly HopView[]
  readonly unmodelled: readonly string[]
}

export interface TraceReport {
  readonly node: string
  readonly origin: Origin
  readonly packet: Packet
  readonly from: string
  readonly to: string
  /** Hops every outcome shares, then each outcome's own. */
  readonly commonHops: readonly HopView[]
  readonly outcomes: readonly OutcomeView[]
  /** Upstream tracer's format: sorted endpoints in chain order, DROP, REJECT or "". */
  readonly output: string
  readonly masq: boolean
}

export interface TraceContext {
  readonly node: string
  readonly ctx: NodeContext
  readonly origin: Origin
  readonly from: string
  readonly to: string
  /** Where a DNAT target lives: endpoint address -> "pod ns/name (node)". */
  readonly podOf: (address: string) => string | undefined
  /** The address MASQUERADE picks toward an endpoint address on this node. */
  readonly masqueradeAddress: (endpointAddress: string) => string | undefined
  /** What a deciding rule means: from the builder's origins, or from a dump's comments (dump-comments.ts). */
  readonly explain: ExplainRule
}

export function traceRules(table: RuleTable, packet: Packet, tc: TraceContext): TraceReport {
  const { outcomes } = explore(table, packet, tc.ctx, { origin: tc.origin })
  const views = outcomes.map((o) => outcomeView(o, packet, tc))
  const common = commonPrefix(views.map((v) => v.hops))
  const upstream = summarizeLikeUpstream(outcomes)
  return {
    node: tc.node,
    origin: tc.origin,
    packet,
    from: tc.from,
    to: tc.to,
    commonHops: views[0]?.hops.slice(0, common) ?? [],
    outcomes: views.map((v) => ({ ...v, hops: v.hops.slice(common) })),
    output: upstream.output,
    masq: upstream.masq,
  }
}

/** How many leading hops every outcome shares (shown once, before the outcomes). */
export function commonPrefix(lists: readonly (readonly HopView[])[]): number {
  if (lists.length <= 1) return lists[0]?.length ?? 0
  let n = 0
  const same = (a: HopView, b: HopView): boolean => a.table === b.table && a.chain === b.chain && a.rule === b.rule && a.matched === b.matched && a.decisive === b.decisive
  while (lists.every((l) => l[n] !== undefined && same(l[n]!, lists[0]![n]!))) n++
  return n
}

function hopView(h: Hop): HopView {
  const comment = h.ruleRef.matches.find((m) => m.kind === 'comment')
  const decisiveMatch = h.decidedBy !== undefined ? h.ruleRef.matches[h.decidedBy] : undefined
  const decisive = decisiveMatch
    ? renderRuleArgs({ matches: [decisiveMatch] }).trim()
    : renderRuleArgs({ matches: h.ruleRef.matches.filter((m) => m.kind !== 'comment' && m.kind !== 'l4-module') }).trim() || undefined
  return {
    table: h.table,
    chain: h.chain,
    rule: h.rule,
    comment: comment?.kind === 'comment' ? comment.text : undefined,
    decisive,
    target: h.ruleRef.target ? renderTargetArgs(h.ruleRef.target).trim() : '(no target)',
    matched: h.matched,
  }
}

/**
 * A DNAT outcome as a person reads it, in either mode: the endpoint, its pod, and the source the
 * pod sees (the client's address, or the one masquerading picks).
 */
export function dnatView(
  verdict: { readonly to: string; readonly address: string },
  o: { readonly masquerade: boolean; readonly snatTo?: string | undefined },
  packet: Packet,
  tc: Pick<TraceContext, 'podOf' | 'masqueradeAddress'>,
): Pick<OutcomeView, 'verdict' | 'endpoint' | 'pod' | 'seenSource' | 'reason'> {
  const seen = o.masquerade ? o.snatTo ?? tc.masqueradeAddress(verdict.address) : packet.src
  return {
    verdict: 'DNAT',
    endpoint: verdict.to,
    pod: tc.podOf(verdict.address),
    seenSource: seen,
    reason: o.masquerade ? `masqueraded: the pod sees ${seen ?? "the node's address"}` : `not masqueraded: the pod sees the client address ${packet.src}`,
  }
}

/** Jumps into chains where nothing happened (no rule of that chain shaped the path) are noise. */
function shapingHops(hops: readonly Hop[]): Hop[] {
  return hops.filter((h, i) => {
    const t = h.ruleRef.target
    if (!h.matched || (t?.kind !== 'jump' && t?.kind !== 'goto')) return true
    const next = hops[i + 1]
    return next !== undefined && next.table === h.table && next.chain === t.chain
  })
}

function outcomeView(o: Outcome, packet: Packet, tc: TraceContext): OutcomeView {
  const hops = shapingHops(o.hops).map(hopView)
  const unmodelled = o.unmodelled.map((u) => `${u.table} ${u.chain} #${u.rule}: ${u.what}`)
  const base = { probability: o.probability, masquerade: o.masquerade, hops, unmodelled }
  switch (o.verdict.kind) {
    case 'dnat':
      return { ...base, ...dnatView(o.verdict, o, packet, tc) }
    case 'drop':
    case 'reject': {
      const verdict = o.verdict.kind === 'drop' ? 'DROP' : 'REJECT'
      return { ...base, verdict, endpoint: undefined, pod: undefined, seenSource: undefined, reason: denyReason(o, packet, tc) }
    }
    case 'accept':
      return {
        ...base,
        verdict: 'ACCEPT',
        endpoint: undefined,
        pod: undefined,
        seenSource: undefined,
        reason: o.decidedAt?.table === 'filter'
          ? `accepted by ${o.decidedAt.chain} #${o.decidedAt.rule}${commentAt(o) ? ` (${commentAt(o)})` : ''}`
          : 'no kube-proxy rule matched: the packet is delivered unchanged (no Service answers on this address and port)',
      }
    default:
      return assertNever(o.verdict)
  }
}

function decidingRule(o: Outcome): Hop['ruleRef'] | undefined {
  const at = o.decidedAt
  return at ? o.hops.find((h) => h.table === at.table && h.chain === at.chain && h.rule === at.rule)?.ruleRef : undefined
}

/** The deciding rule's comment, shown as the rule's own words (never parsed for meaning here). */
function commentAt(o: Outcome): string | undefined {
  const c = decidingRule(o)?.matches.find((m) => m.kind === 'comment')
  return c?.kind === 'comment' ? c.text : undefined
}

/** DROP/REJECT explained from the deciding rule's meaning, in the words a Service owner uses. */
function denyReason(o: Outcome, packet: Packet, tc: TraceContext): string {
  const rule = decidingRule(o)
  const meaning = rule && o.decidedAt ? tc.explain(rule, o.decidedAt.chain) : undefined
  const svc = meaning?.servicePort ?? ''
  switch (meaning?.role) {
    case 'reject-no-endpoints':
      return `service ${svc} has no ready endpoints: connection refused`
    case 'drop-no-local-endpoints':
      return `${meaning.internal ? 'internalTrafficPolicy' : 'externalTrafficPolicy'} Local and no local endpoints for ${svc} on ${tc.node}`
    case 'firewall-drop':
      return `source ${packet.src} not in loadBalancerSourceRanges of ${svc}`
    default:
      break
  }
  const comment = commentAt(o)
  if (o.decidedAt) return `${o.decidedAt.table} ${o.decidedAt.chain} rule ${o.decidedAt.rule}${comment ? ` ("${comment}")` : ''}`
  return `the ${o.route ?? ''} chain's policy`
}

/** endpoint address -> "pod ns/name on node" from EndpointSlice targetRefs. */
export function podIndex(slices: readonly EndpointSlice[]): (address: string) => string | undefined {
  const map = new Map<string, string>()
  for (const s of slices) {
    for (const e of s.endpoints ?? []) {
      const ref = e.targetRef
      if (ref?.kind !== 'Pod' || !ref.name) continue
      for (const a of e.addresses) map.set(a, `pod ${ref.namespace ?? s.metadata.namespace}/${ref.name}${e.nodeName ? ` on ${e.nodeName}` : ''}`)
    }
  }
  return (address) => map.get(address)
}

