/**
 * Small constructors for nftables rule parts, so the builders read like upstream's Concat calls
 * while producing typed values. No text is produced here.
 */
import type { ChainName } from '../../net/index.js'
import type { LocalDetector } from '../model/index.js'
import type { NftMatch, NftRule, NftStatement, NftVerdict } from './types.js'

export function nftRule(parts: { matches?: readonly NftMatch[]; statements?: readonly NftStatement[]; verdict?: NftVerdict; comment?: string }): NftRule {
  return {
    matches: parts.matches ?? [],
    statements: parts.statements ?? [],
    ...(parts.verdict ? { verdict: parts.verdict } : {}),
    ...(parts.comment !== undefined ? { comment: parts.comment } : {}),
  }
}

export const ctStateNew: NftMatch = { kind: 'ct-state', states: ['new'] }

export function jump(chain: ChainName): NftVerdict {
  return { kind: 'jump', chain }
}

export function goto(chain: ChainName): NftVerdict {
  return { kind: 'goto', chain }
}

export function addrIs(side: 'saddr' | 'daddr', address: string, negated?: boolean): NftMatch {
  return { kind: 'addr', side, value: { kind: 'address', address }, ...(negated ? { negated: true as const } : {}) }
}

export function addrInSet(side: 'saddr' | 'daddr', set: string): NftMatch {
  return { kind: 'addr', side, value: { kind: 'set-ref', set } }
}

/** `ip daddr . meta l4proto . th dport vmap @map` */
export function addrProtoPortVmap(map: string): NftVerdict {
  return { kind: 'vmap', key: ['daddr', 'l4proto', 'dport'], map }
}

/** `meta l4proto . th dport vmap @map` */
export function protoPortVmap(map: string): NftVerdict {
  return { kind: 'vmap', key: ['l4proto', 'dport'], map }
}

/** Upstream's LocalTrafficDetector IfLocalNFT / IfNotLocalNFT; undefined when none is configured. */
export function localTrafficMatch(d: LocalDetector, side: 'local' | 'not-local'): NftMatch | undefined {
  const negated = side === 'not-local'
  switch (d.kind) {
    case 'cidr': {
      const cidr = d.cidrs[0]
      return cidr === undefined ? undefined : addrIs('saddr', cidr, negated)
    }
    case 'bridge-interface':
      return { kind: 'iifname', name: d.name, ...(negated ? { negated: true as const } : {}) }
    case 'interface-name-prefix':
      return { kind: 'iifname', name: `${d.prefix}*`, ...(negated ? { negated: true as const } : {}) }
    case 'none':
      return undefined
  }
}
