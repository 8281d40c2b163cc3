/**
 * The node agents' list+watch contract over the control plane's store, in process: list with
 * the store's resourceVersion, watch from it, and a too-old version reported as 410 (relist).
 */
import type { ObjectSource } from '../client/index.js'
import type { ObjectStore } from '../store/index.js'

export function storeObjectSource<T>(store: ObjectStore, resource: string): ObjectSource<T> {
  return {
    list: () => {
      const { items, resourceVersion } = store.list(resource)
      return Promise.resolve({ items: items as unknown as T[], resourceVersion: String(resourceVersion) })
    },
    watch(resourceVersion, handlers) {
      try {
        const handle = store.watch(resource, { sinceResourceVersion: Number(resourceVersion) }, (ev) => {
          handlers.event({ type: ev.type as 'ADDED' | 'MODIFIED' | 'DELETED', object: ev.object as unknown as T })
        })
        return { stop: () => handle.stop() }
      } catch (err) {
        // A StoreError 'Expired' reads as 410 to the agents, which relist. Reported asynchronously, as a real watch would.
        queueMicrotask(() => handlers.error(err))
        return { stop: () => undefined }
      }
    },
  }
}
