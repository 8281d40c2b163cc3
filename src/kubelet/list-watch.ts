/**
 * A reflector: lists, then watches from the list's resourceVersion, and keeps a cache keyed by
 * namespace/name. A 410 relists and reports the net difference as changes; other watch errors
 * retry after a bounded backoff. Handlers see (previous, current) pairs, never raw events.
 */
import { isExpiredError, objectKey, type ObjectMetaLike, type ObjectSource, type Timers, type TimerHandle, type WatchStop } from './object-source.js'

export interface ListWatchHandlers<T> {
  /** previous undefined: added; current undefined: deleted. */
  change(previous: T | undefined, current: T | undefined): void
  /** The cache holds a complete list (after the first list and after every relist). */
  synced?(): void
  error?(err: unknown): void
}

export interface ListWatchOptions {
  readonly timers: Timers
  readonly retryMs?: number
}

export class ListWatcher<T extends ObjectMetaLike> {
  readonly #source: ObjectSource<T>
  readonly #handlers: ListWatchHandlers<T>
  readonly #opts: ListWatchOptions
  readonly #cache = new Map<string, T>()
  #watch: WatchStop | undefined
  #retry: TimerHandle | undefined
  #stopped = false
  #relists = 0

  constructor(source: ObjectSource<T>, handlers: ListWatchHandlers<T>, opts: ListWatchOptions) {
    this.#source = source
    this.#handlers = handlers
    this.#opts = opts
  }

  /** Resolves after the first list has been delivered. */
  async start(): Promise<void> {
    await this.#listAndWatch()
  }

  stop(): void {
    this.#stopped = true
    this.#watch?.stop()
    if (this.#retry) this.#opts.timers.clearTimeout(this.#retry)
  }

  get relists(): number {
    return this.#relists
  }

  items(): T[] {
    return [...this.#cache.values()]
  }

  async #listAndWatch(): Promise<void> {
    if (this.#stopped) return
    this.#relists++
    let listed
    try {
      listed = await this.#source.list()
    } catch (err) {
      this.#handlers.error?.(err)
      this.#scheduleRetry()
      return
    }
    if (this.#stopped) return
    this.#replace(listed.items)
    this.#handlers.synced?.()
    this.#watch = this.#source.watch(listed.resourceVersion, {
      event: (ev) => {
        if (this.#stopped) return
        const key = objectKey(ev.object)
        const previous = this.#cache.get(key)
        if (ev.type === 'DELETED') {
          if (!previous) return
          this.#cache.delete(key)
          this.#handlers.change(previous, undefined)
          return
        }
        this.#cache.set(key, ev.object)
        this.#handlers.change(previous, ev.object)
      },
      error: (err) => {
        this.#watch = undefined
        if (this.#stopped) return
        if (isExpiredError(err)) void this.#listAndWatch()
        else {
          this.#handlers.error?.(err)
          this.#scheduleRetry()
        }
      },
    })
  }

  #replace(items: readonly T[]): void {
    const next = new Map(items.map((o) => [objectKey(o), o]))
    for (const [key, old] of [...this.#cache]) {
      if (!next.has(key)) {
        this.#cache.delete(key)
        this.#handlers.change(old, undefined)
      }
    }
    for (const [key, o] of next) {
      const old = this.#cache.get(key)
      if (old && old.metadata.resourceVersion !== undefined && old.metadata.resourceVersion === o.metadata.resourceVersion) continue
      this.#cache.set(key, o)
      this.#handlers.change(old, o)
    }
  }

  #scheduleRetry(): void {
    if (this.#stopped) return
    this.#retry = this.#opts.timers.setTimeout(() => {
      this.#retry = undefined
      void this.#listAndWatch()
    }, this.#opts.retryMs ?? 1000)
  }
}
