/**
 * The watches of a controller that owns objects of another resource (Deployment -> ReplicaSets,
 * ReplicaSet -> Pods): its own objects by key, deleted ones dropped, and each child's change
 * mapped to its controller owner, as upstream's controllers enqueue the owner of a changed child.
 */
import { namespacedName, objectKey } from '../api/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import type { ControllerDefinition } from './controller-loop.js'
import { ownerReferencesOf } from './replicaset-plan.js'

/** "namespace/name" of the controller owner of `o` with the given kind. */
export function ownerKey(o: KubeObject, kind: string): string[] {
  return ownerReferencesOf(o).filter((r) => r.controller && r.kind === kind).map((r) => namespacedName(o.metadata.namespace ?? '', r.name ?? ''))
}

export function ownerWatches(store: ObjectStore, owner: { readonly resource: string; readonly kind: string }, childResource: string): Pick<ControllerDefinition, 'watches' | 'initialKeys'> {
  return {
    watches: [
      { resource: owner.resource, keysOf: (ev) => (ev.type === 'DELETED' ? [] : [objectKey(ev.object)]) },
      { resource: childResource, keysOf: (ev) => ownerKey(ev.object, owner.kind) },
    ],
    initialKeys: () => store.list(owner.resource).items.map((o) => objectKey(o)),
  }
}
