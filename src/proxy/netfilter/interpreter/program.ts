/**
 * The walk's compact form of a compiled rule set: every rule of nat and filter as a few int32
 * words in one Int32Array, chains laid out in jump order (a KUBE-SVC chain right after the rule
 * that jumps to it, its KUBE-SEP chains right after it), so one connection's walk reads a few
 * adjacent cache lines instead of hundreds of scattered objects. Anything that is not a number
 * (strings, IPv6 tests, `recent` and `nth` matches, DNAT targets) sits in a side table that the
 * code refers to by position. Built once by buildProgram; walk-chain.ts runs it.
 *
 * A rule is `[end, ruleId, match ops..., target op]`: `end` is the offset of the next rule, so a
 * failing match skips straight there. Matches that always hold (comments, `-m tcp`) emit nothing.
 */
import { assertNever } from '../../../errors.js'
import type { AddressTest, PacketAddress } from './address.js'
import type { CompiledChain, CompiledMatch, CompiledRule, CompiledTarget } from './compiled.js'
import type { DispatchTable } from './dispatch-table.js'
import { buildDispatchTable } from './dispatch-table.js'
import type { HookTable } from './types.js'

/** Match opcodes. Operands follow; `mi` is the match's index in the rule (for Hop.decidedBy). */
export const op = {
  /** flags (1 dst, 2 neg), net, mask: IPv4 address or CIDR. */
  addr4: 1,
  /** flags, test (tests): IPv6 address or CIDR. */
  addr6: 2,
  /** neg, proto (strings). */
  proto: 3,
  /** flags (1 out, 2 neg, 4 prefix), name (strings). */
  iface: 4,
  /** flags (1 sport, 2 neg), from, to. */
  port: 5,
  /** flags (side code | neg 4), count, then count (from, to) pairs. */
  multiport: 6,
  /** src, dst: 0 not tested, 1 must be local, 2 must not be local. */
  addrtypeLocal: 7,
  /** mi, length (5 or 6), padding to an 8-byte boundary if needed, probability as a float64. */
  random: 8,
  /** mi, match (matches). */
  nth: 9,
  /** mi, match (matches). */
  recent: 10,
  /** neg, value, mask. */
  mark: 11,
  /** neg, bits. */
  ct: 12,
  /** mi, what (strings). */
  unmodelled: 13,
} as const

/** Target opcodes; every rule ends in exactly one. */
export const tgt = {
  none: 32,
  /** chain id, its start, its end, 1 if it has a dispatch index. */
  jump: 33,
  /** As jump. */
  goto: 34,
  accept: 35,
  drop: 36,
  return: 37,
  /** with (strings) or -1. */
  reject: 38,
  /** target (dnatTo, dnatAddress, dnatDst), port or -1, 1 if IPv4, the IPv4 address. */
  dnat: 39,
  /** to (strings). */
  snat: 40,
  masquerade: 41,
  /** and, xor. */
  mark: 42,
  /** what (strings). */
  unmodelled: 43,
} as const

/** Multiport side codes, in the order of their option names. */
export const multiportSides = ['dports', 'sports', 'ports'] as const

export interface Program {
  readonly code: Int32Array
  /** By chain id: where its first rule starts and where its last one ends. */
  readonly chainStart: Int32Array
  readonly chainEnd: Int32Array
  readonly chains: readonly CompiledChain[]
  /** By chain id: the dispatch index of the chains that have one. */
  readonly dispatch: readonly (DispatchTable | undefined)[]
  /** By rule id: the chain and rule, for hops, unmodelled notes and decidedAt. */
  readonly ruleChain: readonly CompiledChain[]
  readonly rules: readonly CompiledRule[]
  readonly strings: readonly string[]
  readonly tests: readonly AddressTest[]
  /** The same words as `code`, read as float64 (random match probabilities). */
  readonly f64: Float64Array
  readonly matches: readonly CompiledMatch[]
  /** By DNAT target: `--to-destination` as written, its address, and that address parsed. */
  readonly dnatTo: readonly string[]
  readonly dnatAddress: readonly string[]
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

class Emitter {
  code = new Int32Array(1 << 12)
  pc = 0
  readonly strings: string[] = []
  readonly #stringIds = new Map<string, number>()
  readonly tests: AddressTest[] = []
  readonly matches: CompiledMatch[] = []
  readonly dnatTo: string[] = []
  readonly dnatAddress: string[] = []
  readonly dnatDst: PacketAddress[] = []
  /** Offsets of jump operands (chain id, start, end) to fill in after layout. */
  readonly fixups: number[] = []

  emit(...words: number[]): void {
    if (this.pc + words.length > this.code.length) {
      const bigger = new Int32Array((this.code.length * 2 + words.length + 1) & ~1)
      bigger.set(this.code)
      this.code = bigger
      this.#f64 = undefined
    }
    for (const w of words) this.code[this.pc++] = w
  }

  #f64: Float64Array | undefined

  /** The code as float64 words (for probabilities at even offsets). */
  f64(): Float64Array {
    return (this.#f64 ??= new Float64Array(this.code.buffer))
  }

  string(s: string): number {
    let id = this.#stringIds.get(s)
    if (id === undefined) {
      id = this.strings.push(s) - 1
      this.#stringIds.set(s, id)
    }
    return id
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
      if (m.test.family === 'IPv4') e.emit(op.addr4, flags, m.test.net | 0, m.test.mask | 0)
      else e.emit(op.addr6, flags, e.tests.push(m.test) - 1)
      return
    }
    case 'proto':
      return e.emit(op.proto, flag(m.neg, 1), e.string(m.proto))
    case 'iface':
      return e.emit(op.iface, flag(m.side === 'out', 1) | flag(m.neg, 2) | flag(m.prefix, 4), e.string(m.name))
    case 'port':
      return e.emit(op.port, flag(m.side === 'sport', 1) | flag(m.neg, 2), m.from, m.to)
    case 'multiport':
      return e.emit(op.multiport, multiportSides.indexOf(m.side) | flag(m.neg, 4), m.ranges.length / 2, ...m.ranges)
    case 'addrtype-local':
      return e.emit(op.addrtypeLocal, localMode(m.src), localMode(m.dst))
    case 'random': {
      const pad = (e.pc + 3) % 2
      e.emit(op.random, mi, 5 + pad, ...(pad ? [0] : []), 0, 0)
      e.f64()[(e.pc - 2) >> 1] = m.p
      return
    }
    case 'nth':
      return e.emit(op.nth, mi, e.matches.push(m) - 1)
    case 'recent':
      return e.emit(op.recent, mi, e.matches.push(m) - 1)
    case 'mark':
      return e.emit(op.mark, flag(m.neg, 1), m.value | 0, m.mask | 0)
    case 'ct':
      return e.emit(op.ct, flag(m.neg, 1), m.bits)
    case 'unmodelled':
      return e.emit(op.unmodelled, mi, e.string(m.what))
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
      // Where the chain lies is known once every chain is laid out: patched by buildProgram.
      e.fixups.push(e.pc + 1)
      return e.emit(t.k === 'jump' ? tgt.jump : tgt.goto, t.chain.id, 0, 0, t.chain.index ? 1 : 0)
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
      const id = e.dnatTo.push(t.to) - 1
      e.dnatAddress.push(t.address)
      e.dnatDst.push(t.dst)
      const isV4 = t.dst.family === 'IPv4'
      return e.emit(tgt.dnat, id, t.port ?? -1, isV4 ? 1 : 0, isV4 ? t.dst.v4 | 0 : 0)
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

/** Chains in depth-first jump order from the built-in chains, then any not reachable from them. */
function layoutOrder(chains: readonly CompiledChain[]): CompiledChain[] {
  const seen = new Uint8Array(chains.length)
  const order: CompiledChain[] = []
  const todo: CompiledChain[] = []
  const visit = (root: CompiledChain): void => {
    todo.push(root)
    while (todo.length > 0) {
      const c = todo.pop()!
      if (seen[c.id] === 1) continue
      seen[c.id] = 1
      order.push(c)
      // Pushed in reverse so the first jump target comes out first.
      for (let i = c.rules.length - 1; i >= 0; i--) {
        const t = c.rules[i]!.target
        if ((t.k === 'jump' || t.k === 'goto') && seen[t.chain.id] === 0) todo.push(t.chain)
      }
    }
  }
  for (const c of chains) if (c.builtin) visit(c)
  for (const c of chains) visit(c)
  return order
}

/** `chains` are indexed by their id (every chain of nat and filter). */
export function buildProgram(chains: readonly CompiledChain[]): Program {
  const e = new Emitter()
  const chainStart = new Int32Array(chains.length)
  const chainEnd = new Int32Array(chains.length)
  const dispatch: (DispatchTable | undefined)[] = chains.map(() => undefined)
  const ruleChain: CompiledChain[] = []
  const rules: CompiledRule[] = []
  for (const chain of layoutOrder(chains)) {
    chainStart[chain.id] = e.pc
    const offsets = chain.index ? new Int32Array(chain.rules.length) : undefined
    chain.rules.forEach((r, i) => {
      const start = e.pc
      if (offsets) offsets[i] = start
      e.emit(0, rules.push(r) - 1)
      ruleChain.push(chain)
      r.matches.forEach((m, mi) => emitMatch(e, m, mi))
      emitTarget(e, r.target)
      e.code[start] = e.pc
    })
    chainEnd[chain.id] = e.pc
    if (chain.index && offsets) dispatch[chain.id] = buildDispatchTable(chain.index, offsets)
  }
  for (const at of e.fixups) {
    const id = e.code[at]!
    e.code[at + 1] = chainStart[id]!
    e.code[at + 2] = chainEnd[id]!
  }
  const hook = (table: HookTable, name: string): CompiledChain | undefined => chains.find((c) => c.builtin && c.table === table && c.name === name)
  const code = e.code.slice(0, e.pc + (e.pc % 2))
  return {
    code,
    f64: new Float64Array(code.buffer),
    chainStart,
    chainEnd,
    chains,
    dispatch,
    ruleChain,
    rules,
    strings: e.strings,
    tests: e.tests,
    matches: e.matches,
    dnatTo: e.dnatTo,
    dnatAddress: e.dnatAddress,
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
