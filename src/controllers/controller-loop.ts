/**
 * The shell every controller runs in: store watches map events to keys, a deduplicating queue
 * feeds one reconcile at a time, failures are retried with backoff (write races at once). The
 * reconcile functions hold the logic; this file holds the only timers of the controllers, and
 * the isolation boundary: no exception from a controller's functions leaves this shell.
 */
import { objectKey } from '../api/index.js'
import type { ObjectStore, StoreEvent, WatchHandle } from '../store/index.js'

export interface ControllerDefinition {
  readonly name: string
  readonly watches: readonly { readonly resource: string; keysOf(ev: StoreEvent): readonly string[] }[]
  /** Keys to reconcile at start (the state that existed before the watches began). */
  initialKeys(): readonly string[]
  /** May answer a delay (ms) after which the key is reconciled again (a deadline to check, say). */
  reconcile(key: string): Promise<void | number>
  /**
   * Reconciles in flight at once, never two of one key (upstream's --concurrent-*-syncs); default
   * 1. More lets a controller whose every reconcile waits for a durable write keep up with bursts.
   */
  readonly workers?: number
  /** Releases what the definition holds beyond the loop's watches (its Indexers' watches). */
  stop?(): void
}

export interface ControllerLoopOptions {
  readonly onError?: (controller: string, key: string, error: unknown) => void
  readonly maxBackoffMs?: number
}

export class ControllerLoop {
  readonly #def: ControllerDefinition
  readonly #store: ObjectStore
  readonly #opts: ControllerLoopOptions
  readonly #queue = new Set<string>()
  readonly #failures = new Map<string, number>()
  readonly #timers = new Set<NodeJS.Timeout>()
  /** Requeues a reconcile asked for; not waited on by idle() (they are deadlines, not pending work). */
  readonly #requeues = new Map<string, NodeJS.Timeout>()
  #watches: WatchHandle[] = []
  /** A pump is scheduled (setImmediate) but has not run yet. */
  #scheduled = false
  /** Keys being reconciled now. */
  readonly #active = new Set<string>()
  #stopped = false
  #idleWaiters: (() => void)[] = []

  constructor(store: ObjectStore, def: ControllerDefinition, opts: ControllerLoopOptions = {}) {
    this.#store = store
    this.#def = def
    this.#opts = opts
  }

  get name(): string {
    return this.#def.name
  }

  start(): void {
    const since = this.#store.resourceVersion
    this.#watches = this.#def.watches.map((w) => this.#store.watch(w.resource, { sinceResourceVersion: since }, (ev) => {
      // The store drops a watcher whose callback throws: one unreadable object would end every
      // later event of this controller. Report it with its key and keep watching.
      let keys: readonly string[]
      try {
        keys = w.keysOf(ev)
      } catch (e) {
        this.#report(`${w.resource} ${objectKey(ev.object)}`, e)
        return
      }
      for (const k of keys) this.enqueue(k)
    }))
    let initial: readonly string[] = []
    try {
      initial = this.#def.initialKeys()
    } catch (e) {
      this.#report('(initial keys)', e)
    }
    for (const k of initial) this.enqueue(k)
  }

  stop(): void {
    this.#stopped = true
    for (const w of this.#watches) w.stop()
    try {
      this.#def.stop?.()
    } catch (e) {
      this.#report('(stop)', e)
    }
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    for (const t of this.#requeues.values()) clearTimeout(t)
    this.#requeues.clear()
    this.#queue.clear()
    this.#wakeIdle()
  }

  enqueue(key: string): void {
    if (this.#stopped) return
    this.#queue.add(key)
    if (!this.#scheduled && this.#active.size < Math.max(1, this.#def.workers ?? 1)) {
      this.#scheduled = true
      setImmediate(() => {
        this.#scheduled = false
        this.#pump()
      })
    }
  }

  /** Resolves once the queue is empty and no retry is pending. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  get isIdle(): boolean {
    return this.#isIdle()
  }

  #isIdle(): boolean {
    return this.#stopped || (!this.#scheduled && this.#active.size === 0 && this.#queue.size === 0 && this.#timers.size === 0)
  }

  #wakeIdle(): void {
    if (!this.#isIdle()) return
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const w of waiters) w()
  }

  /** Starts reconciles for queued keys not in flight, up to the worker count. */
  #pump(): void {
    const workers = Math.max(1, this.#def.workers ?? 1)
    while (!this.#stopped && this.#active.size < workers) {
      let key: string | undefined
      for (const k of this.#queue) {
        if (!this.#active.has(k)) { key = k; break }
      }
      if (key === undefined) break
      this.#queue.delete(key)
      this.#active.add(key)
      void this.#run(key)
    }
    this.#wakeIdle()
  }

  async #run(key: string): Promise<void> {
    try {
      const after = await this.#def.reconcile(key)
      this.#failures.delete(key)
      if (typeof after === 'number') this.#requeueAfter(key, after)
    } catch (e) {
      this.#retryLater(key, e)
    } finally {
      this.#active.delete(key)
      this.#pump()
    }
  }

  #requeueAfter(key: string, ms: number): void {
    const old = this.#requeues.get(key)
    if (old) clearTimeout(old)
    const t = setTimeout(() => {
      this.#requeues.delete(key)
      this.enqueue(key)
    }, Math.max(0, Math.min(ms, 2 ** 31 - 1)))
    t.unref?.()
    this.#requeues.set(key, t)
  }

  #report(key: string, e: unknown): void {
    try {
      this.#opts.onError?.(this.#def.name, key, e)
    } catch {
      // a failing reporter must not stop the queue
    }
  }

  #retryLater(key: string, e: unknown): void {
    const n = (this.#failures.get(key) ?? 0) + 1
    this.#failures.set(key, n)
    const isRace = typeof e === 'object' && e !== null && ['Conflict', 'AlreadyExists', 'NotFound'].includes(String((e as { reason?: unknown }).reason))
    // write races (another writer got there first) are normal; only persistent ones are reported
    if (!isRace || n > 8) this.#report(key, e)
    const delay = isRace && n <= 3 ? 0 : Math.min(this.#opts.maxBackoffMs ?? 5_000, 10 * 2 ** Math.min(n, 10))
    const t = setTimeout(() => {
      this.#timers.delete(t)
      this.enqueue(key)
      this.#wakeIdle()
    }, delay)
    this.#timers.add(t)
  }
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/')
  return { namespace: key.slice(0, i), name: key.slice(i + 1) }
}
