/**
 * An in-memory ObjectSource with real list+watch semantics: every change gets the next
 * resourceVersion, watches replay history after the version they name, and a watch from a
 * version older than the retained history fails with 410. For tests and manifest-only runs.
 */
import { objectKey } from '../api/index.js'
import { WatchExpiredError, type ListResult, type ObjectMetaLike, type ObjectSource, type WatchEvent, type WatchHandlers, type WatchStop } from './object-source.js'

interface Recorded<T> {
  readonly rv: number
  readonly ev: WatchEvent<T>
}

export class MemoryObjectSource<T extends ObjectMetaLike> implements ObjectSource<T> {
  readonly #objects = new Map<string, T>()
  #history: Recorded<T>[] = []
  #rv = 0
  #oldestRetained = 0
  /** Each watcher's undelivered events; delivery is always asynchronous and in order. */
  readonly #watchers = new Map<WatchHandlers<T>, WatchEvent<T>[]>()

  constructor(initial: readonly T[] = []) {
    for (const o of initial) this.upsert(o)
  }

  get resourceVersion(): number {
    return this.#rv
  }

  get(key: string): T | undefined {
    return this.#objects.get(key)
  }

  items(): T[] {
    return [...this.#objects.values()]
  }

  upsert(object: T): T {
    const key = objectKey(object)
    const type = this.#objects.has(key) ? 'MODIFIED' : 'ADDED'
    const stored = this.#stamp(object)
    this.#objects.set(key, stored)
    this.#emit({ type, object: stored })
    return stored
  }

  delete(key: string): T | undefined {
    const old = this.#objects.get(key)
    if (!old) return undefined
    this.#objects.delete(key)
    this.#emit({ type: 'DELETED', object: this.#stamp(old) })
    return old
  }

  /** Drops the history (as compaction does): watches from older versions now get 410. */
  compact(): void {
    this.#history = []
    this.#oldestRetained = this.#rv
  }

  /** Ends every open watch with a 410, as an API server does after compaction. */
  expireWatches(): void {
    this.compact()
    for (const w of [...this.#watchers.keys()]) {
      this.#watchers.delete(w)
      queueMicrotask(() => w.error(new WatchExpiredError(String(this.#rv))))
    }
  }

  async list(): Promise<ListResult<T>> {
    return { items: this.items(), resourceVersion: String(this.#rv) }
  }

  watch(resourceVersion: string, handlers: WatchHandlers<T>): WatchStop {
    const since = Number(resourceVersion)
    if (!Number.isFinite(since) || since < this.#oldestRetained) {
      queueMicrotask(() => handlers.error(new WatchExpiredError(resourceVersion)))
      return { stop: () => {} }
    }
    const backlog = this.#history.filter((r) => r.rv > since).map((r) => r.ev)
    this.#watchers.set(handlers, backlog)
    if (backlog.length > 0) this.#schedule(handlers)
    return { stop: () => this.#watchers.delete(handlers) }
  }

  #stamp(object: T): T {
    this.#rv++
    return { ...object, metadata: { ...object.metadata, resourceVersion: String(this.#rv) } }
  }

  #emit(ev: WatchEvent<T>): void {
    this.#history.push({ rv: this.#rv, ev })
    if (this.#history.length > 1000) {
      const dropped = this.#history.splice(0, this.#history.length - 1000)
      this.#oldestRetained = dropped[dropped.length - 1]!.rv
    }
    for (const [w, queue] of this.#watchers) {
      queue.push(ev)
      if (queue.length === 1) this.#schedule(w)
    }
  }

  #schedule(w: WatchHandlers<T>): void {
    queueMicrotask(() => {
      const queue = this.#watchers.get(w)
      if (!queue) return
      const batch = queue.splice(0)
      for (const ev of batch) if (this.#watchers.has(w)) w.event(ev)
    })
  }
}
