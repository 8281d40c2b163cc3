/**
 * The ObjectStore on etcd, shaped like kube-apiserver's storage: objects under /registry in
 * kube-apiserver's layout and encoding, resourceVersion = mod revision, writes as Txns with a
 * compare on each key's mod revision, reads and watches from a cache fed by one prefix watch.
 */
import type { Etcd3, IKeyValue, IOptions, ITxnResponse, IWatchResponse, Watcher as EtcdWatcher } from 'etcd3'
import { namespacedName, servedResources, storageResource } from '../../api/index.js'
import { deepFreeze } from '../deep-freeze.js'
import { EventHistory } from '../event-history.js'
import { formatKey } from '../object-key.js'
import { StoreError } from '../store-error.js'
import { listResult, TransactingStore, watchMatches, type WatchFilter } from '../write-ops.js'
import type {
  KubeObject, ListOptions, StoredObjectCheck, ListResult, ObjectKey, ObjectStore, StoreEvent, WatchHandle, WatchOptions, WriteOp,
} from '../types.js'
import { builtInDirectories, defaultEtcdPrefix, etcdKeyOf, parseEtcdKey } from './key-layout.js'
import { planTxn, type Current, type TxnPlan } from './txn-plan.js'
import { decodeStoredValue, encodeStoredValue } from './value-codec.js'

export interface EtcdTls {
  /** PEM of the CA that signed etcd's serving certificate (--etcd-cafile). */
  readonly ca: Buffer
  /** PEM client certificate and key (--etcd-certfile, --etcd-keyfile), when etcd asks for one. */
  readonly cert?: Buffer
  readonly key?: Buffer
}

export interface EtcdStoreOptions {
  /** host:port of each member. */
  readonly endpoints: readonly string[]
  readonly tls?: EtcdTls
  /** kube-apiserver's --etcd-prefix. Default /registry. */
  readonly prefix?: string
  /** How many events watch can replay. Default 10 000. */
  readonly historySize?: number
  /** Compact etcd to the revision seen one interval ago, as kube-apiserver's --etcd-compaction-interval. Default 5 min; 0 never. */
  readonly compactionIntervalMs?: number
  readonly dialTimeoutMs?: number
  readonly onWarning?: (message: string) => void
  /** See StoreOptions.admit: problems with a loaded object keep it out of the served state. */
  readonly admit?: StoredObjectCheck
}

interface Cached {
  readonly object: KubeObject
  readonly modRevision: number
}

interface StoreWatcher extends WatchFilter {
  readonly onEvent: (ev: StoreEvent) => void
}

/** How long close() waits for writes in flight to become visible before it answers them Unavailable. */
const closeWaitMs = 10_000

/** A Txn retried with fresh state this many times before the write answers Conflict. */
const maxTxnAttempts = 16

export class EtcdStore extends TransactingStore implements ObjectStore {
  readonly #client: Etcd3
  readonly #prefix: string
  readonly #builtIns = builtInDirectories(servedResources.map(storageResource))
  readonly #objects = new Map<string, Map<string, Cached>>()
  readonly #watchers = new Set<StoreWatcher>()
  readonly #waiters: { readonly revision: number; readonly resolve: () => void; readonly reject: (e: unknown) => void }[] = []
  readonly #inFlight = new Set<Promise<unknown>>()
  /**
   * Objects this store is writing, by etcd key with the bytes sent: when the watch brings those
   * bytes back, the cache keeps the object as written, not its protobuf round trip (which drops
   * empty values), so a controller reads back exactly what it wrote.
   */
  readonly #written = new Map<string, { readonly bytes: Buffer; readonly object: KubeObject }[]>()
  readonly #opts: EtcdStoreOptions
  #history: EventHistory
  #revision = 0
  #watch: EtcdWatcher | undefined
  #compactor: NodeJS.Timeout | undefined
  /** close() was called: no new writes. The watch still runs until the writes in flight are visible. */
  #closing: Promise<void> | undefined
  #closed = false

  private constructor(client: Etcd3, opts: EtcdStoreOptions) {
    super()
    this.#client = client
    this.#opts = opts
    this.#prefix = opts.prefix ?? defaultEtcdPrefix
    this.#history = new EventHistory(opts.historySize ?? 10_000, 0)
  }

  /** Connects, loads every object under the prefix and starts the watch that keeps the cache current. */
  static async open(opts: EtcdStoreOptions): Promise<EtcdStore> {
    if (opts.endpoints.length === 0) throw new StoreError('Invalid', 'etcd: no endpoints given')
    const scheme = opts.tls ? 'https' : 'http'
    const options: IOptions = {
      hosts: opts.endpoints.map((e) => `${scheme}://${e}`),
      dialTimeout: opts.dialTimeoutMs ?? 5_000,
      ...(opts.tls ? { credentials: { rootCertificate: opts.tls.ca, ...(opts.tls.key ? { privateKey: opts.tls.key } : {}), ...(opts.tls.cert ? { certChain: opts.tls.cert } : {}) } } : {}),
    }
    // gRPC and etcd's protos load only when a store on etcd is opened, not with every kpe command
    const { Etcd3: Client } = await import('etcd3')
    const store = new EtcdStore(new Client(options), opts)
    try {
      const revision = await store.#load()
      store.#history = new EventHistory(opts.historySize ?? 10_000, revision)
      await store.#startWatch(revision)
    } catch (e) {
      store.#client.close()
      throw asStoreError(e, `etcd at ${opts.endpoints.join(',')}`)
    }
    store.#startCompactor(opts.compactionIntervalMs ?? 5 * 60_000)
    return store
  }

  get resourceVersion(): number {
    return this.#revision
  }

  get(key: ObjectKey): KubeObject | undefined {
    return this.#objects.get(key.resource)?.get(namespacedName(key.namespace, key.name))?.object
  }

  list(resource: string, opts: ListOptions = {}): ListResult {
    return listResult([...(this.#objects.get(resource)?.values() ?? [])].map((c) => c.object), opts, this.#revision)
  }

  /** All ops in one etcd Txn, hence one revision shared by every op; resolves once the cache shows it. */
  async transact(ops: readonly WriteOp[]): Promise<readonly KubeObject[]> {
    if (this.#closing) throw new StoreError('Unavailable', 'store is closed')
    if (ops.length === 0) return []
    const run = this.#commit(ops)
    this.#inFlight.add(run)
    try {
      const events = await run
      return events.map((e) => e.object)
    } finally {
      this.#inFlight.delete(run)
    }
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inFlight])
  }

  watch(resource: string, opts: WatchOptions, onEvent: (ev: StoreEvent) => void): WatchHandle {
    const since = opts.sinceResourceVersion
    if (since !== undefined && !this.#history.canReplayFrom(since)) {
      throw new StoreError('Expired', `too old resource version: ${since} (${this.#history.oldestReplayable})`)
    }
    const watcher: StoreWatcher = { resource, namespace: opts.namespace, after: since ?? this.#revision, onEvent }
    for (const ev of this.#history.since(watcher.after)) if (watchMatches(watcher, ev)) onEvent(ev)
    this.#watchers.add(watcher)
    return { stop: () => this.#watchers.delete(watcher) }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    if (this.#compactor) clearInterval(this.#compactor)
    // a write in flight is acknowledged once the watch shows it: the cache keeps applying events until
    // then; bounded, so that an etcd gone silent cannot hold kpe's shutdown (those writes answer Unavailable)
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, closeWaitMs) })
    await Promise.race([Promise.allSettled([...this.#inFlight]), bound])
    clearTimeout(timer)
    this.#closed = true
    this.#watchers.clear()
    for (const w of this.#waiters.splice(0)) w.reject(new StoreError('Unavailable', `store closed before etcd's watch showed revision ${w.revision}: that write may or may not have been applied`))
    await this.#watch?.cancel().catch(() => undefined)
    this.#client.close()
  }

  /**
   * Plans against the cache first; when etcd refuses the Txn (another write got there first, or
   * the cache lags), plans again against the keys' values that the refused Txn read back.
   */
  async #commit(ops: readonly WriteOp[]): Promise<StoreEvent[]> {
    let current = (key: ObjectKey): Current => {
      const c = this.#objects.get(key.resource)?.get(namespacedName(key.namespace, key.name))
      return c ? { object: c.object, modRevision: c.modRevision } : { object: undefined, modRevision: 0 }
    }
    for (let attempt = 0; attempt < maxTxnAttempts; attempt++) {
      const plan = planTxn(this.#prefix, ops, current)
      const puts = plan.writes.flatMap((w) => (w.type === 'put' ? [{ etcdKey: w.etcdKey, bytes: encodeStoredValue(w.object).bytes, object: w.object }] : []))
      for (const p of puts) this.#written.set(p.etcdKey, [...(this.#written.get(p.etcdKey) ?? []), p])
      let res: ITxnResponse
      try {
        res = await this.#runTxn(plan, puts)
        if (res.succeeded) await this.#visible(Number(res.header.revision))
      } finally {
        for (const p of puts) this.#forget(p.etcdKey, p.bytes)
      }
      if (res.succeeded) return plan.events(Number(res.header.revision))
      const fresh = new Map<string, Current>()
      for (const r of res.responses) {
        const kv = r.response_range?.kvs[0]
        if (kv) fresh.set(kv.key.toString('utf8'), this.#currentOf(kv))
      }
      current = (key) => fresh.get(etcdKeyOf(this.#prefix, key)) ?? { object: undefined, modRevision: 0 }
    }
    throw new StoreError('Conflict', `etcd: the write to ${ops.map(opKey).join(', ')} lost ${maxTxnAttempts} races with other writers; retry it`)
  }

  #runTxn(plan: TxnPlan, puts: readonly { readonly etcdKey: string; readonly bytes: Buffer }[]): Promise<ITxnResponse> {
    const bytesOf = new Map(puts.map((p) => [p.etcdKey, p.bytes]))
    const encoded = plan.writes.map((w) => (w.type === 'put'
      ? { request_put: { key: Buffer.from(w.etcdKey), value: bytesOf.get(w.etcdKey) ?? encodeStoredValue(w.object).bytes } }
      : { request_delete_range: { key: Buffer.from(w.etcdKey) } }))
    return this.#client.kv.txn({
      compare: plan.compares.map((c) => ({ key: Buffer.from(c.etcdKey), target: 'Mod', result: 'Equal', mod_revision: c.modRevision })),
      success: encoded,
      failure: plan.compares.map((c) => ({ request_range: { key: Buffer.from(c.etcdKey) } })),
    }).catch((e: unknown) => {
      throw asStoreError(e, `etcd: the write to ${plan.writes.map((w) => w.etcdKey).join(', ')}`)
    })
  }

  /** The object this store wrote as `bytes` to `etcdKey`, taken out of #written. */
  #takeWritten(etcdKey: string, bytes: Buffer): KubeObject | undefined {
    const entry = this.#written.get(etcdKey)?.find((w) => w.bytes.equals(bytes))
    if (entry) this.#forget(etcdKey, bytes)
    return entry?.object
  }

  #forget(etcdKey: string, bytes: Buffer): void {
    const left = (this.#written.get(etcdKey) ?? []).filter((w) => !w.bytes.equals(bytes))
    if (left.length > 0) this.#written.set(etcdKey, left)
    else this.#written.delete(etcdKey)
  }

  #currentOf(kv: IKeyValue): Current {
    const modRevision = Number(kv.mod_revision)
    try {
      return { object: decodeStoredValue(kv.value, modRevision), modRevision }
    } catch (e) {
      throw new StoreError('Corrupt', `etcd key ${kv.key.toString('utf8')}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
    }
  }

  /** Resolves once the watch has brought the cache to `revision`: a write is read back by the next read. */
  #visible(revision: number): Promise<void> {
    if (this.#revision >= revision) return Promise.resolve()
    return new Promise((resolve, reject) => this.#waiters.push({ revision, resolve, reject }))
  }

  async #load(): Promise<number> {
    const res = await this.#client.kv.range({ key: Buffer.from(`${this.#prefix}/`), range_end: prefixEnd(`${this.#prefix}/`) })
    for (const kv of res.kvs) {
      const entry = this.#readForeign(kv)
      if (entry) this.#put(entry.key, { object: entry.object, modRevision: Number(kv.mod_revision) })
    }
    this.#revision = Number(res.header.revision)
    return this.#revision
  }

  /**
   * A value kpe may not have written (at load, after a reload, or put by another writer while it
   * runs): served only when it decodes, names the object its key names, and passes the same check
   * as at load; otherwise skipped with a warning naming the key.
   */
  #readForeign(kv: IKeyValue): { key: ObjectKey; object: KubeObject } | undefined {
    const entry = this.#decode(kv)
    if (!entry) return undefined
    const meta = entry.object.metadata as { name?: unknown; namespace?: unknown } | undefined
    const problems = meta?.name !== entry.key.name || (meta?.namespace ?? '') !== entry.key.namespace
      ? [`its metadata names ${JSON.stringify(meta?.namespace ?? '')}/${JSON.stringify(meta?.name)}, not the object its key names`]
      : this.#admitProblems(entry.key.resource, entry.object)
    if (problems.length === 0) return entry
    this.#opts.onWarning?.(`skipped ${formatKey(entry.key)} (etcd key ${kv.key.toString('utf8')}): ${problems.join('; ')}; it is not served`)
    return undefined
  }

  #admitProblems(resource: string, object: KubeObject): readonly string[] {
    if (!this.#opts.admit) return []
    try {
      return this.#opts.admit(resource, object)
    } catch (e) {
      return [`check failed: ${e instanceof Error ? e.message : String(e)}`]
    }
  }

  async #startWatch(fromRevision: number): Promise<void> {
    const watcher = await this.#client.watch().prefix(`${this.#prefix}/`).startRevision(String(fromRevision + 1)).withPreviousKV().create()
    this.#watch = watcher
    watcher.on('data', (res: IWatchResponse) => {
      // the client rethrows a listener's exception outside any handler, which would end kpe
      try {
        this.#onWatch(res)
      } catch (e) {
        this.#opts.onWarning?.(`etcd watch event on ${this.#prefix}/ not applied: ${e instanceof Error ? e.message : String(e)}`)
      }
    })
    // a canceled watch (its revision was compacted) cannot resume: load again and diff
    watcher.on('error', (e: unknown) => {
      if (this.#closed || watcher !== this.#watch) return
      // etcd 3.4 gives no cancel reason for a compacted revision (only compact_revision, which the client keeps)
      const reason = (e instanceof Error ? e.message : String(e)).replace(/^Watcher canceled:\s*/, '') || 'no reason given: its revision was most likely compacted'
      this.#opts.onWarning?.(`etcd canceled kpe's watch on ${this.#prefix}/ (${reason}); reading ${this.#prefix}/ again`)
      void this.#relist()
    })
  }

  #onWatch(res: IWatchResponse): void {
    if (this.#closed || res.events.length === 0) return
    let revision = this.#revision
    for (const ev of res.events) {
      const modRevision = Number(ev.kv.mod_revision)
      revision = Math.max(revision, modRevision)
      const key = parseEtcdKey(this.#prefix, ev.kv.key.toString('utf8'), this.#builtIns)
      if (!key) continue
      if (ev.type === 'Delete') {
        const last = this.#cached(key)?.object ?? (ev.prev_kv ? this.#decode(ev.prev_kv)?.object : undefined)
        this.#remove(key)
        if (last) this.#emit({ type: 'DELETED', resource: key.resource, object: withRevision(last, modRevision), resourceVersion: modRevision })
        continue
      }
      const mine = this.#takeWritten(ev.kv.key.toString('utf8'), ev.kv.value)
      const object = mine ? withRevision(mine, modRevision) : this.#readForeign(ev.kv)?.object
      if (!object) {
        // an unreadable or refused value replaces what was served under its key: that object is gone
        const last = this.#cached(key)?.object
        if (last) {
          this.#remove(key)
          this.#emit({ type: 'DELETED', resource: key.resource, object: withRevision(last, modRevision), resourceVersion: modRevision })
        }
        continue
      }
      const existed = this.#cached(key) !== undefined
      this.#put(key, { object, modRevision })
      this.#emit({ type: existed ? 'MODIFIED' : 'ADDED', resource: key.resource, object, resourceVersion: modRevision })
    }
    this.#advance(revision)
  }

  /** After a compacted watch: the state at the current revision, told to watchers as the differences. */
  async #relist(): Promise<void> {
    try {
      const before = new Map<string, { key: ObjectKey; cached: Cached }>()
      for (const [resource, byName] of this.#objects) {
        for (const cached of byName.values()) {
          const key = { resource, namespace: cached.object.metadata.namespace ?? '', name: cached.object.metadata.name ?? '' }
          before.set(formatKey(key), { key, cached })
        }
      }
      const res = await this.#client.kv.range({ key: Buffer.from(`${this.#prefix}/`), range_end: prefixEnd(`${this.#prefix}/`) })
      const revision = Number(res.header.revision)
      for (const kv of res.kvs) {
        const entry = this.#readForeign(kv)
        if (!entry) continue
        const k = formatKey(entry.key)
        const old = before.get(k)
        before.delete(k)
        if (old && old.cached.modRevision === Number(kv.mod_revision)) continue
        this.#put(entry.key, { object: entry.object, modRevision: Number(kv.mod_revision) })
        this.#emit({ type: old ? 'MODIFIED' : 'ADDED', resource: entry.key.resource, object: entry.object, resourceVersion: revision })
      }
      for (const { key, cached } of before.values()) {
        this.#remove(key)
        this.#emit({ type: 'DELETED', resource: key.resource, object: withRevision(cached.object, revision), resourceVersion: revision })
      }
      this.#advance(revision)
      await this.#startWatch(revision)
    } catch (e) {
      if (this.#closed) return
      this.#opts.onWarning?.(`etcd reload failed (${e instanceof Error ? e.message : String(e)}); retrying in 1s`)
      setTimeout(() => void this.#relist(), 1_000).unref()
    }
  }

  #advance(revision: number): void {
    if (revision <= this.#revision) return
    this.#revision = revision
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]
      if (w && w.revision <= revision) {
        this.#waiters.splice(i, 1)
        w.resolve()
      }
    }
  }

  #emit(ev: StoreEvent): void {
    this.#history.push(ev)
    for (const w of [...this.#watchers]) {
      if (!watchMatches(w, ev)) continue
      try {
        w.onEvent(ev)
      } catch (e) {
        // a failing listener must not stop the cache; it is dropped, and said so
        this.#watchers.delete(w)
        this.#opts.onWarning?.(`a watch on ${ev.resource} was stopped: its listener threw on ${ev.type} ${ev.object.metadata.namespace ?? ''}/${ev.object.metadata.name ?? ''}: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  }

  #decode(kv: IKeyValue): { key: ObjectKey; object: KubeObject } | undefined {
    const etcdKey = kv.key.toString('utf8')
    const key = parseEtcdKey(this.#prefix, etcdKey, this.#builtIns)
    if (!key) {
      this.#opts.onWarning?.(`etcd key ${etcdKey} is not in kube-apiserver's layout; ignored`)
      return undefined
    }
    try {
      return { key, object: deepFreeze(decodeStoredValue(kv.value, Number(kv.mod_revision))) }
    } catch (e) {
      this.#opts.onWarning?.(`etcd key ${etcdKey}: cannot decode its value (${e instanceof Error ? e.message : String(e)}); it is not served`)
      return undefined
    }
  }

  #cached(key: ObjectKey): Cached | undefined {
    return this.#objects.get(key.resource)?.get(namespacedName(key.namespace, key.name))
  }

  #put(key: ObjectKey, cached: Cached): void {
    let byName = this.#objects.get(key.resource)
    if (!byName) this.#objects.set(key.resource, (byName = new Map()))
    byName.set(namespacedName(key.namespace, key.name), cached)
  }

  #remove(key: ObjectKey): void {
    this.#objects.get(key.resource)?.delete(namespacedName(key.namespace, key.name))
  }

  /** kube-apiserver's compactor: each tick compacts to the revision the previous tick saw. */
  #startCompactor(intervalMs: number): void {
    if (intervalMs <= 0) return
    let previous = this.#revision
    this.#compactor = setInterval(() => {
      const target = previous
      previous = this.#revision
      if (target <= 0) return
      this.#client.kv.compact({ revision: target }).catch((e: unknown) => {
        const message = e instanceof Error ? e.message : String(e)
        if (!message.includes('compacted')) this.#opts.onWarning?.(`etcd compaction to ${target} failed: ${message}`)
      })
    }, intervalMs)
    this.#compactor.unref()
  }
}

function withRevision(obj: KubeObject, revision: number): KubeObject {
  return deepFreeze({ ...structuredClone(obj), metadata: { ...structuredClone(obj.metadata), resourceVersion: String(revision) } })
}

function opKey(op: WriteOp): string {
  return op.type === 'delete' ? formatKey(op.key) : `${op.resource}/${op.object.metadata.namespace ?? ''}/${op.object.metadata.name ?? ''}`
}

/** The range end that makes a range read or watch cover every key starting with `prefix`. */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix)
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] ?? 0xff) < 0xff) {
      end[i] = (end[i] ?? 0) + 1
      return end.subarray(0, i + 1)
    }
  }
  return Buffer.from([0])
}

/** etcd client failures as the store's reasons: a full backend is QuotaExceeded, the rest Unavailable. */
function asStoreError(e: unknown, what: string): StoreError {
  if (e instanceof StoreError) return e
  const message = e instanceof Error ? e.message : String(e)
  if (/space exceeded/i.test(message)) return new StoreError('QuotaExceeded', `${what}: ${message}`, { cause: e })
  if (/request is too large/i.test(message)) return new StoreError('Invalid', `${what}: ${message}`, { cause: e })
  return new StoreError('Unavailable', `${what}: ${message}`, { cause: e })
}
