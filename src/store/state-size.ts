/**
 * The size of the live state in serialized bytes, kept up to date write by write, for the store
 * quota (etcd's "database space exceeded"). Stored objects are frozen, so each one's size is
 * computed once and remembered by identity.
 */
import type { KubeObject } from './types.js'

/** etcd's default backend quota. */
export const defaultQuotaBytes = 2 * 1024 * 1024 * 1024

export class StateSize {
  readonly #bytes = new WeakMap<KubeObject, number>()
  #total = 0

  get total(): number {
    return this.#total
  }

  sizeOf(obj: KubeObject | undefined): number {
    if (obj === undefined) return 0
    let n = this.#bytes.get(obj)
    if (n === undefined) {
      n = Buffer.byteLength(JSON.stringify(obj))
      this.#bytes.set(obj, n)
    }
    return n
  }

  /** Records the size of `obj` from its JSON text, already at hand. */
  remember(obj: KubeObject, json: string): void {
    this.#bytes.set(obj, Buffer.byteLength(json))
  }

  /** Accounts for one object replacing another (either may be absent). */
  replace(before: KubeObject | undefined, after: KubeObject | undefined): void {
    this.#total += this.sizeOf(after) - this.sizeOf(before)
  }
}
