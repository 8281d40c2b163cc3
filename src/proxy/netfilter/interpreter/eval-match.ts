/**
 * Evaluates one compiled match against the packet state. Branching (`statistic`, `recent`)
 * is delegated to the WalkEnv; unmodelled matches are recorded and do not match.
 */
import { assertNever } from '../../../errors.js'
import { addressMatches } from './address.js'
import type { CompiledChain, CompiledMatch } from './compiled.js'
import { isLocal } from './packet-state.js'
import type { WalkEnv } from './walk-env.js'

function inRanges(v: number, ranges: readonly number[]): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (v >= ranges[i]! && v <= ranges[i + 1]!) return true
  return false
}

function note(env: WalkEnv, chain: CompiledChain, n: number, what: string): false {
  env.unmodelled.push({ table: chain.table, chain: chain.name, rule: n, what })
  return false
}

/** `chain` and `n` (1-based rule number) only locate what gets recorded. */
export function evalMatch(env: WalkEnv, m: CompiledMatch, chain: CompiledChain, n: number): boolean {
  const p = env.pkt
  switch (m.k) {
    case 'always':
      return true
    case 'addr':
      return addressMatches(m.test, m.side === 'src' ? p.src : p.dst) !== m.neg
    case 'proto':
      return (p.proto === m.proto) !== m.neg
    case 'port': {
      const v = m.side === 'dport' ? p.dport : p.sport
      if (v === undefined) return note(env, chain, n, '--sport (packet has no source port)')
      return (v >= m.from && v <= m.to) !== m.neg
    }
    case 'multiport': {
      if (m.side !== 'dports' && p.sport === undefined) return note(env, chain, n, `-m multiport --${m.side} (packet has no source port)`)
      const hit =
        (m.side !== 'sports' && inRanges(p.dport, m.ranges)) || (m.side !== 'dports' && inRanges(p.sport!, m.ranges))
      return hit !== m.neg
    }
    case 'iface': {
      const name = m.side === 'in' ? p.inInterface : p.outInterface
      if (name === undefined) return note(env, chain, n, `-${m.side === 'in' ? 'i' : 'o'} ${m.name}${m.prefix ? '+' : ''} (packet has no ${m.side}put interface)`)
      return (m.prefix ? name.startsWith(m.name) : name === m.name) !== m.neg
    }
    case 'addrtype-local':
      if (m.src !== undefined && isLocal(env.node, p.src) !== m.src) return false
      if (m.dst !== undefined && isLocal(env.node, p.dst) !== m.dst) return false
      return true
    case 'random':
      return env.choose(m.p)
    case 'nth':
      return env.nth(m)
    case 'recent':
      return env.recent(m)
    case 'mark':
      return (((p.mark & m.mask) >>> 0) === m.value) !== m.neg
    case 'ct':
      return ((p.ct & m.bits) !== 0) !== m.neg
    case 'unmodelled':
      return note(env, chain, n, m.what)
    default:
      return assertNever(m)
  }
}

/** Matches whose outcome depends on more than the packet: a failing one is worth a hop. */
export function isDeciding(m: CompiledMatch): boolean {
  return m.k === 'random' || m.k === 'nth' || m.k === 'recent' || m.k === 'unmodelled'
}
