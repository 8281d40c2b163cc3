/**
 * A chain's dispatch index in the form the walk reads: candidate rules as code offsets, and
 * IPv4 keys in one open-addressing Int32Array, so finding a Service's rule among 10,000 reads
 * one or two cache lines instead of walking Map buckets and per-key arrays. Code offsets rise
 * with rule order, so the walk merges candidates and wildcards by offset.
 */
import type { DispatchIndex } from './compiled.js'

export interface DispatchTable {
  /**
   * 4 words an entry: IPv4 destination, port slot (`dport * 4 + protoCode`, 0 = empty entry),
   * then either the single candidate's code offset and -1, or the first position and count of
   * its candidates in `lists`.
   */
  readonly entries: Int32Array
  readonly shift: number
  readonly lists: Int32Array
  /** Keys that are not IPv4 (canonical IPv6 text): slot -> key -> code offsets. */
  readonly other: ReadonlyMap<number, ReadonlyMap<string, Int32Array>>
  /** Code offsets of the rules that are candidates for every packet. */
  readonly wildcard: Int32Array
}

/** Where a lookup's candidates are: `arr[from..to)`. */
export interface Candidates {
  arr: Int32Array
  from: number
  to: number
}

function hashOf(dst: number, slot: number, shift: number): number {
  return Math.imul(dst ^ Math.imul(slot, 0x9e3779b1), 0x85ebca6b) >>> shift
}

/** `offsets[i]` is the code offset of rule i of the chain. */
export function buildDispatchTable(index: DispatchIndex, offsets: Int32Array): DispatchTable {
  const v4: [number, number, Int32Array][] = []
  const other = new Map<number, Map<string, Int32Array>>()
  const toOffsets = (rules: Int32Array): Int32Array => rules.map((i) => offsets[i]!)
  for (const [slot, byDst] of index.byPort) {
    for (const [dst, rules] of byDst) {
      if (typeof dst === 'number') v4.push([dst | 0, slot, toOffsets(rules)])
      else {
        let m = other.get(slot)
        if (!m) other.set(slot, (m = new Map()))
        m.set(dst, toOffsets(rules))
      }
    }
  }
  let bits = 4
  while (1 << bits < v4.length * 2) bits++
  const shift = 32 - bits
  const mask = (1 << bits) - 1
  const entries = new Int32Array(4 << bits)
  const lists: number[] = []
  for (const [dst, slot, offs] of v4) {
    let h = hashOf(dst, slot, shift)
    while (entries[h * 4 + 1] !== 0) h = (h + 1) & mask
    const e = h * 4
    entries[e] = dst
    entries[e + 1] = slot
    if (offs.length === 1) {
      entries[e + 2] = offs[0]!
      entries[e + 3] = -1
    } else {
      entries[e + 2] = lists.length
      entries[e + 3] = offs.length
      lists.push(...offs)
    }
  }
  return { entries, shift, lists: Int32Array.from(lists), other, wildcard: toOffsets(index.wildcard) }
}

const none = new Int32Array(0)

/** Fills `out` with the candidates for a packet's key; none when the protocol has no code. */
export function lookupCandidates(t: DispatchTable, slot: number, dstKey: number | string, out: Candidates): void {
  if (slot >= 0) {
    if (typeof dstKey === 'number') {
      const entries = t.entries
      const dst = dstKey | 0
      const mask = (entries.length >> 2) - 1
      for (let h = hashOf(dst, slot, t.shift); entries[h * 4 + 1] !== 0; h = (h + 1) & mask) {
        const e = h * 4
        if (entries[e] !== dst || entries[e + 1] !== slot) continue
        const n = entries[e + 3]!
        if (n < 0) {
          out.arr = entries
          out.from = e + 2
          out.to = e + 3
        } else {
          out.arr = t.lists
          out.from = entries[e + 2]!
          out.to = out.from + n
        }
        return
      }
    } else {
      const offs = t.other.get(slot)?.get(dstKey)
      if (offs) {
        out.arr = offs
        out.from = 0
        out.to = offs.length
        return
      }
    }
  }
  out.arr = none
  out.from = 0
  out.to = 0
}
