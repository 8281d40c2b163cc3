/**
 * The garbage collector and namespace deleter, run by the API server over its own write
 * pipeline (so Pods deleted here still get their grace period): Background deletes dependents
 * after their owner is gone, Foreground keeps the owner (foregroundDeletion) until its blocking
 * dependents are gone, Orphan strips the ownerReferences first, and a Terminating namespace is
 * emptied, its conditions written, then finalized and removed.
 */
import { isStoreError, type KubeObject, type StoreEvent, type WatchHandle } from '../store/index.js'
import { formatTimestamp, type ResourceInfo, storageResource } from '../api/index.js'
import {
  dependentsOf, finalizersOf, foregroundFinalizer, namespaceContents, namespaceFinalizer, namespaceFinalizersOf, orphanFinalizer,
  ownerExists, ownerRefsOf, type Dependent, type PropagationPolicy,
} from './garbage-collection.js'
import { namespaceConditions, type NamespaceCondition } from './namespace-lifecycle.js'
import { deepEqual } from './patch/json-value.js'
import { deleteObject, updateObject, type DeleteOutcome, type WriteDeps, type WriteTarget } from './writes.js'

const retryMs = 1_000
/**
 * The kinds whose deletions the collector watches for (workloads and what they own, namespaces).
 * Deletions through the API of any other kind reach it directly (afterDelete); a watch on every
 * stored kind would hold one more watch per kind for what is nearly always the same work.
 */
const watchedResources = ['pods', 'namespaces', 'replicasets.apps', 'deployments.apps', 'statefulsets.apps', 'daemonsets.apps', 'jobs.batch', 'cronjobs.batch', 'replicationcontrollers'] as const
const query = (): URLSearchParams => new URLSearchParams({ fieldManager: 'kpe-garbage-collector' })

function isGone(e: unknown): boolean {
  const reason = (e as { reason?: unknown }).reason
  return reason === 'NotFound' || reason === 'Conflict' || isStoreError(e, 'NotFound') || isStoreError(e, 'Conflict')
}

export class GarbageCollector {
  readonly #deps: WriteDeps
  readonly #onError: (what: string, e: unknown) => void
  #watches: WatchHandle[] = []
  #sweepQueued = false
  #sweeping: Promise<void> = Promise.resolve()
  #retry: NodeJS.Timeout | undefined
  #stopped = false

  constructor(deps: Omit<WriteDeps, 'afterDelete'>, onError: (what: string, e: unknown) => void = () => undefined) {
    this.#deps = { ...deps, afterDelete: (info, o, outcome) => this.afterDelete(info, o, outcome) }
    this.#onError = onError
  }

  /** The deps writes should use so every deletion reaches the collector. */
  get deps(): WriteDeps {
    return this.#deps
  }

  get #resources(): readonly ResourceInfo[] {
    return this.#deps.catalogue?.resources ?? []
  }

  /** Watches the workload kinds; a deletion or a marked object triggers a sweep of every kind. */
  start(): void {
    this.#watches = watchedResources.map((resource) => this.#deps.store.watch(resource, {}, (ev) => this.#onEvent(ev)))
    this.#queueSweep()
  }

  stop(): void {
    this.#stopped = true
    for (const w of this.#watches) w.stop()
    if (this.#retry) clearTimeout(this.#retry)
  }

  /** Resolves once the sweeps queued so far are done (for tests). */
  async idle(): Promise<void> {
    while (this.#sweepQueued) await new Promise((r) => setImmediate(r))
    await this.#sweeping
  }

  #onEvent(ev: StoreEvent): void {
    if (ev.type === 'DELETED' || ev.object.metadata.deletionTimestamp) this.#queueSweep(ev.type === 'DELETED' ? ev.object : undefined)
  }

  #queueSweep(deleted?: KubeObject): void {
    if (this.#stopped) return
    if (deleted) this.#sweeping = this.#sweeping.then(async () => { await this.#guard(`dependents of ${deleted.metadata.name ?? ''}`, () => this.#collectDependents(deleted)) })
    if (this.#sweepQueued) return
    this.#sweepQueued = true
    setImmediate(() => {
      this.#sweepQueued = false
      this.#sweeping = this.#sweeping.then(() => this.#sweep())
    })
  }

  async #guard(what: string, fn: () => Promise<boolean>): Promise<boolean> {
    try {
      return await fn()
    } catch (e) {
      if (!isGone(e)) this.#onError(what, e)
      return false
    }
  }

  /** Every object waiting on the collector: orphan/foreground finalizers and Terminating namespaces. */
  async #sweep(): Promise<void> {
    let done = true
    for (const info of this.#byStorageKey()) {
      for (const o of this.#deps.store.list(storageResource(info)).items) {
        if (!o.metadata.deletionTimestamp) continue
        done = (await this.#guard(`${info.resource} ${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`, () => this.#finishMarked(info, o))) && done
      }
    }
    if (!done && !this.#stopped && !this.#retry) {
      this.#retry = setTimeout(() => { this.#retry = undefined; this.#queueSweep() }, retryMs)
      this.#retry.unref?.()
    }
  }

  #byStorageKey(): ResourceInfo[] {
    const seen = new Map<string, ResourceInfo>()
    for (const r of this.#resources) if (!seen.has(storageResource(r))) seen.set(storageResource(r), r)
    return [...seen.values()]
  }

  /** The write pipeline's entry: act on a deletion at once, inside the request that made it. */
  async afterDelete(info: ResourceInfo, o: KubeObject, outcome: DeleteOutcome): Promise<void> {
    await this.#guard(`${info.resource} ${o.metadata.name ?? ''}`, () => (outcome === 'deleted' ? this.#collectDependents(o) : this.#finishMarked(info, o)))
    // an owner in foreground deletion, or a namespace, may have been waiting for this one
    if (outcome === 'deleted' && (ownerRefsOf(o).length > 0 || info.namespaced)) this.#queueSweep()
  }

  /** True when nothing is left to do for `o` now. */
  async #finishMarked(info: ResourceInfo, o: KubeObject): Promise<boolean> {
    const finalizers = finalizersOf(o)
    if (finalizers.includes(orphanFinalizer)) return this.#orphan(info, o)
    if (finalizers.includes(foregroundFinalizer)) return this.#foreground(info, o)
    if (info.kind === 'Namespace') return this.#finishNamespace(info, o)
    return true
  }

  #target(info: ResourceInfo, namespace: string | undefined, name: string, subresource?: string): WriteTarget {
    return { info, namespace: info.namespaced ? namespace : undefined, name, subresource }
  }

  #infoOf(d: Dependent): ResourceInfo | undefined {
    return this.#resources.find((r) => storageResource(r) === d.key.resource)
  }

  async #delete(d: Dependent, policy: PropagationPolicy): Promise<void> {
    const info = this.#infoOf(d)
    if (!info) return
    try {
      await deleteObject(this.#deps, this.#target(info, d.key.namespace, d.key.name), d.key.name, { propagationPolicy: policy, preconditions: { uid: d.object.metadata.uid ?? '' } }, query())
    } catch (e) {
      if (!isGone(e)) throw e
    }
  }

  /** Writes `change(fresh object)` unless it is gone or unchanged. */
  async #update(info: ResourceInfo, o: KubeObject, change: (fresh: KubeObject) => KubeObject | undefined, subresource?: 'status'): Promise<void> {
    const key = { resource: storageResource(info), namespace: info.namespaced ? o.metadata.namespace ?? '' : '', name: o.metadata.name ?? '' }
    const fresh = this.#deps.store.get(key)
    if (!fresh || fresh.metadata.uid !== o.metadata.uid) return
    const next = change(structuredClone(fresh) as KubeObject)
    if (!next) return
    try {
      await updateObject(this.#deps, this.#target(info, key.namespace, key.name, subresource), fresh, next, query(), { pinnedVersion: fresh.metadata.resourceVersion })
    } catch (e) {
      if (!isGone(e)) throw e
    }
  }

  async #removeFinalizer(info: ResourceInfo, o: KubeObject, finalizer: string): Promise<void> {
    await this.#update(info, o, (f) => {
      const rest = finalizersOf(f).filter((x) => x !== finalizer)
      if (rest.length === finalizersOf(f).length) return undefined
      if (rest.length > 0) f.metadata.finalizers = rest
      else delete f.metadata.finalizers
      return f
    })
  }

  async #dropOwnerRef(d: Dependent, ownerUid: string | undefined): Promise<void> {
    const info = this.#infoOf(d)
    if (!info) return
    await this.#update(info, d.object, (f) => {
      const refs = ownerRefsOf(f).filter((r) => r.uid !== ownerUid)
      if (refs.length > 0) f.metadata['ownerReferences'] = refs as typeof f.metadata['ownerReferences']
      else delete f.metadata['ownerReferences']
      return f
    })
  }

  /** Background: the owner is gone; a dependent with another live owner only loses the reference. */
  async #collectDependents(owner: KubeObject): Promise<boolean> {
    for (const d of dependentsOf(this.#deps.store, owner.metadata.uid, this.#resources)) {
      const others = ownerRefsOf(d.object).filter((r) => r.uid !== owner.metadata.uid)
      if (others.some((r) => ownerExists(this.#deps.store, r, d.key.namespace, this.#resources))) await this.#dropOwnerRef(d, owner.metadata.uid)
      else if (!d.object.metadata.deletionTimestamp) await this.#delete(d, 'Background')
    }
    return true
  }

  /** Foreground: dependents first (blocking ones in the foreground too), the owner once none blocks. */
  async #foreground(info: ResourceInfo, owner: KubeObject): Promise<boolean> {
    for (const d of dependentsOf(this.#deps.store, owner.metadata.uid, this.#resources)) {
      if (!d.object.metadata.deletionTimestamp) await this.#delete(d, d.ref.blockOwnerDeletion ? 'Foreground' : 'Background')
    }
    const blocking = dependentsOf(this.#deps.store, owner.metadata.uid, this.#resources).filter((d) => d.ref.blockOwnerDeletion)
    if (blocking.length > 0) return false
    await this.#removeFinalizer(info, owner, foregroundFinalizer)
    return true
  }

  /** Orphan: every dependent loses its reference to the owner, then the owner goes. */
  async #orphan(info: ResourceInfo, owner: KubeObject): Promise<boolean> {
    for (const d of dependentsOf(this.#deps.store, owner.metadata.uid, this.#resources)) await this.#dropOwnerRef(d, owner.metadata.uid)
    await this.#removeFinalizer(info, owner, orphanFinalizer)
    return true
  }

  /** Deletes what the namespace holds, reports it in the conditions, and removes the namespace when empty. */
  async #finishNamespace(info: ResourceInfo, ns: KubeObject): Promise<boolean> {
    const name = ns.metadata.name ?? ''
    const failures: string[] = []
    for (const d of namespaceContents(this.#deps.store, name, this.#resources)) {
      if (d.object.metadata.deletionTimestamp) continue
      try {
        await this.#delete(d, 'Background')
      } catch (e) {
        failures.push(`${d.key.resource} "${d.key.name}": ${e instanceof Error ? e.message : String(e)}`)
      }
    }
    const remaining = namespaceContents(this.#deps.store, name, this.#resources)
    const now = formatTimestamp(this.#deps.clock.now())
    await this.#update(info, ns, (f) => {
      const status = (f['status'] as { conditions?: NamespaceCondition[] } | undefined) ?? {}
      const conditions = namespaceConditions(remaining, failures, status.conditions ?? [], now)
      if (deepEqual(conditions, status.conditions)) return undefined
      f['status'] = { ...status, phase: 'Terminating', conditions }
      return f
    }, 'status')
    if (remaining.length > 0) return false
    if (namespaceFinalizersOf(ns).includes(namespaceFinalizer)) {
      await this.#update(info, ns, (f) => {
        f['spec'] = { ...((f['spec'] as Record<string, unknown> | undefined) ?? {}), finalizers: namespaceFinalizersOf(f).filter((x) => x !== namespaceFinalizer) }
        return f
      })
    }
    const fresh = this.#deps.store.get({ resource: storageResource(info), namespace: '', name })
    // another finalizer (some other controller's) keeps it, as upstream: nothing more for us to do
    if (!fresh || namespaceFinalizersOf(fresh).length > 0 || finalizersOf(fresh).length > 0) return true
    try {
      await deleteObject(this.#deps, this.#target(info, undefined, name), name, { preconditions: { uid: fresh.metadata.uid ?? '' } }, query())
    } catch (e) {
      if (!isGone(e)) throw e
    }
    return true
  }
}
