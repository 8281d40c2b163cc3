/**
 * A resource's object keys (namespace/name) kept in byte order as they come and go, so a list
 * walks them instead of sorting every object on every call (at 100,000 pods the sort was most of
 * a controller's time). A B+ tree: insert and remove stay logarithmic at any size, where a sorted
 * array's splice moves half the keys on every create.
 */
import { createRequire } from 'node:module'

// A CommonJS package whose class is `exports.default`; required, so Node and vitest's module
// interop agree on what a default import would be.
const { default: BTree, simpleComparator } = createRequire(import.meta.url)('sorted-btree') as typeof import('sorted-btree')

export class SortedKeys {
  readonly #keys = new BTree<string, undefined>(undefined, simpleComparator as (a: string, b: string) => number)

  get size(): number {
    return this.#keys.size
  }

  add(key: string): void {
    this.#keys.set(key, undefined, false)
  }

  delete(key: string): void {
    this.#keys.delete(key)
  }

  /** Every key in order, or only those starting with `prefix` (a contiguous run in byte order). */
  *keys(prefix = ''): IterableIterator<string> {
    for (const k of this.#keys.keys(prefix === '' ? undefined : prefix)) {
      if (!k.startsWith(prefix)) return
      yield k
    }
  }
}
