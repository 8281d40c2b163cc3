/**
 * The events of the service controller: kpe gives a LoadBalancer Service its address at
 * admission (service-allocation.ts), so what upstream's service controller reports around its
 * cloud call is reported here once the address is in the status: EnsuringLoadBalancer, then
 * EnsuredLoadBalancer; DeletingLoadBalancer and DeletedLoadBalancer when the Service stops
 * being a LoadBalancer or is deleted. Records only; writes nothing else.
 */
import { objectKey, type Service } from '../api/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { storage } from './api-client.js'
import { splitKey, type ControllerDefinition } from './controller-loop.js'
import { referenceTo, type ObjectReference } from './event-series.js'
import type { EventRecorder } from './event-recorder.js'

/** The addresses the Service's load balancer has, as one comparable string; undefined when it has none. */
export function loadBalancerAddresses(s: Service | undefined): string | undefined {
  if (!s || s.spec?.type !== 'LoadBalancer' || s.metadata.deletionTimestamp) return undefined
  const ingress = s.status?.loadBalancer?.ingress ?? []
  return ingress.length === 0 ? undefined : JSON.stringify(ingress)
}

export function serviceLoadBalancerEvents(store: ObjectStore, events: EventRecorder): ControllerDefinition {
  /** Per Service key: the addresses reported as ensured, and the Service they belong to. */
  const ensured = new Map<string, { readonly addresses: string; readonly ref: ObjectReference }>()
  return {
    name: 'service-controller',
    watches: [{ resource: storage.services, keysOf: (ev) => [objectKey(ev.object)] }],
    initialKeys: () => store.list(storage.services).items.map((o) => objectKey(o)),
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key)
      const live = store.get({ resource: storage.services, namespace, name }) as unknown as Service | undefined
      const addresses = loadBalancerAddresses(live)
      const before = ensured.get(key)
      if (before && (addresses === undefined || before.ref.uid !== live?.metadata.uid)) {
        events.recordEvent(before.ref, 'DeletingLoadBalancer', 'Deleting load balancer')
        events.recordEvent(before.ref, 'DeletedLoadBalancer', 'Deleted load balancer')
        ensured.delete(key)
      }
      if (addresses === undefined || !live || ensured.get(key)?.addresses === addresses) return
      const ref = referenceTo(live as unknown as KubeObject)
      events.recordEvent(ref, 'EnsuringLoadBalancer', 'Ensuring load balancer')
      events.recordEvent(ref, 'EnsuredLoadBalancer', 'Ensured load balancer')
      ensured.set(key, { addresses, ref })
    },
  }
}
