/**
 * The walk's compact form of a compiled rule set: every rule of nat and filter as a few int32
 * words in one Int32Array, laid out in jump order (a KUBE-SVC chain right after the
 * KUBE-SERVICES rule that jumps to it, its KUBE-SEP chains right after it), so one
 * connection's walk reads a few adjacent cache lines instead of objects scattered over the
 * heap. Anything that is not a number (strings, IPv6 tests, `recent` and `nth` matches) sits in
 * a side table that the code refers to by position. Built once by buildProgram; walk-chain.ts
 * runs it.
 *
 * A rule is `[next, ruleId, match ops..., target op]`: `next` is the offset of the chain's next
 * rule (-1 after the last), so rules of one chain need not be adjacent and a failing match skips
 * straight on; they are still laid out in rule order, so offsets (and rule ids) rise with it. An op's first word holds the opcode
 * in its low 8 bits and a small operand above them. Matches that always hold (comments,
 * `-m tcp`) emit nothing.
 */
import { assertNever } from '../../../errors.js'
import type { AddressTest, PacketAddress } from './address.js'
import type { CompiledChain, CompiledMatch, CompiledRule, CompiledTarget } from './compiled.js'
import type { DispatchTable } from './dispatch-table.js'
import { buildDispatchTable } from './dispatch-table.js'
import type { HookTable } from './types.js'

/**
 * Match opcodes, with their operands: `[op | x << 8]` means x sits in the opcode word, `, y`
 * is a word of its own. `mi` is the match's index in the rule (for Hop.decidedBy).
 */
export const op = {
  /** [op | flags << 8, net, mask] (flags: 1 dst, 2 neg): IPv4 address or CIDR. */
  addr4: 1,
  /** [op | flags << 8, test (tests)]: IPv6 address or CIDR. */
  addr6: 2,
  /** [op | neg << 8 | proto (strings) << 9]. */
  proto: 3,
  /** [op | flags << 8, name (strings)] (flags: 1 out, 2 neg, 4 prefix). */
  iface: 4,
  /** [op | flags << 8, from, to] (flags: 1 sport, 2 neg). */
  port: 5,
  /** [op | flags << 8, count, count (from, to) pairs] (flags: side code, 4 neg). */
  multiport: 6,
  /** [op | src << 8 | dst << 10]: 0 not tested, 1 must be local, 2 must not be local. */
  addrtypeLocal: 7,
  /** [op | mi << 8, probability (probs)]. */
  random: 8,
  /** [op | mi << 8, match (matches)]. */
  nth: 9,
  /** [op | mi << 8, match (matches)]. */
  recent: 10,
  /** [op | neg << 8, value, mask]. */
  mark: 11,
  /** [op | neg << 8 | bits << 9]. */
  ct: 12,
  /** [op | mi << 8, what (strings)]. */
  unmodelled: 13,
} as const

/** Target opcodes; every rule ends in exactly one. */
export const tgt = {
  none: 32,
  /** [op | indexed << 8, chain id, offset of its first rule or -1]. */
  jump: 33,
  /** As jump. */
  goto: 34,
  accept: 35,
  drop: 36,
  return: 37,
  /** [op, with (strings) or -1]. */
  reject: 38,
  /** [op | isIPv4 << 8, target (dnatText, dnatDst), port or -1, IPv4 address]. */
  dnat: 39,
  /** [op, to (strings)]. */
  snat: 40,
  masquerade: 41,
  /** [op, and, xor]. */
  mark: 42,
  /** [op, what (strings)]. */
  unmodelled: 43,
} as const

/** Multiport side codes, in the order of their option names. */
export const multiportSides = ['dports', 'sports', 'ports'] as const

export interface Program {
  readonly code: Int32Array
  /** By chain id: the offset of its first rule, or -1 for an empty chain. */
  readonly chainStart: Int32Array
  readonly chains: readonly CompiledChain[]
  /** By chain id: the dispatch index of the chains that have one. */
  readonly dispatch: readonly (DispatchTable | undefined)[]
  /** By rule id: the chain and rule, for hops, unmodelled notes and decidedAt. */
  readonly ruleChain: readonly CompiledChain[]
  readonly rules: readonly CompiledRule[]
  readonly strings: readonly string[]
  readonly tests: readonly AddressTest[]
  /** Distinct random-match probabilities (kube-proxy uses a handful), so the table stays in cache. */
  readonly probs: Float64Array
  readonly matches: readonly CompiledMatch[]
  /** By DNAT target: `--to-destination` as written and its address at 2 id and 2 id + 1. */
  readonly dnatText: readonly string[]
  /** By DNAT target: the address parsed. */
  readonly dnatDst: readonly PacketAddress[]
  /** The built-in chains a new connection passes through. */
  readonly hooks: {
    readonly natPrerouting: CompiledChain | undefined
    readonly natOutput: CompiledChain | undefined
    readonly natPostrouting: CompiledChain | undefined
    readonly filterInput: CompiledChain | undefined
    readonly filterForward: CompiledChain | undefined
    readonly filterOutput: CompiledChain | undefined
  }
}

/** Interns values into a side table, so equal values share a position. */
class Interner<T> {
  readonly values: T[] = []
  readonly #ids = new Map<T, number>()

  id(v: T): number {
    let id = this.#ids.get(v)
    if (id === undefined) {
      id = this.values.push(v) - 1
      this.#ids.set(v, id)
    }
    return id
  }
}

class Emitter {
  code = new Int32Array(1 << 12)
  pc = 0
  readonly strings = new Interner<string>()
  readonly probs = new Interner<number>()
  readonly tests: AddressTest[] = []
  readonly matches: CompiledMatch[] = []
  readonly dnatText: string[] = []
  readonly dnatDst: PacketAddress[] = []
  /** Offsets of jump operands (chain id, first rule) to fill in after layout. */
  readonly fixups: number[] = []

  /** Up to four words, as fixed arguments: no array per call (a 10,000-Service table emits about a million). */
  emit(a: number, b?: number, c?: number, d?: number): void {
    if (this.pc + 4 > this.code.length) {
      const bigger = new Int32Array(this.code.length * 2 + 4)
      bigger.set(this.code)
      this.code = bigger
    }
    const code = this.code
    code[this.pc++] = a
    if (b === undefined) return
    code[this.pc++] = b
    if (c === undefined) return
    code[this.pc++] = c
    if (d !== undefined) code[this.pc++] = d
  }

  string(s: string): number {
    return this.strings.id(s)
  }
}

const flag = (b: boolean | undefined, bit: number): number => (b === true ? bit : 0)
const localMode = (want: boolean | undefined): number => (want === undefined ? 0 : want ? 1 : 2)

function emitMatch(e: Emitter, m: CompiledMatch, mi: number): void {
  switch (m.k) {
    case 'always':
      return
    case 'addr': {
      const flags = flag(m.side === 'dst', 1) | flag(m.neg, 2)
      if (m.test.family === 'IPv4') e.emit(op.addr4 | (flags << 8), m.test.net | 0, m.test.mask | 0)
      else e.emit(op.addr6 | (flags << 8), e.tests.push(m.test) - 1)
      return
    }
    case 'proto':
      return e.emit(op.proto | (flag(m.neg, 1) << 8) | (e.string(m.proto) << 9))
    case 'iface':
      return e.emit(op.iface | ((flag(m.side === 'out', 1) | flag(m.neg, 2) | flag(m.prefix, 4)) << 8), e.string(m.name))
    case 'port':
      return e.emit(op.port | ((flag(m.side === 'sport', 1) | flag(m.neg, 2)) << 8), m.from, m.to)
    case 'multiport':
      e.emit(op.multiport | ((multiportSides.indexOf(m.side) | flag(m.neg, 4)) << 8), m.ranges.length / 2)
      for (const r of m.ranges) e.emit(r)
      return
    case 'addrtype-local':
      return e.emit(op.addrtypeLocal | (localMode(m.src) << 8) | (localMode(m.dst) << 10))
    case 'random':
      return e.emit(op.random | (mi << 8), e.probs.id(m.p))
    case 'nth':
      return e.emit(op.nth | (mi << 8), e.matches.push(m) - 1)
    case 'recent':
      return e.emit(op.recent | (mi << 8), e.matches.push(m) - 1)
    case 'mark':
      return e.emit(op.mark | (flag(m.neg, 1) << 8), m.value | 0, m.mask | 0)
    case 'ct':
      return e.emit(op.ct | (flag(m.neg, 1) << 8) | (m.bits << 9))
    case 'unmodelled':
      return e.emit(op.unmodelled | (mi << 8), e.string(m.what))
    default:
      return assertNever(m)
  }
}

function emitTarget(e: Emitter, t: CompiledTarget): void {
  switch (t.k) {
    case 'none':
      return e.emit(tgt.none)
    case 'jump':
    case 'goto':
      // Where the chain starts is known once every chain is laid out: patched by buildProgram.
      e.fixups.push(e.pc + 1)
      return e.emit((t.k === 'jump' ? tgt.jump : tgt.goto) | (flag(t.chain.index !== undefined, 1) << 8), t.chain.id, -1)
    case 'accept':
      return e.emit(tgt.accept)
    case 'drop':
      return e.emit(tgt.drop)
    case 'return':
      return e.emit(tgt.return)
    case 'reject':
      return e.emit(tgt.reject, t.with === undefined ? -1 : e.string(t.with))
    case 'dnat': {
      // The IPv4 address and port sit in the code, so DNAT reads no object of its own.
      const id = e.dnatDst.push(t.dst) - 1
      e.dnatText.push(t.to, t.address)
      const isV4 = t.dst.family === 'IPv4'
      return e.emit(tgt.dnat | (flag(isV4, 1) << 8), id, t.port ?? -1, isV4 ? t.dst.v4 | 0 : 0)
    }
    case 'snat':
      return e.emit(tgt.snat, e.string(t.to))
    case 'masquerade':
      return e.emit(tgt.masquerade)
    case 'mark':
      return e.emit(tgt.mark, t.and | 0, t.xor | 0)
    case 'unmodelled':
      return e.emit(tgt.unmodelled, e.string(t.what))
    default:
      return assertNever(t)
  }
}

const jumpTarget = (r: CompiledRule): CompiledChain | undefined => (r.target.k === 'jump' || r.target.k === 'goto' ? r.target.chain : undefined)

/**
 * Emits every chain depth-first from the built-in chains. A plain chain's rules are adjacent
 * (it is walked rule by rule) and the chains it jumps to follow it; in a chain with a dispatch
 * index (reached one rule at a time), each rule is followed by the chain it jumps to.
 */
function layout(e: Emitter, chains: readonly CompiledChain[], firstRuleId: Int32Array, ruleOffset: Int32Array, chainStart: Int32Array): void {
  const placed = new Uint8Array(chains.length)
  const emitFrom = (root: CompiledChain): void => {
    const todo: CompiledChain[] = [root]
    while (todo.length > 0) {
      const c = todo.pop()!
      if (placed[c.id] === 1) continue
      placed[c.id] = 1
      const after: CompiledChain[] = []
      let prev = -1
      c.rules.forEach((r, i) => {
        const at = e.pc
        if (prev < 0) chainStart[c.id] = at
        else e.code[prev] = at
        prev = at
        const id = firstRuleId[c.id]! + i
        ruleOffset[id] = at
        e.emit(-1, id)
        r.matches.forEach((m, mi) => emitMatch(e, m, mi))
        emitTarget(e, r.target)
        const next = jumpTarget(r)
        if (next !== undefined && placed[next.id] === 0) {
          if (c.index) emitFrom(next)
          else after.push(next)
        }
      })
      // Reversed, so the first jump target comes out first.
      for (let i = after.length - 1; i >= 0; i--) todo.push(after[i]!)
    }
  }
  for (const c of chains) if (c.builtin) emitFrom(c)
  for (const c of chains) emitFrom(c)
}

/** `chains` are indexed by their id (every chain of nat and filter). */
export function buildProgram(chains: readonly CompiledChain[]): Program {
  const e = new Emitter()
  // Rule ids in chain order, so that within a chain they rise with rule order.
  const firstRuleId = new Int32Array(chains.length)
  const ruleChain: CompiledChain[] = []
  const rules: CompiledRule[] = []
  for (const c of chains) {
    firstRuleId[c.id] = rules.length
    for (const r of c.rules) {
      rules.push(r)
      ruleChain.push(c)
    }
  }
  const ruleOffset = new Int32Array(rules.length)
  const chainStart = new Int32Array(chains.length).fill(-1)
  layout(e, chains, firstRuleId, ruleOffset, chainStart)
  for (const at of e.fixups) e.code[at + 1] = chainStart[e.code[at]!]!
  const dispatch = chains.map((c) =>
    c.index ? buildDispatchTable(c.index, ruleOffset.subarray(firstRuleId[c.id]!, firstRuleId[c.id]! + c.rules.length)) : undefined,
  )
  const hook = (table: HookTable, name: string): CompiledChain | undefined => chains.find((c) => c.builtin && c.table === table && c.name === name)
  return {
    code: e.code.slice(0, e.pc),
    chainStart,
    chains,
    dispatch,
    ruleChain,
    rules,
    strings: e.strings.values,
    tests: e.tests,
    probs: Float64Array.from(e.probs.values),
    matches: e.matches,
    dnatText: e.dnatText,
    dnatDst: e.dnatDst,
    hooks: {
      natPrerouting: hook('nat', 'PREROUTING'),
      natOutput: hook('nat', 'OUTPUT'),
      natPostrouting: hook('nat', 'POSTROUTING'),
      filterInput: hook('filter', 'INPUT'),
      filterForward: hook('filter', 'FORWARD'),
      filterOutput: hook('filter', 'OUTPUT'),
    },
  }
}
