/**
 * The lookup structure of one set or map, built once when the ruleset is compiled. Elements whose
 * key parts are all exact go in a trie of Maps, one level per concatenated part (no key string is
 * built per packet), where a key prefix that leads to one element holds that element itself, so
 * `10.96.0.7 . tcp . 80` is one Map lookup and two compares (a packet touches few objects). Elements with a range or CIDR in their key are indexed on their first part:
 * by exact key, or by the sorted breakpoints of the first parts' ranges, so a lookup binary-searches
 * instead of scanning. Answers are those of a plain scan: an exact element first (the last one
 * added wins, as a Map keeps it), else the first interval element, in insertion order, whose every
 * part matches.
 */
import { partMatches, rangeValue, type PartTest, type Val, type ValKey } from './values.js'

/** What the index holds: anything with compiled key parts (a verdict, its definition). */
export interface IndexedElement {
  readonly parts: readonly PartTest[]
}

type Trie<E> = Map<ValKey, Trie<E> | E>

/** Elements (by insertion index) whose first part's range covers [starts[j], starts[j+1]). */
interface Segments<T extends number | bigint> {
  readonly starts: readonly T[]
  readonly lists: readonly Int32Array[]
}

/** The interval elements indexed on their first part. */
interface IntervalIndex {
  readonly byKey: Map<ValKey, Int32Array>
  readonly v4: Segments<number>
  readonly num: Segments<number>
  readonly v6: Segments<bigint>
  /** First parts no range can say (non-contiguous masks), and ranges past the budget: scanned. */
  readonly rest: Int32Array
}

const none = new Int32Array(0)

export class SetIndex<E extends IndexedElement> {
  readonly width: number
  readonly #exact: Trie<E> = new Map()
  readonly #intervals: E[] = []
  /** Built on the first lookup after a change (compiling adds every element first). */
  #index: IntervalIndex | undefined

  constructor(width: number) {
    this.width = width
  }

  /** Adds one element; its key must have `width` parts. */
  add(e: E): void {
    if (e.parts.length !== this.width) throw new RangeError(`an element of ${e.parts.length} key parts in a set of ${this.width}`)
    if (e.parts.every((p) => 'exact' in p)) this.#addExact(e)
    else {
      this.#intervals.push(e)
      this.#index = undefined
    }
  }

  #addExact(e: E): void {
    let level = this.#exact
    for (let i = 0; ; i++) {
      const k = exactAt(e, i)
      const there = level.get(k)
      // A free slot, the last part, or the same key again (the later element replaces it).
      if (there === undefined || i === e.parts.length - 1 || (!(there instanceof Map) && sameExactFrom(there, e, i + 1))) {
        level.set(k, e)
        return
      }
      if (there instanceof Map) level = there
      else {
        // Two elements share this prefix: the one held here moves one level down.
        const below: Trie<E> = new Map([[exactAt(there, i + 1), there]])
        level.set(k, below)
        level = below
      }
    }
  }

  /** The element a packet's key values find, or undefined. */
  lookup(vals: readonly Val[]): E | undefined {
    if (vals.length !== this.width) return undefined
    let level: Trie<E> = this.#exact
    for (let i = 0; i < vals.length; i++) {
      const there = level.get(vals[i]!.key)
      if (there === undefined) break
      if (there instanceof Map) {
        level = there
        continue
      }
      let j = i + 1
      while (j < vals.length && exactAt(there, j) === vals[j]!.key) j++
      if (j === vals.length) return there
      break
    }
    return this.#intervals.length === 0 ? undefined : this.#lookupInterval(vals)
  }

  #lookupInterval(vals: readonly Val[]): E | undefined {
    const ix = (this.#index ??= buildIntervalIndex(this.#intervals, this.width === 1))
    const v = vals[0]!
    const all = this.#intervals
    let best = firstMatch(all, ix.byKey.get(v.key) ?? none, vals, Infinity)
    const x4 = rangeValue('v4', v)
    if (x4 !== undefined) best = firstMatch(all, segmentOf(ix.v4, x4), vals, best)
    const xn = rangeValue('num', v)
    if (xn !== undefined) best = firstMatch(all, segmentOf(ix.num, xn), vals, best)
    if (v.addr?.family === 'IPv6') best = firstMatch(all, segmentOf(ix.v6, v.addr.v6), vals, best)
    best = firstMatch(all, ix.rest, vals, best)
    return best === Infinity ? undefined : all[best]
  }
}

function exactAt(e: IndexedElement, i: number): ValKey {
  return (e.parts[i] as { readonly exact: ValKey }).exact
}

/** Whether two all-exact elements have the same key from part `from` on. */
function sameExactFrom(a: IndexedElement, b: IndexedElement, from: number): boolean {
  for (let i = from; i < a.parts.length; i++) if (exactAt(a, i) !== exactAt(b, i)) return false
  return true
}

/** The smallest index in `list` (ascending) below `best` whose element matches every part. */
function firstMatch<E extends IndexedElement>(elements: readonly E[], list: Int32Array, vals: readonly Val[], best: number): number {
  for (let j = 0; j < list.length; j++) {
    const i = list[j]!
    if (i >= best) return best
    const parts = elements[i]!.parts
    let ok = true
    for (let k = 0; k < parts.length && ok; k++) ok = partMatches(parts[k]!, vals[k]!)
    if (ok) return i
  }
  return best
}

/** The list of the segment holding x: the one with the last start <= x. */
function segmentOf<T extends number | bigint>(s: Segments<T>, x: T): Int32Array {
  if (s.starts.length === 0 || x < s.starts[0]!) return none
  let lo = 0
  let hi = s.starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (s.starts[mid]! <= x) lo = mid
    else hi = mid - 1
  }
  return s.lists[lo]!
}

type Range<T> = readonly [lo: T, hi: T, index: number]

function buildIntervalIndex(intervals: readonly IndexedElement[], singlePart: boolean): IntervalIndex {
  const byKey = new Map<ValKey, number[]>()
  const v4: Range<number>[] = []
  const num: Range<number>[] = []
  const v6: Range<bigint>[] = []
  const rest: number[] = []
  intervals.forEach((e, i) => {
    const p = e.parts[0]!
    if ('exact' in p) {
      const l = byKey.get(p.exact)
      if (l) l.push(i)
      else byKey.set(p.exact, [i])
    } else if ('range' in p) {
      if (p.range === 'v6') v6.push([p.lo, p.hi, i])
      else (p.range === 'v4' ? v4 : num).push([p.lo, p.hi, i])
    } else rest.push(i)
  })
  const nextNum = (x: number): number => x + 1
  const nextBig = (x: bigint): bigint => x + 1n
  return {
    byKey: new Map([...byKey].map(([k, l]) => [k, Int32Array.from(l)])),
    v4: buildSegments(v4, nextNum, singlePart, rest),
    num: buildSegments(num, nextNum, singlePart, rest),
    v6: buildSegments(v6, nextBig, singlePart, rest),
    rest: Int32Array.from(rest.sort((a, b) => a - b)),
  }
}

/**
 * Elementary segments of inclusive ranges (given in index order): every lo and hi+1 starts one,
 * and each segment lists the ranges covering it, in index order. With one key part, covering is
 * matching, so a segment keeps only its first range (linear size, filled by skipping segments
 * already taken). With more parts, nested ranges could make the lists quadratic: past a budget
 * of 16 entries per range, further ranges go to `spill`, which lookups scan.
 */
function buildSegments<T extends number | bigint>(ranges: readonly Range<T>[], next: (x: T) => T, singlePart: boolean, spill: number[]): Segments<T> {
  const valid = ranges.filter(([lo, hi]) => lo <= hi)
  const starts = [...new Set(valid.flatMap(([lo, hi]) => [lo, next(hi)]))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const position = new Map<T, number>(starts.map((s, j) => [s, j]))
  const lists: number[][] = starts.map(() => [])
  // singlePart: skip[j] leads past segments already taken (path-compressed).
  const skip = Int32Array.from(starts.keys())
  const free = (j: number): number => {
    let r = j
    while (r < starts.length && skip[r] !== r) r = skip[r]!
    for (let k = j; k !== r; ) {
      const after = skip[k]!
      skip[k] = r
      k = after
    }
    return r
  }
  let total = 0
  const budget = 16 * valid.length + 4096
  for (const [lo, hi, i] of valid) {
    const from = position.get(lo)!
    const to = position.get(next(hi))!
    if (singlePart) {
      for (let j = free(from); j < to; j = free(j + 1)) {
        lists[j]!.push(i)
        skip[j] = j + 1
      }
    } else if (total + (to - from) > budget) spill.push(i)
    else {
      for (let j = from; j < to; j++) lists[j]!.push(i)
      total += to - from
    }
  }
  return { starts, lists: lists.map((l) => Int32Array.from(l)) }
}
