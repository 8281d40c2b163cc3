/**
 * Keeps an API server's catalogue in step with the stored CRDs: each CRD's served versions are
 * defined as resources when it is stored or changed, and when it is deleted its resources leave
 * the catalogue and its objects are deleted (as kube-apiserver's CRD finalizer does).
 */
import type { KubeObject, ObjectStore, WatchHandle } from '../../store/index.js'
import { storageResource, type ResourceCatalogue } from '../../api/index.js'
import { customResourceDefinitionsInfo } from './admission.js'
import { crdResources } from './definition.js'

const crdStorage = storageResource(customResourceDefinitionsInfo)

async function deleteObjectsOf(store: ObjectStore, resource: string): Promise<void> {
  for (const o of store.list(resource).items) {
    await store.delete({ resource, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' }).catch(() => undefined)
  }
}

/** Defines what the stored CRDs serve, then follows their changes until stopped. */
export function syncCustomResources(store: ObjectStore, catalogue: ResourceCatalogue): WatchHandle {
  const define = (crd: KubeObject): void => { catalogue.define(crd.metadata.name ?? '', crdResources(crd)) }
  const listed = store.list(crdStorage)
  for (const crd of listed.items) define(crd)
  return store.watch(crdStorage, { sinceResourceVersion: listed.resourceVersion }, (ev) => {
    const name = ev.object.metadata.name ?? ''
    if (ev.type !== 'DELETED') { define(ev.object); return }
    const gone = catalogue.resources.filter((r) => r.custom?.crdName === name)
    catalogue.define(name, [])
    const storage = gone[0] ? storageResource(gone[0]) : undefined
    if (storage) void deleteObjectsOf(store, storage)
  })
}
