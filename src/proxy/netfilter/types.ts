/**
 * The typed netfilter rule model shared by every builder, renderer, parser and executor.
 * A rule is a value until a renderer prints it. Matches keep their order because argument
 * order is part of byte-for-byte fidelity. Knows rules, not Services.
 */
import type { ChainName, IPFamily, L4Proto, MarkValue } from '../../net/index.js'

// The mark value lives in net/ because the proxy model's config carries one too, and model/ is
// above netfilter/; rules keep importing it from here.
export type { MarkValue }

/** An address or CIDR as written in a rule (`10.0.0.1`, `10.0.0.0/8`, `fd00::1/128`). */
export type AddressSpec = string

export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED' | 'SNAT' | 'DNAT'

export type PortSpec = { readonly from: number; readonly to?: number }

export type Match =
  /** `[!] -s X` / `[!] -d X` */
  | { readonly kind: 'source' | 'destination'; readonly address: AddressSpec; readonly negated?: true }
  /** `[!] -p tcp` */
  | { readonly kind: 'protocol'; readonly proto: L4Proto | 'icmp' | 'ipv6-icmp' | 'all'; readonly negated?: true }
  /** `[!] -i eth0` / `[!] -o eth0` (a trailing `+` is a prefix match) */
  | { readonly kind: 'in-interface' | 'out-interface'; readonly name: string; readonly negated?: true }
  /** `-m tcp` / `-m udp` / `-m sctp`: loads the module; its options follow as separate matches */
  | { readonly kind: 'l4-module'; readonly proto: L4Proto }
  /** `[!] --dport P[:Q]` / `[!] --sport P[:Q]` (options of the preceding l4 module) */
  | { readonly kind: 'dport' | 'sport'; readonly port: PortSpec; readonly negated?: true }
  /** `-m multiport [!] --dports a,b:c` / `--sports` / `--ports` */
  | { readonly kind: 'multiport'; readonly side: 'dports' | 'sports' | 'ports'; readonly ports: readonly PortSpec[]; readonly negated?: true }
  /** `-m comment --comment X` */
  | { readonly kind: 'comment'; readonly text: string }
  /** `-m addrtype [!] --src-type T [!] --dst-type T` */
  | { readonly kind: 'addrtype'; readonly src?: AddrTypeTest; readonly dst?: AddrTypeTest }
  /** `-m statistic --mode random --probability p` (p as printed, e.g. 0.3333333333) */
  | { readonly kind: 'statistic-random'; readonly probability: number }
  /** `-m statistic --mode nth --every n [--packet p]` */
  | { readonly kind: 'statistic-nth'; readonly every: number; readonly packet: number }
  /** `-m recent`: kube-proxy's session affinity lists */
  | {
      readonly kind: 'recent'
      readonly name: string
      readonly op: 'set' | 'rcheck' | 'update' | 'remove'
      readonly seconds?: number
      readonly reap?: true
      readonly hitcount?: number
      /** Non-default mask only; the default is all ones. */
      readonly mask?: string
      readonly side?: 'rdest'
    }
  /** `-m mark [!] --mark V[/M]` */
  | { readonly kind: 'mark'; readonly value: MarkValue; readonly mask?: MarkValue; readonly negated?: true }
  /** `-m conntrack [!] --ctstate A,B` */
  | { readonly kind: 'conntrack'; readonly states: readonly CtState[]; readonly negated?: true }
  /** `-m nfacct --nfacct-name N`: counts, never filters */
  | { readonly kind: 'nfacct'; readonly name: string }
  /** `-m physdev` options, kept as tokens: they depend on bridge ports the interpreter does not model */
  | { readonly kind: 'physdev'; readonly tokens: readonly string[] }
  /** Anything else: a module with its option tokens. Executors must report it, never guess. */
  | { readonly kind: 'unknown'; readonly module: string; readonly tokens: readonly string[] }

export interface AddrTypeTest {
  readonly type: string
  readonly negated?: true
}

export type Target =
  | { readonly kind: 'jump'; readonly chain: ChainName }
  | { readonly kind: 'goto'; readonly chain: ChainName }
  | { readonly kind: 'verdict'; readonly verdict: 'ACCEPT' | 'DROP' | 'RETURN' }
  | { readonly kind: 'reject'; readonly with?: string }
  | { readonly kind: 'dnat'; readonly to: string }
  | { readonly kind: 'snat'; readonly to: string; readonly randomFully?: true }
  | { readonly kind: 'masquerade'; readonly randomFully?: true; readonly toPorts?: string }
  /** `-j MARK --or-mark V` / `--xor-mark V` / `--and-mark V` / `--set-mark V[/M]` / `--set-xmark V[/M]` */
  | { readonly kind: 'mark'; readonly op: 'or' | 'xor' | 'and' | 'set' | 'set-xmark'; readonly value: MarkValue; readonly mask?: MarkValue }
  | { readonly kind: 'unknown'; readonly name: string; readonly tokens: readonly string[] }

export interface Rule {
  readonly matches: readonly Match[]
  /** Optional: upstream's KUBE-FW chain ends with a comment-only rule that has no target. */
  readonly target?: Target
  /** Packet and byte counters, when a dump carried them (`[p:b] -A ...`). */
  readonly counters?: Counters
}

export interface Counters {
  readonly packets: number
  readonly bytes: number
}

export type BuiltinPolicy = 'ACCEPT' | 'DROP'

export interface Chain {
  readonly name: ChainName
  /** Built-in chains have a policy; user chains have none (`-`). */
  readonly policy?: BuiltinPolicy
  readonly counters?: Counters
  readonly rules: readonly Rule[]
}

export type TableName = 'filter' | 'nat' | 'mangle' | 'raw' | 'security'

export interface Table {
  readonly name: TableName
  /** Declared chains in output order; in restore text each declaration flushes the chain. */
  readonly chains: readonly Chain[]
  /** Chains deleted with `-X` after being declared (stale service chains). */
  readonly deletedChains: readonly ChainName[]
}

export interface RuleTable {
  readonly family: IPFamily
  readonly tables: readonly Table[]
}

export const builtinChains: Readonly<Record<TableName, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
}

/** Targets that are not chain names when written as `-j NAME`. */
export const nonChainTargets: ReadonlySet<string> = new Set([
  'ACCEPT', 'DROP', 'RETURN', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'MARK', 'LOG', 'NFLOG', 'CONNMARK', 'TRACE', 'NOTRACK', 'CT',
])
