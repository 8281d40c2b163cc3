/**
 * Stored objects share their repeated values: equal strings ("v1", "True", an image, a
 * timestamp) become one string, and every empty object or array one frozen instance. Decoded
 * request bodies carry a fresh copy of each; at 100,000 pods the copies were a quarter of the heap.
 */

const emptyObject: Readonly<Record<string, never>> = Object.freeze({})
const emptyArray: readonly never[] = Object.freeze([])

/** Strings longer than this are rarely repeated (notes, certificates, data) and are kept as they are. */
const maxInternedLength = 128
/**
 * V8's JSON.parse already gives equal string values of up to 10 characters one shared string, and
 * the store makes its copy of every object through JSON.parse (and reads its log with it): shorter
 * ones need no table, which keeps the table off most of a write's strings.
 */
const minInternedLength = 11

/**
 * Canonical strings in two generations: a string seen in the current or the previous one is
 * shared; one seen in neither starts in the current. When the current fills, the previous is
 * dropped, so strings seen once (names, uids, addresses) leave the table after two generations
 * while the repeated ones are carried forward on their next use.
 */
export class StringInterner {
  readonly #generationSize: number
  #current = new Map<string, string>()
  #previous = new Map<string, string>()

  constructor(generationSize = 65_536) {
    this.#generationSize = Math.max(1, generationSize)
  }

  intern(s: string): string {
    if (s.length < minInternedLength || s.length > maxInternedLength) return s
    const held = this.#current.get(s)
    if (held !== undefined) return held
    const canonical = this.#previous.get(s) ?? s
    if (this.#current.size >= this.#generationSize) {
      this.#previous = this.#current
      this.#current = new Map()
    }
    this.#current.set(canonical, canonical)
    return canonical
  }

  /** How many strings the table holds (both generations, counting a carried-forward one twice). */
  get size(): number {
    return this.#current.size + this.#previous.size
  }

  has(s: string): boolean {
    return this.#current.has(s) || this.#previous.has(s)
  }
}

function isPlainContainer(v: object): boolean {
  if (Array.isArray(v)) return true
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

function isEmpty(v: object): boolean {
  return Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0
}

/**
 * Deep-freezes `value` as `deepFreeze` does, first pointing each not-yet-frozen plain object's
 * string properties at their canonical copies and its empty object/array properties at the
 * shared frozen ones. Already frozen parts were shared when they were stored and are left alone;
 * only plain objects and arrays (what JSON decodes to) are rewritten.
 */
export function freezeShared<T>(value: T, strings: StringInterner): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value
  const o = value as Record<string, unknown>
  if (isPlainContainer(o)) {
    for (const k of Object.keys(o)) {
      const v = o[k]
      if (typeof v === 'string') o[k] = strings.intern(v)
      else if (v !== null && typeof v === 'object' && !Object.isFrozen(v) && isPlainContainer(v) && isEmpty(v)) {
        o[k] = Array.isArray(v) ? emptyArray : emptyObject
      }
    }
  }
  // Frozen before its children, as deepFreeze: a cycle ends at the frozen parent.
  Object.freeze(o)
  for (const v of Object.values(o)) freezeShared(v, strings)
  return value
}
