/**
 * Cascading deletion done synchronously inside the delete transaction: dependents found through
 * ownerReferences (recursively), and everything in a namespace being deleted. Pure over a
 * store reader.
 */
import type { KubeObject, ObjectKey, ObjectStoreReader } from '../store/index.js'
import { servedResources, storageResource } from './resources.js'

export function keyFor(resource: string, o: KubeObject): ObjectKey {
  return { resource, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' }
}

export function dependentsOf(store: ObjectStoreReader, owner: KubeObject): ObjectKey[] {
  const out: ObjectKey[] = []
  const seen = new Set<string>()
  const queue = [owner.metadata.uid]
  while (queue.length > 0) {
    const uid = queue.shift()
    if (!uid) continue
    for (const r of servedResources) {
      const resource = storageResource(r)
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

export function namespaceContents(store: ObjectStoreReader, namespace: string): ObjectKey[] {
  return servedResources.filter((r) => r.namespaced).flatMap((r) => {
    const resource = storageResource(r)
    return store.list(resource, { namespace }).items.map((o) => keyFor(resource, o))
  })
}
