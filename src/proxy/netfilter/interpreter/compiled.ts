/**
 * The compiled form of a RuleTable's nat and filter tables: matches pre-parsed into
 * comparisons, jump targets resolved to chain objects, and per-chain dispatch indexes.
 * Types only; compile-table.ts builds them, walk-chain.ts runs them.
 */
import type { Rule } from '../types.js'
import type { AddressTest, PacketAddress } from './address.js'
import type { Program } from './program.js'
import type { HookTable } from './types.js'

export const ctBits = { NEW: 1, ESTABLISHED: 2, RELATED: 4, INVALID: 8, UNTRACKED: 16, SNAT: 32, DNAT: 64 } as const

export type CompiledMatch =
  | { readonly k: 'always' }
  | { readonly k: 'addr'; readonly side: 'src' | 'dst'; readonly test: AddressTest; readonly neg: boolean }
  | { readonly k: 'proto'; readonly proto: string; readonly neg: boolean }
  | { readonly k: 'iface'; readonly side: 'in' | 'out'; readonly name: string; readonly prefix: boolean; readonly neg: boolean }
  | { readonly k: 'port'; readonly side: 'dport' | 'sport'; readonly from: number; readonly to: number; readonly neg: boolean }
  | { readonly k: 'multiport'; readonly side: 'dports' | 'sports' | 'ports'; readonly ranges: readonly number[]; readonly neg: boolean }
  | { readonly k: 'addrtype-local'; readonly src?: boolean; readonly dst?: boolean }
  | { readonly k: 'random'; readonly p: number }
  | { readonly k: 'nth'; readonly every: number; readonly packet: number; readonly id: number }
  | {
      readonly k: 'recent'
      readonly name: string
      readonly op: 'set' | 'rcheck' | 'update' | 'remove'
      readonly seconds?: number
      readonly hitcount?: number
      readonly reap: boolean
      readonly rdest: boolean
    }
  | { readonly k: 'mark'; readonly value: number; readonly mask: number; readonly neg: boolean }
  | { readonly k: 'ct'; readonly bits: number; readonly neg: boolean }
  | { readonly k: 'unmodelled'; readonly what: string }

export type CompiledTarget =
  | { readonly k: 'none' }
  | { readonly k: 'jump' | 'goto'; readonly chain: CompiledChain }
  | { readonly k: 'accept' | 'drop' | 'return' }
  | { readonly k: 'reject'; readonly with?: string }
  | { readonly k: 'dnat'; readonly to: string; readonly address: string; readonly port?: number; readonly dst: PacketAddress }
  | { readonly k: 'snat'; readonly to: string }
  | { readonly k: 'masquerade' }
  | { readonly k: 'mark'; readonly and: number; readonly xor: number }
  | { readonly k: 'unmodelled'; readonly what: string }

export interface CompiledRule {
  readonly rule: Rule
  /** 1-based position in its chain. */
  readonly n: number
  readonly matches: readonly CompiledMatch[]
  readonly target: CompiledTarget
}

/** Candidate rules for new connections, keyed by destination, protocol and port. */
export interface DispatchIndex {
  /** `dport * 4 + protoCode` -> destination key -> ascending rule indexes (0-based). */
  readonly byPort: ReadonlyMap<number, ReadonlyMap<number | string, Int32Array>>
  /** Rules that cannot be indexed, ascending; always candidates. */
  readonly wildcard: Int32Array
}

export interface CompiledChain {
  /** Position in CompiledRules.program.chains (unique across nat and filter). */
  readonly id: number
  readonly table: HookTable
  readonly name: string
  readonly builtin: boolean
  readonly policy: 'accept' | 'drop'
  /** Filled in after all chains of the table exist (jumps refer to chain objects). */
  rules: readonly CompiledRule[]
  index?: DispatchIndex
}

export interface CompiledTable {
  readonly chains: ReadonlyMap<string, CompiledChain>
}

export interface CompiledRules {
  readonly family: 'IPv4' | 'IPv6'
  readonly nat: CompiledTable
  readonly filter: CompiledTable
  /** Number of statistic-nth matches (their counters live in the sample state). */
  readonly nthCount: number
  /** What the walk runs: both tables as one compact program. */
  readonly program: Program
}

export const protoCodes: Readonly<Record<string, number>> = { tcp: 1, udp: 2, sctp: 3 }
