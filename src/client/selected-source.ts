/**
 * An ObjectSource narrowed to the objects a predicate selects, as a watch with a field selector
 * (a kubelet's spec.nodeName=NODE): a reader keeps only its share instead of every object.
 * An object that stops matching is delivered as DELETED, as kube-apiserver's filtered watch does.
 */
import type { ObjectSource } from './object-source.js'

export function selectedObjects<T>(source: ObjectSource<T>, selects: (o: T) => boolean): ObjectSource<T> {
  return {
    list: async () => {
      const listed = await source.list()
      return { items: listed.items.filter(selects), resourceVersion: listed.resourceVersion }
    },
    watch: (resourceVersion, handlers) => source.watch(resourceVersion, {
      event: (ev) => {
        if (selects(ev.object)) handlers.event(ev)
        else if (ev.type === 'MODIFIED') handlers.event({ type: 'DELETED', object: ev.object })
      },
      error: (err) => handlers.error(err),
    }),
  }
}
