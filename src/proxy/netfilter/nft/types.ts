/**
 * The typed form of nftables text as the parser reads it: tables with base and regular chains,
 * sets and maps (concatenated key types, interval/timeout flags, elements), and rules as lists
 * of typed expressions. Wider than the builder's NftRuleset (any table, family or policy a
 * dump may hold); values only, printed by render-nft.ts and run by the nft interpreter.
 */

export type NftFamilyName = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev'
export type NftHookName = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress'

export interface NftBaseChainDef {
  readonly type: 'filter' | 'nat' | 'route'
  readonly hook: NftHookName
  /** Numeric; `dstnat - 10` in `nft list` output is -110. */
  readonly priority: number
  readonly policy?: 'accept' | 'drop'
}

export interface NftRuleDef {
  readonly exprs: readonly NftExpr[]
  readonly comment?: string
  /** The kernel's rule handle, when the text gave one (`# handle 4` in `nft -a list`). */
  readonly handle?: number
}

export interface NftChainDef {
  readonly name: string
  readonly base?: NftBaseChainDef
  readonly comment?: string
  readonly rules: readonly NftRuleDef[]
}

/** One verdict as rules and verdict-map elements spell it. */
export type NftVerdictDef =
  | { readonly kind: 'accept' | 'drop' | 'return' | 'continue' }
  | { readonly kind: 'reject'; readonly with?: string }
  | { readonly kind: 'jump' | 'goto'; readonly chain: string }

export interface NftElementDef {
  /** The key's concatenated parts as written: `172.30.0.41`, `tcp`, `80`, `10.0.0.0/8`, `1.2.3.4-1.2.3.9`. */
  readonly key: readonly string[]
  /** A map element's value (verdict maps only). */
  readonly verdict?: NftVerdictDef
  readonly comment?: string
  readonly timeoutMs?: number
  readonly expiresMs?: number
}

export interface NftSetDef {
  /** `set` or `map` (a map here always maps to `verdict`, as kube-proxy's do). */
  readonly kind: 'set' | 'map'
  readonly name: string
  readonly keyType: readonly string[]
  readonly flags: readonly string[]
  readonly timeoutMs?: number
  readonly comment?: string
  readonly elements: readonly NftElementDef[]
}

export interface NftTableDef {
  readonly family: NftFamilyName
  readonly name: string
  readonly comment?: string
  readonly sets: readonly NftSetDef[]
  readonly chains: readonly NftChainDef[]
}

/** Everything the text declared, in declaration order. */
export interface NftDocument {
  readonly tables: readonly NftTableDef[]
}

/** A value a rule reads from the packet or its state. */
export type NftSelector =
  | { readonly kind: 'payload'; readonly proto: 'ip' | 'ip6' | 'tcp' | 'udp' | 'sctp' | 'th'; readonly field: 'saddr' | 'daddr' | 'sport' | 'dport' }
  | { readonly kind: 'meta'; readonly key: 'l4proto' | 'mark' | 'iifname' | 'oifname' | 'nfproto' }
  | { readonly kind: 'ct'; readonly key: 'state' | 'status' | 'mark' }
  /** `ct original ip daddr`, `ct original proto-dst` */
  | { readonly kind: 'ct-dir'; readonly dir: 'original' | 'reply'; readonly key: 'saddr' | 'daddr' | 'proto-src' | 'proto-dst'; readonly family?: 'ip' | 'ip6' }
  /** `fib daddr type`: the kernel's address type of the address (we know `local` or not). */
  | { readonly kind: 'fib'; readonly side: 'saddr' | 'daddr' }
  | { readonly kind: 'numgen'; readonly mode: 'random' | 'inc'; readonly mod: number }

/** A key: one selector or a concatenation, optionally masked (`mark and 0x4000`). */
export interface NftKey {
  readonly parts: readonly NftSelector[]
  readonly mask?: string
}

export type NftOperand =
  /** One value or a comma list (`ct state new,established`); `compact` keeps `a,b` unspaced. */
  | { readonly kind: 'literal'; readonly values: readonly string[] }
  | { readonly kind: 'set-ref'; readonly set: string }
  | { readonly kind: 'anonymous-set'; readonly items: readonly string[]; readonly compact?: true }

export type NftExpr =
  | { readonly kind: 'match'; readonly key: NftKey; readonly op: '==' | '!='; readonly explicitOp?: true; readonly right: NftOperand }
  /** `KEY vmap @map` or `KEY vmap { k : verdict , … }` */
  | { readonly kind: 'vmap'; readonly key: NftKey; readonly map: { readonly kind: 'set-ref'; readonly set: string } | { readonly kind: 'inline'; readonly elements: readonly NftElementDef[] } }
  | { readonly kind: 'counter'; readonly packets?: number; readonly bytes?: number }
  /** `mark set mark or 0x4000` (op or/xor/and on the current mark) or `mark set 0x1` (value). */
  | { readonly kind: 'mark-set'; readonly op: 'or' | 'xor' | 'and' | 'value'; readonly value: string }
  | { readonly kind: 'set-update'; readonly op: 'update' | 'add'; readonly set: string; readonly key: NftKey }
  | { readonly kind: 'masquerade'; readonly flags: readonly string[] }
  | { readonly kind: 'dnat' | 'snat'; readonly family?: 'ip' | 'ip6'; readonly to: string }
  | { readonly kind: 'log'; readonly prefix?: string }
  | { readonly kind: 'verdict'; readonly verdict: NftVerdictDef }

/** One command of an `nft -f` transaction (a `table { … }` block becomes `add` commands). */
export type NftCommand =
  | { readonly op: 'add' | 'delete' | 'flush'; readonly what: 'table'; readonly line: number; readonly family: NftFamilyName; readonly table: string; readonly comment?: string }
  | { readonly op: 'add' | 'delete' | 'flush'; readonly what: 'chain'; readonly line: number; readonly family: NftFamilyName; readonly table: string; readonly chain: NftChainDef }
  | { readonly op: 'add' | 'delete' | 'flush'; readonly what: 'set'; readonly line: number; readonly family: NftFamilyName; readonly table: string; readonly set: NftSetDef }
  | { readonly op: 'add' | 'insert' | 'delete'; readonly what: 'rule'; readonly line: number; readonly family: NftFamilyName; readonly table: string; readonly chain: string; readonly rule: NftRuleDef; readonly handle?: number }
  | { readonly op: 'add' | 'delete'; readonly what: 'element'; readonly line: number; readonly family: NftFamilyName; readonly table: string; readonly set: string; readonly elements: readonly NftElementDef[] }
  | { readonly op: 'flush'; readonly what: 'ruleset'; readonly line: number }
