/**
 * Folds explore outcomes into upstream's flow-test answer: the distinct endpoint / verdict
 * labels in outcome (= chain) order joined with ", ", and whether any outcome is masqueraded.
 * An explicit filter ACCEPT reads "ACCEPT"; delivery by policy reads "" (nothing matched).
 */
import { assertNever } from '../../../errors.js'
import type { Verdict } from './types.js'

/**
 * What the fold reads of an outcome: the iptables interpreter's Outcome and the nft
 * interpreter's NftOutcome both fit (nft names its tables freely, so it says the chain type).
 */
export interface LabelledOutcome {
  readonly verdict: Verdict
  readonly masquerade: boolean
  readonly decidedAt?: { readonly table: string; readonly chainType?: string }
}

export function outcomeLabel(o: LabelledOutcome): string {
  switch (o.verdict.kind) {
    case 'dnat':
      return o.verdict.to
    case 'drop':
      return 'DROP'
    case 'reject':
      return 'REJECT'
    case 'accept':
      return (o.decidedAt?.chainType ?? o.decidedAt?.table) === 'filter' ? 'ACCEPT' : ''
    default:
      return assertNever(o.verdict)
  }
}

export function summarizeLikeUpstream(outcomes: readonly LabelledOutcome[]): { readonly output: string; readonly masq: boolean } {
  const labels: string[] = []
  for (const o of outcomes) {
    const l = outcomeLabel(o)
    if (l !== '' && !labels.includes(l)) labels.push(l)
  }
  return { output: labels.join(', '), masq: outcomes.some((o) => o.masquerade) }
}
