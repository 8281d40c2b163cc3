/**
 * A controller's read cache of one resource, grouped by an index function (client-go's Indexer):
 * listed once, then kept by a store watch, so a reconcile reads the few objects it concerns
 * instead of listing the resource. The store dispatches a write's events as it commits it, so
 * the cache answers what a list would at the same moment.
 */
import { objectKey } from '../api/index.js'
import type { KubeObject, ObjectStoreReader, StoreEvent, WatchHandle, WatchOptions } from '../store/index.js'

/** What an Indexer needs of the store: reads, and a watch from a resourceVersion. */
export interface IndexedSource extends ObjectStoreReader {
  watch(resource: string, opts: WatchOptions, onEvent: (ev: StoreEvent) => void): WatchHandle
}

/** The index values an object is filed under (none: not kept). */
export type IndexFunc = (object: KubeObject) => readonly string[]

export class Indexer {
  readonly #store: IndexedSource
  readonly #resource: string
  readonly #indexFn: IndexFunc
  /** index value -> object key -> object */
  readonly #byValue = new Map<string, Map<string, KubeObject>>()
  /** object key -> the index values it is filed under now */
  readonly #filed = new Map<string, readonly string[]>()
  #watch: WatchHandle | undefined
  #stopped = false

  constructor(store: IndexedSource, resource: string, indexFn: IndexFunc) {
    this.#store = store
    this.#resource = resource
    this.#indexFn = indexFn
  }

  /** The objects filed under `value`, in object-key order; the first call lists the resource and starts the watch. */
  byIndex(value: string): KubeObject[] {
    this.#open()
    const objects = this.#byValue.get(value)
    if (!objects) return []
    return [...objects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o)
  }

  /** How many objects are filed under `value` (lists the resource on first use, as byIndex). */
  count(value: string): number {
    this.#open()
    return this.#byValue.get(value)?.size ?? 0
  }

  /** Ends the watch; a later read lists again. */
  stop(): void {
    this.#stopped = true
    this.#watch?.stop()
    this.#watch = undefined
    this.#byValue.clear()
    this.#filed.clear()
  }

  #open(): void {
    if (this.#watch) return
    this.#stopped = false
    const listed = this.#store.list(this.#resource)
    for (const o of listed.items) this.#file(objectKey(o), o)
    this.#watch = this.#store.watch(this.#resource, { sinceResourceVersion: listed.resourceVersion }, (ev) => {
      if (this.#stopped) return
      try {
        this.#file(objectKey(ev.object), ev.type === 'DELETED' ? undefined : ev.object)
      } catch {
        // The store drops a watcher that throws, which would leave the cache stale for good:
        // forget it instead, so the next read lists again (and fails there, where it is reported).
        this.stop()
      }
    })
  }

  #file(key: string, object: KubeObject | undefined): void {
    for (const v of this.#filed.get(key) ?? []) {
      const objects = this.#byValue.get(v)
      objects?.delete(key)
      if (objects?.size === 0) this.#byValue.delete(v)
    }
    const values = object ? [...new Set(this.#indexFn(object))] : []
    if (values.length === 0) {
      this.#filed.delete(key)
      return
    }
    this.#filed.set(key, values)
    for (const v of values) {
      let objects = this.#byValue.get(v)
      if (!objects) this.#byValue.set(v, (objects = new Map()))
      objects.set(key, object!)
    }
  }
}
