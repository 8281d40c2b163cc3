/**
 * The typed nftables ruleset model, in knftables' shape: one table holding chains (base chains
 * with type/hook/priority), rules, sets and verdict maps with their elements. Values only; the
 * renderer is the one place that prints them. Knows nftables, not Services.
 */
import type { ChainName, L4Proto } from '../../net/index.js'
import type { MarkValue } from '../netfilter/index.js'

/** `ip` (IPv4 proxier) or `ip6` (IPv6 proxier). */
export type NftFamily = 'ip' | 'ip6'

export interface NftTable {
  readonly name: string
  readonly comment?: string
}

export type NftChainType = 'filter' | 'nat'
export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting'

export interface NftBaseChainSpec {
  readonly type: NftChainType
  readonly hook: NftHook
  /** Numeric, as knftables prints it (`dstnat-10` is -110). */
  readonly priority: number
}

export interface NftChain {
  readonly name: ChainName
  readonly base?: NftBaseChainSpec
  readonly comment?: string
  readonly rules: readonly NftRule[]
  /** A flushed chain no Service uses, kept (empty) until it ages out (stale-chains.ts). */
  readonly stale?: true
}

/** An address, a CIDR, a named set, or an anonymous set of either. */
export type NftAddrValue =
  | { readonly kind: 'address'; readonly address: string }
  | { readonly kind: 'set-ref'; readonly set: string }
  /** `{ A , B }`; `compact` prints `{ A,B }` as upstream's cluster-ips-check rule does */
  | { readonly kind: 'anonymous-set'; readonly items: readonly string[]; readonly compact?: true }

/** A key part of a concatenated lookup: `ip daddr . meta l4proto . th dport`. */
export type NftKeyField = 'daddr' | 'l4proto' | 'dport'

export type NftMatch =
  /** `ip saddr X`, `ip6 daddr != { A , B }`, `ip daddr @set` */
  | { readonly kind: 'addr'; readonly side: 'saddr' | 'daddr'; readonly value: NftAddrValue; readonly negated?: true }
  /** `ct state new` */
  | { readonly kind: 'ct-state'; readonly states: readonly ('new' | 'established' | 'related' | 'invalid')[] }
  /** `fib saddr type local` / `fib daddr type local` */
  | { readonly kind: 'fib-local'; readonly side: 'saddr' | 'daddr' }
  /** `iifname eth0` / `iifname != veth*` (a trailing `*` is a prefix match) */
  | { readonly kind: 'iifname'; readonly name: string; readonly negated?: true }
  /** `meta l4proto tcp` */
  | { readonly kind: 'l4proto'; readonly proto: L4Proto }
  /** `mark and M == 0` */
  | { readonly kind: 'mark-clear'; readonly mask: MarkValue }
  /** Printed as is; executors must report it, never guess. */
  | { readonly kind: 'tokens'; readonly tokens: readonly string[] }

export type NftStatement =
  /** `mark set mark or V` / `mark set mark xor V` */
  | { readonly kind: 'mark-set'; readonly op: 'or' | 'xor'; readonly value: MarkValue }
  /** `update @set { ip saddr }` */
  | { readonly kind: 'set-update'; readonly set: string; readonly key: 'saddr' }
  /** `masquerade fully-random` */
  | { readonly kind: 'masquerade'; readonly fullyRandom: boolean }
  /** `dnat to 10.0.1.1:80` / `dnat to [fd00::1]:80` */
  | { readonly kind: 'dnat'; readonly to: string }

export type NftVerdict =
  | { readonly kind: 'jump' | 'goto'; readonly chain: ChainName }
  | { readonly kind: 'accept' | 'drop' | 'reject' | 'return' }
  /** `KEY vmap @map`: look the packet up in a verdict map */
  | { readonly kind: 'vmap'; readonly key: readonly NftKeyField[]; readonly map: string }
  /** `numgen random mod N vmap { 0 : goto A , 1 : goto B }` */
  | { readonly kind: 'numgen-vmap'; readonly targets: readonly ChainName[] }

export interface NftRule {
  readonly matches: readonly NftMatch[]
  readonly statements: readonly NftStatement[]
  readonly verdict?: NftVerdict
  readonly comment?: string
}

export type NftElementKeyPart =
  | { readonly kind: 'address'; readonly address: string }
  | { readonly kind: 'proto'; readonly proto: L4Proto }
  | { readonly kind: 'port'; readonly port: number }

/** The value of a verdict-map element. */
export type NftElementVerdict = { readonly kind: 'goto'; readonly chain: ChainName } | { readonly kind: 'drop' }

export interface NftSetElement {
  readonly key: readonly NftElementKeyPart[]
  readonly comment?: string
}

export interface NftMapElement extends NftSetElement {
  readonly value: NftElementVerdict
}

export type NftDataType = 'ipv4_addr' | 'ipv6_addr' | 'inet_proto' | 'inet_service'

export interface NftSet {
  readonly name: string
  readonly type: readonly NftDataType[]
  readonly flags?: readonly ('dynamic' | 'timeout')[]
  readonly timeoutSeconds?: number
  readonly comment?: string
  readonly elements: readonly NftSetElement[]
}

/** A verdict map: concatenated key types to `verdict`. */
export interface NftMap {
  readonly name: string
  readonly keyType: readonly NftDataType[]
  readonly comment?: string
  readonly elements: readonly NftMapElement[]
}

/** One table's complete contents: what a full-sync transaction on a fresh node creates. */
export interface NftRuleset {
  readonly family: NftFamily
  readonly table: NftTable
  readonly chains: readonly NftChain[]
  readonly sets: readonly NftSet[]
  readonly maps: readonly NftMap[]
}
