/**
 * A reflector: lists, then watches from the list's resourceVersion, and keeps a cache keyed by
 * namespace/name. A 410 relists and reports the net difference as changes; other watch errors
 * retry after a bounded backoff. Handlers see (previous, current) pairs, never raw events; a
 * handler that throws for one object is reported with the object's key and the watch goes on.
 */
import type { Timers, TimerHandle } from '../runtime/index.js'
import { objectKey } from '../api/index.js'
import { isExpiredError, type ObjectMetaLike, type ObjectSource, type WatchStop } from './object-source.js'

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
  /** The watched kind, for reports ("Service", "Pod"). */
  readonly kind?: string
}

/** A change handler threw for one object. The cache keeps the object; the watch goes on. */
export class ChangeHandlerError extends Error {
  readonly kind: string
  readonly key: string
  constructor(kind: string, key: string, cause: unknown) {
    super(`${kind} ${key}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'ChangeHandlerError'
    this.kind = kind
    this.key = key
  }
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
      this.#report(err)
      this.#scheduleRetry()
      return
    }
    if (this.#stopped) return
    this.#replace(listed.items)
    try {
      this.#handlers.synced?.()
      this.#watch = this.#startWatch(listed.resourceVersion)
    } catch (err) {
      // Relists run from timers and watch errors, where a rejection would end the process.
      this.#report(err)
      this.#scheduleRetry()
    }
  }

  #report(err: unknown): void {
    try {
      this.#handlers.error?.(err)
    } catch {
      // a failing reporter must not end the watch either
    }
  }

  #startWatch(resourceVersion: string): WatchStop {
    return this.#source.watch(resourceVersion, {
      event: (ev) => {
        if (this.#stopped) return
        const key = objectKey(ev.object)
        const previous = this.#cache.get(key)
        if (ev.type === 'DELETED') {
          if (!previous) return
          this.#cache.delete(key)
          this.#deliver(key, previous, undefined)
          return
        }
        this.#cache.set(key, ev.object)
        this.#deliver(key, previous, ev.object)
      },
      error: (err) => {
        this.#watch = undefined
        if (this.#stopped) return
        if (isExpiredError(err)) void this.#listAndWatch()
        else {
          this.#report(err)
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
        this.#deliver(key, old, undefined)
      }
    }
    for (const [key, o] of next) {
      const old = this.#cache.get(key)
      if (old && old.metadata.resourceVersion !== undefined && old.metadata.resourceVersion === o.metadata.resourceVersion) continue
      this.#cache.set(key, o)
      this.#deliver(key, old, o)
    }
  }

  /**
   * The isolation boundary: an exception from the handler must not reach the source. A store
   * drops a watcher whose callback throws, so one bad object would silently end every later
   * update for this agent (issue 10: Services that never reach the rules).
   */
  #deliver(key: string, previous: T | undefined, current: T | undefined): void {
    try {
      this.#handlers.change(previous, current)
    } catch (err) {
      this.#report(new ChangeHandlerError(this.#opts.kind ?? 'object', key, err))
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
