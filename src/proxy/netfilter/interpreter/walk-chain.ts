/**
 * Walks one hook (a built-in chain of nat or filter) with netfilter's semantics: rules in
 * order, -j pushes and RETURN (or the end of a user chain) pops, -g replaces the frame, falling
 * off the built-in chain applies its policy. Uses a chain's dispatch index when allowed.
 */
import { assertNever } from '../../../errors.js'
import type { CompiledChain, CompiledRule, CompiledTable } from './compiled.js'
import { evalMatch, isDeciding } from './eval-match.js'
import { ctBits, protoCodes } from './compiled.js'
import type { WalkEnv } from './walk-env.js'

export type HookVerdict = 'accept' | 'drop' | 'reject'

/** Kernel-like bound on nested jumps; deeper jumps are recorded as unmodelled. */
const maxDepth = 64
const empty = new Int32Array(0)

interface Frame {
  readonly chain: CompiledChain
  pos: number
  /** Indexed walk: candidate rules for this packet's key, and the always-candidate rules. */
  readonly cand: Int32Array | undefined
  readonly wild: Int32Array | undefined
  wpos: number
}

function openFrame(env: WalkEnv, chain: CompiledChain): Frame {
  const idx = env.useIndex ? chain.index : undefined
  if (!idx) return { chain, pos: 0, cand: undefined, wild: undefined, wpos: 0 }
  const p = env.pkt
  const code = protoCodes[p.proto]
  const cand = code === undefined ? undefined : idx.byPort.get(p.dport * 4 + code)?.get(p.dst.key)
  return { chain, pos: 0, cand: cand ?? empty, wild: idx.wildcard, wpos: 0 }
}

/** Next rule index (0-based) in walk order, or -1 at the end of the chain. */
function nextRule(f: Frame): number {
  if (f.cand === undefined) return f.pos < f.chain.rules.length ? f.pos++ : -1
  const c = f.pos < f.cand.length ? f.cand[f.pos]! : -1
  const w = f.wpos < f.wild!.length ? f.wild![f.wpos]! : -1
  if (c < 0 && w < 0) return -1
  if (w < 0 || (c >= 0 && c < w)) {
    f.pos++
    return c
  }
  f.wpos++
  return w
}

/** Evaluates a rule's matches in order, stopping at the first that fails (as the kernel does). */
function ruleMatches(env: WalkEnv, chain: CompiledChain, r: CompiledRule): boolean {
  let decidedBy = -1
  const ms = r.matches
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i]!
    if (!evalMatch(env, m, chain, r.n)) {
      if (env.hops && isDeciding(m)) env.hops.push({ table: chain.table, chain: chain.name, rule: r.n, ruleRef: r.rule, matched: false, decidedBy: i })
      return false
    }
    if (isDeciding(m)) decidedBy = i
  }
  if (env.hops) {
    env.hops.push({
      table: chain.table,
      chain: chain.name,
      rule: r.n,
      ruleRef: r.rule,
      matched: true,
      ...(decidedBy >= 0 ? { decidedBy } : {}),
    })
  }
  return true
}

function decide(env: WalkEnv, chain: CompiledChain, r: CompiledRule): void {
  env.decidedAt = { table: chain.table, chain: chain.name, rule: r.n }
}

export function walkHook(env: WalkEnv, table: CompiledTable, hook: string): HookVerdict {
  const root = table.chains.get(hook)
  env.decidedAt = undefined
  if (!root) return 'accept'
  const stack: Frame[] = []
  let frame = openFrame(env, root)
  for (;;) {
    const i = nextRule(frame)
    if (i < 0) {
      const up = stack.pop()
      if (up === undefined) return root.policy
      frame = up
      continue
    }
    const chain = frame.chain
    const r = chain.rules[i]!
    if (!ruleMatches(env, chain, r)) continue
    const t = r.target
    switch (t.k) {
      case 'none':
        break
      case 'jump':
      case 'goto':
        if (stack.length >= maxDepth) {
          env.unmodelled.push({ table: chain.table, chain: chain.name, rule: r.n, what: `jump to ${t.chain.name} deeper than ${maxDepth} chains` })
          break
        }
        if (t.k === 'jump') stack.push(frame)
        frame = openFrame(env, t.chain)
        break
      case 'return': {
        const up = stack.pop()
        if (up === undefined) return root.policy
        frame = up
        break
      }
      case 'accept':
        decide(env, chain, r)
        return 'accept'
      case 'drop':
        decide(env, chain, r)
        return 'drop'
      case 'reject':
        decide(env, chain, r)
        env.rejectWith = t.with
        return 'reject'
      case 'dnat': {
        const p = env.pkt
        p.dst = t.dst
        if (t.port !== undefined) p.dport = t.port
        p.dnat = t
        p.ct |= ctBits.DNAT
        return 'accept'
      }
      case 'snat':
        env.pkt.masquerade = true
        env.pkt.snatTo = t.to
        env.pkt.ct |= ctBits.SNAT
        return 'accept'
      case 'masquerade':
        env.pkt.masquerade = true
        env.pkt.ct |= ctBits.SNAT
        return 'accept'
      case 'mark':
        env.pkt.mark = ((env.pkt.mark & t.and) ^ t.xor) >>> 0
        break
      case 'unmodelled':
        env.unmodelled.push({ table: chain.table, chain: chain.name, rule: r.n, what: t.what })
        break
      default:
        return assertNever(t)
    }
  }
}
