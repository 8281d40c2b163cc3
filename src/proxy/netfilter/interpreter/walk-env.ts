/**
 * What one walk carries: the packet as it changes (addresses after DNAT, mark, conntrack
 * state, NAT decisions), how branching matches decide (explore script or random draws), the
 * `recent` and `nth` state, what is being recorded, and the jump stack. Explore and sample
 * modes differ only in the subclass they use. A class, not a fresh object per walk: sample mode
 * reuses one env for every connection, so a walk allocates nothing but its Outcome.
 */
import { InputError } from '../../../errors.js'
import type { PacketAddress } from './address.js'
import { parsePacketAddress } from './address.js'
import type { CompiledMatch } from './compiled.js'
import { ctBits } from './compiled.js'
import type { CompiledNodeContext } from './packet-state.js'
import type { Candidates } from './dispatch-table.js'
import type { RecentMatch } from './recent-table.js'
import type { Hop, Packet, RecentEffect, Route, Unmodelled } from './types.js'

/** Kernel-like bound on nested jumps; deeper jumps are recorded as unmodelled. */
export const maxDepth = 64

function address(text: string, field: string): PacketAddress {
  const a = parsePacketAddress(text)
  if (!a) throw new InputError({ object: 'packet', field }, `${JSON.stringify(text)} is not an IP address`)
  return a
}

export abstract class WalkEnv {
  src!: PacketAddress
  dst!: PacketAddress
  proto = ''
  dport = 0
  sport: number | undefined = undefined
  inInterface: string | undefined = undefined
  outInterface: string | undefined = undefined
  mark = 0
  ct = 0
  /** The DNAT target applied (see Program.dnatTo), or -1; and its port, or -1 if it kept the port. */
  dnat = -1
  dnatPort = -1
  masquerade = false
  snatTo: string | undefined = undefined

  node!: CompiledNodeContext
  useIndex = true
  /** Recorded only when defined. */
  hops: Hop[] | undefined = undefined
  /** Created on the first entry. */
  unmodelled: Unmodelled[] | undefined = undefined
  recentEffects: RecentEffect[] | undefined = undefined
  /** Rule id where the current hook's verdict was decided, -1 for its policy. */
  decidedAt = -1
  rejectWith: string | undefined = undefined
  /** Set by runHooks: where an accepted packet goes, and the rule id of the filter ACCEPT that let it. */
  route: Route | undefined = undefined
  accepted = -1

  /** The jump stack: the frames of the chains that jumped, innermost last. */
  readonly stackChain = new Int32Array(maxDepth)
  readonly stackPos = new Int32Array(maxDepth)
  readonly stackEnd = new Int32Array(maxDepth)
  readonly stackWpos = new Int32Array(maxDepth)
  readonly stackCand: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(maxDepth).fill(undefined)
  /** Where a dispatch lookup puts the candidates it found. */
  readonly found: Candidates = { arr: new Int32Array(0), from: 0, to: 0 }

  /** The last packet addresses parsed: a proxy sees the same client and Service addresses again and again. */
  #srcText = ''
  #src: PacketAddress | undefined
  #dstText = ''
  #dst: PacketAddress | undefined

  /** Decides a `statistic --mode random` match with probability p. */
  abstract choose(p: number): boolean
  /** Decides a `statistic --mode nth` match. */
  abstract nth(m: Extract<CompiledMatch, { k: 'nth' }>): boolean
  /** Decides a `recent` match (and applies or records its effect). */
  abstract recent(m: RecentMatch): boolean

  /** Starts a walk of `p` from scratch. */
  protected begin(p: Packet, node: CompiledNodeContext, useIndex: boolean, trace: boolean): void {
    if (this.#src === undefined || p.src !== this.#srcText) {
      this.#src = address(p.src, 'src')
      this.#srcText = p.src
    }
    if (this.#dst === undefined || p.dst !== this.#dstText) {
      this.#dst = address(p.dst, 'dst')
      this.#dstText = p.dst
    }
    this.src = this.#src
    this.dst = this.#dst
    this.proto = p.proto
    this.dport = p.dport
    this.sport = p.sport
    this.inInterface = p.inInterface
    this.outInterface = p.outInterface
    this.mark = (p.mark ?? 0) >>> 0
    this.ct = ctBits.NEW
    this.dnat = -1
    this.dnatPort = -1
    this.masquerade = false
    this.snatTo = undefined
    this.node = node
    this.useIndex = useIndex
    this.hops = trace ? [] : undefined
    this.unmodelled = undefined
    this.recentEffects = undefined
    this.decidedAt = -1
    this.rejectWith = undefined
    this.route = undefined
    this.accepted = -1
  }
}
