/**
 * `kpe trace` in nftables mode: explore a packet through a node's nftables rules with the nft
 * interpreter and explain each outcome in the same TraceReport as iptables mode, so the text,
 * the JSON and upstream's `output`/`masq` answer read the same in both modes.
 */
import { compileNft, exploreNft, renderNftRule, renderNftVerdict, summarizeLikeUpstream, type NftDocument, type NftHop, type NftOutcome, type Packet } from '../netfilter/index.js'
import { nftDenyReason } from './nft-meaning.js'
import { commonPrefix, dnatView, type HopView, type OutcomeView, type TraceContext, type TraceReport } from './trace.js'

export type NftTraceContext = Omit<TraceContext, 'explain'>

function hopView(h: NftHop): HopView {
  const last = h.ruleRef.exprs[h.ruleRef.exprs.length - 1]
  const body = renderNftRule({ exprs: h.element || h.branch || last?.kind === 'verdict' ? h.ruleRef.exprs.slice(0, -1) : h.ruleRef.exprs })
  const target = h.element?.element.verdict
    ? `${h.element.element.key.join(' . ')} : ${renderNftVerdict(h.element.element.verdict)}`
    : h.branch
      ? `numgen branch ${h.branch.taken} of ${h.branch.of}`
      : last?.kind === 'verdict' ? renderNftVerdict(last.verdict) : renderNftRule({ exprs: last ? [last] : [] })
  return {
    table: h.chainType,
    chain: h.chain,
    rule: h.rule,
    comment: h.ruleRef.comment ?? h.element?.element.comment,
    decisive: body === '' ? undefined : body,
    target,
    matched: true,
  }
}

/** A jump or goto into a chain where nothing then matched is noise. */
function shapingHops(hops: readonly NftHop[]): NftHop[] {
  return hops.filter((h, i) => {
    const last = h.ruleRef.exprs[h.ruleRef.exprs.length - 1]
    if (last?.kind !== 'verdict' || (last.verdict.kind !== 'jump' && last.verdict.kind !== 'goto')) return true
    const next = hops[i + 1]
    return next !== undefined && next.table === h.table && next.chain === last.verdict.chain
  })
}

function outcomeView(o: NftOutcome, packet: Packet, tc: NftTraceContext, doc: NftDocument): OutcomeView {
  const hops = shapingHops(o.hops).map(hopView)
  const unmodelled = o.unmodelled.map((u) => `${u.table} ${u.chain} #${u.rule}: ${u.what}`)
  const base = { probability: o.probability, masquerade: o.masquerade, hops, unmodelled, endpoint: undefined, pod: undefined, seenSource: undefined }
  switch (o.verdict.kind) {
    case 'dnat':
      return { ...base, ...dnatView(o.verdict, o, packet, tc) }
    case 'drop':
    case 'reject':
      return { ...base, verdict: o.verdict.kind === 'drop' ? 'DROP' : 'REJECT', reason: nftDenyReason(o, packet, tc.node, doc) }
    case 'accept':
      return {
        ...base,
        verdict: 'ACCEPT',
        reason: o.decidedAt?.chainType === 'filter'
          ? `accepted by ${o.decidedAt.chain} #${o.decidedAt.rule}`
          : 'no kube-proxy rule matched: the packet is delivered unchanged (no Service answers on this address and port)',
      }
  }
}

export function traceNftRules(doc: NftDocument, packet: Packet, tc: NftTraceContext): TraceReport {
  const { outcomes } = exploreNft(compileNft(doc), packet, tc.ctx, { origin: tc.origin })
  const views = outcomes.map((o) => outcomeView(o, packet, tc, doc))
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
