/**
 * A resource's object keys (namespace/name) kept in byte order as they come and go, so a list
 * walks them instead of sorting every object on every call (at 100,000 pods the sort was most of
 * a controller's time). Insert and remove are a binary search and one splice.
 */
export class SortedKeys {
  readonly #keys: string[] = []

  get size(): number {
    return this.#keys.length
  }

  /** Index of the first key >= `key`. */
  #lowerBound(key: string): number {
    let lo = 0
    let hi = this.#keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#keys[mid]! < key) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  add(key: string): void {
    const i = this.#lowerBound(key)
    if (this.#keys[i] !== key) this.#keys.splice(i, 0, key)
  }

  delete(key: string): void {
    const i = this.#lowerBound(key)
    if (this.#keys[i] === key) this.#keys.splice(i, 1)
  }

  /** Every key in order, or only those starting with `prefix` (a contiguous run in byte order). */
  *keys(prefix = ''): IterableIterator<string> {
    for (let i = prefix === '' ? 0 : this.#lowerBound(prefix); i < this.#keys.length; i++) {
      const k = this.#keys[i]!
      if (!k.startsWith(prefix)) return
      yield k
    }
  }
}
