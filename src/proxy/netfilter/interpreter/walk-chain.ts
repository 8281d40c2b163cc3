/**
 * Walks one hook (a built-in chain of nat or filter) through the compact program with
 * netfilter's semantics: rules in order, a rule's matches in order until one fails (as the
 * kernel does), -j pushes and RETURN (or the end of a user chain) pops, -g replaces the frame,
 * falling off the built-in chain applies its policy. Uses a chain's dispatch index when allowed.
 * One flat loop over int32 words: this is the per-connection hot path.
 */
import { InternalError } from '../../../errors.js'
import { addressMatches } from './address.js'
import type { CompiledChain } from './compiled.js'
import { ctBits, protoCodes } from './compiled.js'
import { isLocal } from './packet-state.js'
import { lookupCandidates } from './dispatch-table.js'
import { maxJumpsPerHook, RuleWalkLimitError } from './jump-loops.js'
import type { Program } from './program.js'
import { multiportSides, op, tgt } from './program.js'
import type { WalkEnv } from './walk-env.js'
import { maxDepth } from './walk-env.js'

export type HookVerdict = 'accept' | 'drop' | 'reject'

const empty: Int32Array = new Int32Array(0)

/** The packet's key in a dispatch table: `dport * 4 + protoCode`, or -1 for a protocol no index uses. */
function slotOf(env: WalkEnv): number {
  const code = protoCodes[env.proto]
  return code === undefined ? -1 : env.dport * 4 + code
}

function note(prog: Program, env: WalkEnv, ruleId: number, what: string): void {
  const chain = prog.ruleChain[ruleId]!
  ;(env.unmodelled ??= []).push({ table: chain.table, chain: chain.name, rule: prog.rules[ruleId]!.n, what })
}

/** Records a rule that shaped the path: it matched, or a branching match failed (decidedBy). */
function hop(prog: Program, env: WalkEnv, ruleId: number, matched: boolean, decidedBy: number): void {
  const chain = prog.ruleChain[ruleId]!
  const r = prog.rules[ruleId]!
  env.hops!.push(
    matched
      ? { table: chain.table, chain: chain.name, rule: r.n, ruleRef: r.rule, matched, ...(decidedBy >= 0 ? { decidedBy } : {}) }
      : { table: chain.table, chain: chain.name, rule: r.n, ruleRef: r.rule, matched, decidedBy },
  )
}

function inRanges(v: number, code: Int32Array, from: number, count: number): boolean {
  for (let i = from; i < from + 2 * count; i += 2) if (v >= code[i]! && v <= code[i + 1]!) return true
  return false
}

/** True when the packet's address is local as the addrtype mode (1 local, 2 not local) wants. */
function localAs(env: WalkEnv, a: WalkEnv['src'], mode: number): boolean {
  return mode === 0 || isLocal(env.node, a) === (mode === 1)
}

export function walkHook(prog: Program, env: WalkEnv, root: CompiledChain | undefined): HookVerdict {
  env.decidedAt = -1
  if (root === undefined) return 'accept'
  const code = prog.code
  // The current frame. A linear frame is at rule offset pos (-1: done); an indexed frame
  // merges the candidates cand[pos..end) with the chain's wildcard rules wild[wpos..] by code
  // offset (a chain's rules are laid out in rule order, so offsets rise with it).
  let chain = root.id
  let cand: Int32Array | undefined
  let pos: number
  let end = 0
  let wpos = 0
  let wild = empty
  let sp = 0
  let jumps = 0
  const table = env.useIndex ? prog.dispatch[chain] : undefined
  if (table !== undefined) {
    const found = env.found
    lookupCandidates(table, slotOf(env), env.dst.key, found)
    cand = found.arr
    pos = found.from
    end = found.to
    wild = table.wildcard
  } else {
    cand = undefined
    pos = prog.chainStart[chain]!
  }
  for (;;) {
    // Offset of the next rule in walk order, or -1 at the end of the chain.
    let pc = -1
    if (cand === undefined) {
      pc = pos
      if (pc >= 0) pos = code[pc]!
    } else {
      const c = pos < end ? cand[pos]! : -1
      const w = wpos < wild.length ? wild[wpos]! : -1
      if (c >= 0 && (w < 0 || c < w)) {
        pos++
        pc = c
      } else if (w >= 0) {
        wpos++
        pc = w
      }
    }
    if (pc < 0) {
      // Back to the chain that jumped here, or the hook's policy.
      if (sp === 0) return root.policy
      sp--
      chain = env.stackChain[sp]!
      pos = env.stackPos[sp]!
      end = env.stackEnd[sp]!
      wpos = env.stackWpos[sp]!
      cand = env.stackCand[sp]
      if (cand !== undefined) wild = prog.dispatch[chain]!.wildcard
      continue
    }
    const ruleId = code[pc + 1]!
    pc += 2
    let decidedBy = -1
    let matched = true
    matches: for (;;) {
      const w = code[pc]!
      const a = w >> 8
      switch (w & 0xff) {
        case op.addr4: {
          const addr = (a & 1) !== 0 ? env.dst : env.src
          const hit = addr.family === 'IPv4' && (addr.v4 & code[pc + 2]!) === code[pc + 1]!
          if (hit === ((a & 2) !== 0)) {
            matched = false
            break matches
          }
          pc += 3
          break
        }
        case op.addr6:
          if (addressMatches(prog.tests[code[pc + 1]!]!, (a & 1) !== 0 ? env.dst : env.src) === ((a & 2) !== 0)) {
            matched = false
            break matches
          }
          pc += 2
          break
        case op.proto:
          if ((env.proto === prog.strings[a >> 1]) === ((a & 1) !== 0)) {
            matched = false
            break matches
          }
          pc += 1
          break
        case op.port: {
          const v = (a & 1) !== 0 ? env.sport : env.dport
          if (v === undefined) {
            note(prog, env, ruleId, '--sport (packet has no source port)')
            matched = false
            break matches
          }
          if ((v >= code[pc + 1]! && v <= code[pc + 2]!) === ((a & 2) !== 0)) {
            matched = false
            break matches
          }
          pc += 3
          break
        }
        case op.multiport: {
          const side = a & 3
          const count = code[pc + 1]!
          if (side !== 0 && env.sport === undefined) {
            note(prog, env, ruleId, `-m multiport --${multiportSides[side]} (packet has no source port)`)
            matched = false
            break matches
          }
          const hit = (side !== 1 && inRanges(env.dport, code, pc + 2, count)) || (side !== 0 && inRanges(env.sport!, code, pc + 2, count))
          if (hit === ((a & 4) !== 0)) {
            matched = false
            break matches
          }
          pc += 2 + 2 * count
          break
        }
        case op.iface: {
          const want = prog.strings[code[pc + 1]!]!
          const name = (a & 1) !== 0 ? env.outInterface : env.inInterface
          if (name === undefined) {
            const side = (a & 1) !== 0 ? 'out' : 'in'
            note(prog, env, ruleId, `-${side === 'in' ? 'i' : 'o'} ${want}${(a & 4) !== 0 ? '+' : ''} (packet has no ${side}put interface)`)
            matched = false
            break matches
          }
          if (((a & 4) !== 0 ? name.startsWith(want) : name === want) === ((a & 2) !== 0)) {
            matched = false
            break matches
          }
          pc += 2
          break
        }
        case op.addrtypeLocal:
          if (!localAs(env, env.src, a & 3) || !localAs(env, env.dst, a >> 2)) {
            matched = false
            break matches
          }
          pc += 1
          break
        case op.random:
          if (!env.choose(prog.probs[code[pc + 1]!]!)) {
            if (env.hops) hop(prog, env, ruleId, false, a)
            matched = false
            break matches
          }
          decidedBy = a
          pc += 2
          break
        case op.nth:
        case op.recent: {
          const m = prog.matches[code[pc + 1]!]!
          if (!(m.k === 'nth' ? env.nth(m) : m.k === 'recent' && env.recent(m))) {
            if (env.hops) hop(prog, env, ruleId, false, a)
            matched = false
            break matches
          }
          decidedBy = a
          pc += 2
          break
        }
        case op.mark:
          if (((env.mark & code[pc + 2]!) === code[pc + 1]!) === ((a & 1) !== 0)) {
            matched = false
            break matches
          }
          pc += 3
          break
        case op.ct:
          if (((env.ct & (a >> 1)) !== 0) === ((a & 1) !== 0)) {
            matched = false
            break matches
          }
          pc += 1
          break
        case op.unmodelled:
          note(prog, env, ruleId, prog.strings[code[pc + 1]!]!)
          if (env.hops) hop(prog, env, ruleId, false, a)
          matched = false
          break matches
        default:
          // A target opcode: every match held.
          break matches
      }
    }
    if (!matched) continue
    if (env.hops) hop(prog, env, ruleId, true, decidedBy)
    const w = code[pc]!
    switch (w & 0xff) {
      case tgt.none:
        break
      case tgt.jump:
      case tgt.goto: {
        // Loops are refused at compile time; a loop-free graph can still fan out exponentially.
        if (++jumps > maxJumpsPerHook) throw new RuleWalkLimitError(root.table, root.name, maxJumpsPerHook)
        if (sp >= maxDepth) {
          note(prog, env, ruleId, `jump to ${prog.chains[code[pc + 1]!]!.name} deeper than ${maxDepth} chains`)
          break
        }
        if ((w & 0xff) === tgt.jump) {
          env.stackChain[sp] = chain
          env.stackPos[sp] = pos
          env.stackEnd[sp] = end
          env.stackWpos[sp] = wpos
          env.stackCand[sp] = cand
          sp++
        }
        chain = code[pc + 1]!
        const table = (w & 0x100) !== 0 && env.useIndex ? prog.dispatch[chain] : undefined
        if (table !== undefined) {
          const found = env.found
          lookupCandidates(table, slotOf(env), env.dst.key, found)
          cand = found.arr
          pos = found.from
          end = found.to
          wpos = 0
          wild = table.wildcard
        } else {
          cand = undefined
          pos = code[pc + 2]!
        }
        break
      }
      case tgt.return:
        // As the end of the chain: the next turn pops the frame.
        pos = cand === undefined ? -1 : end
        wpos = wild.length
        break
      case tgt.accept:
        env.decidedAt = ruleId
        return 'accept'
      case tgt.drop:
        env.decidedAt = ruleId
        return 'drop'
      case tgt.reject: {
        env.decidedAt = ruleId
        const s = code[pc + 1]!
        env.rejectWith = s < 0 ? undefined : prog.strings[s]
        return 'reject'
      }
      case tgt.dnat: {
        const id = code[pc + 1]!
        const port = code[pc + 2]!
        // A fresh address object for IPv4 (same shape as a parsed one) costs less than reading the stored one.
        env.dst = (w & 0x100) !== 0 ? { family: 'IPv4', v4: code[pc + 3]! >>> 0, v6: 0n, key: code[pc + 3]! >>> 0, text: prog.dnatText[2 * id + 1]! } : prog.dnatDst[id]!
        if (port >= 0) env.dport = port
        env.dnat = id
        env.dnatPort = port
        env.ct |= ctBits.DNAT
        return 'accept'
      }
      case tgt.snat:
        env.masquerade = true
        env.snatTo = prog.strings[code[pc + 1]!]
        env.ct |= ctBits.SNAT
        return 'accept'
      case tgt.masquerade:
        env.masquerade = true
        env.ct |= ctBits.SNAT
        return 'accept'
      case tgt.mark:
        env.mark = ((env.mark & code[pc + 1]!) ^ code[pc + 2]!) >>> 0
        break
      case tgt.unmodelled:
        note(prog, env, ruleId, prog.strings[code[pc + 1]!]!)
        break
      default:
        throw new InternalError(`bad target opcode ${w} at ${pc}`)
    }
  }
}
