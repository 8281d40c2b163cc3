/**
 * The ObjectStore: in-memory maps with a cluster-wide resourceVersion, optimistic concurrency,
 * all-or-nothing transactions, and watch with replay. A write becomes visible (to reads and
 * watchers) only after its persistence adapter says it is durable, in resourceVersion order.
 */
import { freezeShared, StringInterner } from './shared-values.js'
import { TransactingStore, watchMatches, type WatchFilter } from './write-ops.js'
import { EventHistory } from './event-history.js'
import { namespacedName } from '../api/index.js'
import { SortedKeys } from './sorted-keys.js'
import { formatKey, keyOf, parseKey } from './object-key.js'
import { memoryPersistence, type Persistence } from './persistence.js'
import { defaultQuotaBytes, StateSize } from './state-size.js'
import { StoreError } from './store-error.js'
import { checkPreconditions } from './preconditions.js'
import type {
  KubeObject, ListOptions, StoredObjectCheck, ListResult, ObjectKey, ObjectStore, StoreEvent, WatchHandle, WatchOptions, WriteOp,
} from './types.js'
import type { PersistedOp, Snapshot, WalRecord } from './wal-record.js'

export interface StoreOptions {
  readonly persistence?: Persistence
  /** How many events watch can replay. Default 10 000. */
  readonly historySize?: number
  /** Called with recovery warnings (a torn WAL tail, an object skipped by `admit`). */
  readonly onWarning?: (message: string) => void
  /**
   * Checks each loaded object; a non-empty list of problems keeps it out of the served state
   * (reported through onWarning and `skippedAtLoad`). Persisted files are not rewritten here.
   */
  readonly admit?: StoredObjectCheck
  /** Live state limit in serialized bytes; writes that grow the state past it fail. Default 2 GiB. */
  readonly quotaBytes?: number
}

/** An object the `admit` check kept out of the served state at load. */
export interface SkippedObject {
  readonly resource: string
  readonly object: KubeObject
  readonly problems: readonly string[]
}

interface Watcher extends WatchFilter {
  readonly onEvent: (ev: StoreEvent) => void
}

interface InFlight {
  readonly record: WalRecord
  readonly events: readonly StoreEvent[]
  durable: boolean
  readonly done: Promise<void>
  readonly resolve: () => void
  readonly reject: (e: unknown) => void
}

interface Staged {
  readonly object: KubeObject | undefined
  readonly rv: number
}

export class VersionedStore extends TransactingStore implements ObjectStore {
  readonly #persistence: Persistence
  readonly #committed = new Map<string, Map<string, KubeObject>>()
  /** Per resource, the committed keys in list order. */
  readonly #order = new Map<string, SortedKeys>()
  readonly #staged = new Map<string, Staged>()
  readonly #watchers = new Map<string, Set<Watcher>>()
  readonly #inFlight: InFlight[] = []
  readonly #size = new StateSize()
  readonly #quotaBytes: number
  readonly #onWarning: ((message: string) => void) | undefined
  /** Equal strings of stored objects are one string (see shared-values.ts). */
  readonly #strings = new StringInterner()
  #history: EventHistory
  #skipped: readonly SkippedObject[] = []
  #committedRv: number
  #nextRv: number
  #closed = false

  private constructor(persistence: Persistence, history: EventHistory, rv: number, quotaBytes: number, onWarning: StoreOptions['onWarning']) {
    super()
    this.#persistence = persistence
    this.#onWarning = onWarning
    this.#quotaBytes = quotaBytes
    this.#history = history
    this.#committedRv = rv
    this.#nextRv = rv
  }

  /** Loads snapshot and log through the adapter; without one, the store is memory-only. */
  static async open(opts: StoreOptions = {}): Promise<VersionedStore> {
    const persistence = opts.persistence ?? memoryPersistence()
    const loaded = await persistence.load()
    for (const w of loaded.warnings) opts.onWarning?.(w)
    const startRv = loaded.snapshot?.rv ?? 0
    const historySize = opts.historySize ?? 10_000
    const store = new VersionedStore(persistence, new EventHistory(historySize, startRv), startRv, opts.quotaBytes ?? defaultQuotaBytes, opts.onWarning)
    for (const [k, obj] of loaded.snapshot?.objects ?? []) store.#putCommitted(parseKey(k), freezeShared(obj, store.#strings))
    for (const rec of loaded.records) store.#applyCommitted(store.#replayEvents(rec), rec.rv)
    store.#nextRv = store.#committedRv
    if (opts.admit) {
      store.#skipped = store.#skipInadmissible(opts.admit)
      // replayed events may show skipped objects: watchers from before now must relist
      if (store.#skipped.length > 0) store.#history = new EventHistory(historySize, store.#committedRv)
      for (const s of store.#skipped) opts.onWarning?.(describeSkipped(s))
    }
    return store
  }

  /** Objects that `admit` kept out of the served state at load. */
  get skippedAtLoad(): readonly SkippedObject[] {
    return this.#skipped
  }

  /** Serialized bytes of the live objects, as counted against the quota. */
  get liveBytes(): number {
    return this.#size.total
  }

  get resourceVersion(): number {
    return this.#committedRv
  }

  /** Resolves once every write accepted so far is durable, hence visible to reads (failed ones included). */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#inFlight.map((f) => f.done))
  }

  get(key: ObjectKey): KubeObject | undefined {
    return this.#committed.get(key.resource)?.get(namespacedName(key.namespace, key.name))
  }

  list(resource: string, opts: ListOptions = {}): ListResult {
    const items: KubeObject[] = []
    const byName = this.#committed.get(resource)
    const order = this.#order.get(resource)
    if (byName && order) {
      for (const k of order.keys(opts.namespace === undefined ? '' : namespacedName(opts.namespace, ''))) items.push(byName.get(k)!)
    }
    return { items, resourceVersion: this.#committedRv }
  }

  async transact(ops: readonly WriteOp[]): Promise<readonly KubeObject[]> {
    if (this.#closed) throw new StoreError('Unavailable', 'store is closed')
    if (ops.length === 0) return []
    const { events, persisted } = this.#stage(ops)
    const record: WalRecord = { rv: this.#nextRv, ops: persisted }
    const flight = this.#track(record, events)
    this.#persistence.append(record).then(
      () => {
        flight.durable = true
        this.#drainDurable()
      },
      (e: unknown) => this.#abort(flight, e),
    )
    await flight.done
    return events.map((e) => e.object)
  }

  watch(resource: string, opts: WatchOptions, onEvent: (ev: StoreEvent) => void): WatchHandle {
    const since = opts.sinceResourceVersion
    if (since !== undefined && !this.#history.canReplayFrom(since)) {
      throw new StoreError('Expired', `too old resource version: ${since} (${this.#history.oldestReplayable})`)
    }
    const after = since ?? this.#committedRv
    const watcher: Watcher = { resource, namespace: opts.namespace, after, onEvent }
    for (const ev of this.#history.since(after)) {
      if (watchMatches(watcher, ev)) onEvent(ev)
    }
    let set = this.#watchers.get(resource)
    if (!set) this.#watchers.set(resource, (set = new Set()))
    set.add(watcher)
    return { stop: () => set.delete(watcher) }
  }

  /** Committed state for compaction. */
  snapshot(): Snapshot {
    const objects: (readonly [string, KubeObject])[] = []
    for (const [resource, byName] of this.#committed) {
      for (const obj of byName.values()) objects.push([formatKey(keyOf(resource, obj)), obj])
    }
    return { rv: this.#committedRv, objects }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.allSettled(this.#inFlight.map((f) => f.done))
    this.#watchers.clear()
    await this.#persistence.close()
  }

  /** Validates every op against the latest staged state and assigns resourceVersions; all or nothing. */
  #stage(ops: readonly WriteOp[]): { events: StoreEvent[]; persisted: PersistedOp[] } {
    const local = new Map<string, KubeObject | undefined>()
    const current = (k: string, key: ObjectKey): KubeObject | undefined =>
      local.has(k) ? local.get(k) : this.#staged.has(k) ? this.#staged.get(k)?.object : this.get(key)
    const events: StoreEvent[] = []
    const persisted: PersistedOp[] = []
    let rv = this.#nextRv
    let growth = 0
    for (const op of ops) {
      const key = op.type === 'delete' ? op.key : keyOf(op.resource, op.object)
      const k = formatKey(key)
      const existing = current(k, key)
      rv++
      if (op.type === 'create' && existing) throw new StoreError('AlreadyExists', `${k} already exists`, { key })
      if (op.type !== 'create') {
        if (!existing) throw new StoreError('NotFound', `${k} not found`, { key })
        checkPreconditions(key, existing, op.preconditions)
      }
      if (op.type === 'delete') {
        const last = freezeShared(withResourceVersion(existing as KubeObject, rv), this.#strings)
        local.set(k, undefined)
        growth -= this.#size.sizeOf(existing)
        events.push({ type: 'DELETED', resource: key.resource, object: last, resourceVersion: rv })
        persisted.push({ t: 'del', k, rv })
      } else {
        const { object, json } = serializedWithResourceVersion(op.object, rv)
        const stored = freezeShared(object, this.#strings)
        this.#size.remember(stored, json)
        local.set(k, stored)
        growth += this.#size.sizeOf(stored) - this.#size.sizeOf(existing)
        events.push({ type: op.type === 'create' ? 'ADDED' : 'MODIFIED', resource: key.resource, object: stored, resourceVersion: rv })
        persisted.push({ t: 'put', k, rv, o: stored })
      }
    }
    this.#checkQuota(growth, persisted.map((p) => p.k))
    this.#nextRv = rv
    for (const ev of events) {
      const k = formatKey(keyOf(ev.resource, ev.object))
      this.#staged.set(k, { object: ev.type === 'DELETED' ? undefined : ev.object, rv: ev.resourceVersion })
    }
    return { events, persisted }
  }

  #track(record: WalRecord, events: readonly StoreEvent[]): InFlight {
    let resolve: () => void = () => {}
    let reject: (e: unknown) => void = () => {}
    const done = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    const flight: InFlight = { record, events, durable: false, done, resolve, reject }
    this.#inFlight.push(flight)
    return flight
  }

  /** Applies durable transactions strictly in resourceVersion order. */
  #drainDurable(): void {
    while (this.#inFlight[0]?.durable) {
      const flight = this.#inFlight.shift() as InFlight
      this.#applyCommitted(flight.events, flight.record.rv)
      for (const ev of flight.events) {
        const k = formatKey(keyOf(ev.resource, ev.object))
        if (this.#staged.get(k)?.rv === ev.resourceVersion) this.#staged.delete(k)
      }
      flight.resolve()
    }
  }

  #abort(flight: InFlight, e: unknown): void {
    const idx = this.#inFlight.indexOf(flight)
    if (idx >= 0) this.#inFlight.splice(idx, 1)
    const first = flight.events[0]?.resourceVersion ?? Infinity
    for (const [k, s] of this.#staged) if (s.rv >= first) this.#staged.delete(k)
    flight.reject(e)
  }

  /**
   * Like etcd's backend quota: a write that would grow the live state past the quota fails, while
   * reads, deletes and shrinking updates go on. Checked against committed state plus this write.
   */
  #checkQuota(growth: number, keys: readonly string[]): void {
    const after = this.#size.total + growth
    if (growth <= 0 || after <= this.#quotaBytes) return
    const what = keys.length === 1 ? keys[0] : `${keys[0] ?? ''} and ${keys.length - 1} more`
    throw new StoreError('QuotaExceeded',
      `store quota exceeded: writing ${what} would make the live objects take ${after} bytes, over the quota of ${this.#quotaBytes} bytes; delete objects to free space`)
  }

  #skipInadmissible(admit: NonNullable<StoreOptions['admit']>): SkippedObject[] {
    const skipped: SkippedObject[] = []
    for (const [resource, byName] of this.#committed) {
      for (const [name, object] of byName) {
        let problems: readonly string[]
        try {
          problems = admit(resource, object)
        } catch (e) {
          problems = [`check failed: ${e instanceof Error ? e.message : String(e)}`]
        }
        if (problems.length === 0) continue
        byName.delete(name)
        this.#order.get(resource)?.delete(name)
        this.#size.replace(object, undefined)
        skipped.push({ resource, object, problems })
      }
    }
    return skipped
  }

  #applyCommitted(events: readonly StoreEvent[], rv: number): void {
    for (const ev of events) {
      const key = keyOf(ev.resource, ev.object)
      if (ev.type === 'DELETED') {
        this.#size.replace(this.get(key), undefined)
        this.#committed.get(key.resource)?.delete(namespacedName(key.namespace, key.name))
        this.#order.get(key.resource)?.delete(namespacedName(key.namespace, key.name))
      } else this.#putCommitted(key, ev.object)
      this.#history.push(ev)
    }
    this.#committedRv = rv
    for (const ev of events) this.#dispatch(ev)
  }

  #replayEvents(rec: WalRecord): StoreEvent[] {
    const events: StoreEvent[] = []
    const seen = new Map<string, KubeObject | undefined>()
    for (const op of rec.ops) {
      const key = parseKey(op.k)
      const before = seen.has(op.k) ? seen.get(op.k) : this.get(key)
      if (op.t === 'del') {
        if (before) events.push({ type: 'DELETED', resource: key.resource, object: freezeShared(withResourceVersion(before, op.rv), this.#strings), resourceVersion: op.rv })
        seen.set(op.k, undefined)
      } else {
        const obj = freezeShared(op.o, this.#strings)
        events.push({ type: before ? 'MODIFIED' : 'ADDED', resource: key.resource, object: obj, resourceVersion: op.rv })
        seen.set(op.k, obj)
      }
    }
    return events
  }

  #putCommitted(key: ObjectKey, obj: KubeObject): void {
    let byName = this.#committed.get(key.resource)
    if (!byName) this.#committed.set(key.resource, (byName = new Map()))
    const name = namespacedName(key.namespace, key.name)
    const previous = byName.get(name)
    this.#size.replace(previous, obj)
    byName.set(name, obj)
    if (previous === undefined) {
      let order = this.#order.get(key.resource)
      if (!order) this.#order.set(key.resource, (order = new SortedKeys()))
      order.add(name)
    }
  }

  #dispatch(ev: StoreEvent): void {
    const set = this.#watchers.get(ev.resource)
    if (!set) return
    for (const w of [...set]) {
      if (!watchMatches(w, ev)) continue
      try {
        w.onEvent(ev)
      } catch (e) {
        // a failing listener must not break the commit path; it is dropped, and said so
        set.delete(w)
        this.#onWarning?.(`a watch on ${ev.resource} was stopped: its listener threw on ${ev.type} ${ev.object.metadata.namespace ?? ''}/${ev.object.metadata.name ?? ''}: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  }
}

function describeSkipped(s: SkippedObject): string {
  const ns = s.object.metadata.namespace
  return `skipped ${s.resource} ${ns ? `${ns}/` : ''}${s.object.metadata.name ?? ''} from the data dir: ${s.problems.join('; ')}; it is not served, and the next compaction leaves it out of the snapshot`
}

function withResourceVersion(obj: KubeObject, rv: number): KubeObject {
  return serializedWithResourceVersion(obj, rv).object
}

/**
 * The store's own copy of `obj` at `rv`, through its JSON text: the same object a restart reads
 * back from the log, and the text gives the quota its size without serializing again.
 */
function serializedWithResourceVersion(obj: KubeObject, rv: number): { object: KubeObject; json: string } {
  const json = JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } })
  return { object: JSON.parse(json) as KubeObject, json }
}

