/** Small constructors for the matches and targets kube-proxy writes, in its argument order. */
import type { ChainName, L4Proto } from '../../net/index.js'
import type { Match, Rule, Target } from '../netfilter/index.js'

export const comment = (text: string): Match => ({ kind: 'comment', text })
const protoMatches: Readonly<Record<L4Proto, readonly [Match, Match]>> = {
  tcp: [{ kind: 'l4-module', proto: 'tcp' }, { kind: 'protocol', proto: 'tcp' }],
  udp: [{ kind: 'l4-module', proto: 'udp' }, { kind: 'protocol', proto: 'udp' }],
  sctp: [{ kind: 'l4-module', proto: 'sctp' }, { kind: 'protocol', proto: 'sctp' }],
}
/** `-m tcp -p tcp`: kube-proxy always names the module before the protocol. Shared, immutable values. */
export const protoMatch = (proto: L4Proto): readonly [Match, Match] => protoMatches[proto]
export const dst = (address: string, negated?: true): Match => (negated ? { kind: 'destination', address, negated } : { kind: 'destination', address })
export const src = (address: string, negated?: true): Match => (negated ? { kind: 'source', address, negated } : { kind: 'source', address })
export const dport = (port: number): Match => ({ kind: 'dport', port: { from: port } })
export const dstTypeLocal: Match = { kind: 'addrtype', dst: { type: 'LOCAL' } }
export const srcTypeLocal: Match = { kind: 'addrtype', src: { type: 'LOCAL' } }
export const jump = (chain: ChainName): Target => ({ kind: 'jump', chain })
export const verdict = (v: 'ACCEPT' | 'DROP' | 'RETURN'): Target => ({ kind: 'verdict', verdict: v })
export const filterTarget = (v: 'REJECT' | 'DROP'): Target => (v === 'REJECT' ? { kind: 'reject' } : verdict('DROP'))

export function rule(matches: readonly Match[], target?: Target): Rule {
  return target === undefined ? { matches } : { matches, target }
}
