/**
 * The garbage collector's decisions, pure over a store reader: how a DELETE proceeds under its
 * propagationPolicy (at once, or marked with deletionTimestamp and the foregroundDeletion/orphan
 * finalizers), who depends on an owner, whether a dependent keeps another live owner, and what
 * a namespace still holds. garbage-collector.ts acts on them.
 */
import { formatTimestamp, apiVersionOf, servedResources, storageResource, type ResourceInfo } from '../api/index.js'
import type { KubeObject, ObjectKey, ObjectStoreReader } from '../store/index.js'

export const foregroundFinalizer = 'foregroundDeletion'
export const orphanFinalizer = 'orphan'
/** The namespace lifecycle's own finalizer, in a Namespace's spec.finalizers. */
export const namespaceFinalizer = 'kubernetes'

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground'

export interface OwnerRef {
  readonly apiVersion?: string
  readonly kind?: string
  readonly name?: string
  readonly uid?: string
  readonly controller?: boolean
  readonly blockOwnerDeletion?: boolean
}

export function keyFor(resource: string, o: KubeObject): ObjectKey {
  return { resource, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' }
}

/** The readable ownerReferences of `o` (a malformed entry owns nothing). */
export function ownerRefsOf(o: KubeObject): OwnerRef[] {
  const refs: unknown = o.metadata['ownerReferences']
  return Array.isArray(refs) ? refs.filter((r): r is OwnerRef => typeof r === 'object' && r !== null) : []
}

export function finalizersOf(o: KubeObject): string[] {
  const f: unknown = o.metadata.finalizers
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === 'string') : []
}

export function namespaceFinalizersOf(ns: KubeObject): string[] {
  const f: unknown = (ns['spec'] as { finalizers?: unknown } | undefined)?.finalizers
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === 'string') : []
}

/** The store keys of `resources`, once each (a CRD's versions share one). */
export function storageKeys(resources: readonly ResourceInfo[], namespacedOnly = false): string[] {
  return [...new Set(resources.filter((r) => !namespacedOnly || r.namespaced).map(storageResource))]
}

export type DeletionPlan =
  | { readonly kind: 'now' }
  /** Stored with deletionTimestamp and these finalizers; the collector finishes the deletion. */
  | { readonly kind: 'mark'; readonly object: KubeObject }

/**
 * upstream's BeforeDelete + updateForGracefulDeletionAndFinalizers for objects without a grace
 * period: an explicit Orphan or Foreground policy sets its finalizer (and drops the other one),
 * Background drops both; an object that still has finalizers is only marked. A Namespace is
 * always marked first (phase Terminating) while spec.finalizers is not empty.
 */
export function planDeletion(old: KubeObject, kind: string, policy: PropagationPolicy | undefined, nowMs: number): DeletionPlan {
  let finalizers = finalizersOf(old)
  if (policy === 'Foreground') finalizers = [...finalizers.filter((f) => f !== orphanFinalizer && f !== foregroundFinalizer), foregroundFinalizer]
  if (policy === 'Orphan') finalizers = [...finalizers.filter((f) => f !== orphanFinalizer && f !== foregroundFinalizer), orphanFinalizer]
  if (policy === 'Background') finalizers = finalizers.filter((f) => f !== orphanFinalizer && f !== foregroundFinalizer)
  const isNamespace = kind === 'Namespace'
  const pending = finalizers.length > 0 || (isNamespace && namespaceFinalizersOf(old).length > 0)
  if (!pending) return { kind: 'now' }
  const next = structuredClone(old) as KubeObject
  next.metadata.deletionTimestamp ??= formatTimestamp(nowMs)
  next.metadata.deletionGracePeriodSeconds ??= 0
  if (finalizers.length > 0) next.metadata.finalizers = finalizers
  else delete next.metadata.finalizers
  if (isNamespace) next['status'] = { ...((old['status'] as Record<string, unknown> | undefined) ?? {}), phase: 'Terminating' }
  return { kind: 'mark', object: next }
}

/**
 * An update that takes the last finalizer off an object marked for deletion without a grace
 * period deletes it (upstream's deleteForEmptyFinalizers). A Namespace is deleted by its
 * controller's second DELETE instead, and a terminating Pod by its kubelet.
 */
export function completesDeletion(next: KubeObject, kind: string): boolean {
  return kind !== 'Namespace' && next.metadata.deletionTimestamp !== undefined && (next.metadata.deletionGracePeriodSeconds ?? 0) === 0 && finalizersOf(next).length === 0
}

export interface Dependent {
  readonly key: ObjectKey
  readonly object: KubeObject
  readonly ref: OwnerRef
}

/** The objects with an ownerReference to `ownerUid` (one level). */
export function dependentsOf(store: ObjectStoreReader, ownerUid: string | undefined, resources: readonly ResourceInfo[] = servedResources): Dependent[] {
  if (!ownerUid) return []
  const out: Dependent[] = []
  for (const resource of storageKeys(resources)) {
    for (const o of store.list(resource).items) {
      const ref = ownerRefsOf(o).find((r) => r.uid === ownerUid)
      if (ref) out.push({ key: keyFor(resource, o), object: o, ref })
    }
  }
  return out
}

/** Whether the owner a reference names exists now (same uid) in `namespace` or cluster-wide. */
export function ownerExists(store: ObjectStoreReader, ref: OwnerRef, namespace: string, resources: readonly ResourceInfo[] = servedResources): boolean {
  const info = resources.find((r) => apiVersionOf(r) === ref.apiVersion && r.kind === ref.kind)
  if (!info || !ref.name) return false
  const owner = store.get({ resource: storageResource(info), namespace: info.namespaced ? namespace : '', name: ref.name })
  return owner !== undefined && owner.metadata.uid === ref.uid
}

export function namespaceContents(store: ObjectStoreReader, namespace: string, resources: readonly ResourceInfo[] = servedResources): Dependent[] {
  return storageKeys(resources, true).flatMap((resource) => store.list(resource, { namespace }).items.map((o) => ({ key: keyFor(resource, o), object: o, ref: {} })))
}
