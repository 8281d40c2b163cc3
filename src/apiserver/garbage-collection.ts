/**
 * Cascading deletion done synchronously inside the delete transaction: dependents found through
 * ownerReferences (recursively), and everything in a namespace being deleted. Pure over a
 * store reader.
 */
import type { KubeObject, ObjectKey, ObjectStoreReader } from '../store/index.js'
import { servedResources, storageResource, type ResourceInfo } from '../api/index.js'

export function keyFor(resource: string, o: KubeObject): ObjectKey {
  return { resource, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' }
}

/** The store keys of `resources`, once each (a CRD's versions share one). */
function storageKeys(resources: readonly ResourceInfo[], namespacedOnly = false): string[] {
  return [...new Set(resources.filter((r) => !namespacedOnly || r.namespaced).map(storageResource))]
}

/** `resources`: the server's catalogue, custom resources included. */
export function dependentsOf(store: ObjectStoreReader, owner: KubeObject, resources: readonly ResourceInfo[] = servedResources): ObjectKey[] {
  const out: ObjectKey[] = []
  const seen = new Set<string>()
  const queue = [owner.metadata.uid]
  while (queue.length > 0) {
    const uid = queue.shift()
    if (!uid) continue
    for (const resource of storageKeys(resources)) {
      for (const o of store.list(resource).items) {
        const refs = Array.isArray(o.metadata['ownerReferences']) ? (o.metadata['ownerReferences'] as { uid?: string }[]) : []
        if (!refs.some((ref) => ref.uid === uid) || !o.metadata.uid || seen.has(o.metadata.uid)) continue
        seen.add(o.metadata.uid)
        out.push(keyFor(resource, o))
        queue.push(o.metadata.uid)
      }
    }
  }
  return out
}

export function namespaceContents(store: ObjectStoreReader, namespace: string, resources: readonly ResourceInfo[] = servedResources): ObjectKey[] {
  return storageKeys(resources, true).flatMap((resource) => store.list(resource, { namespace }).items.map((o) => keyFor(resource, o)))
}
