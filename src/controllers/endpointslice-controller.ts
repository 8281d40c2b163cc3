/**
 * The EndpointSlice controller (and its v1 Endpoints mirror): reconciles one Service at a time,
 * when it, a Pod in its namespace, a Node or one of its slices changes. Thin shell over
 * desiredSlices / planSliceSync / deriveEndpoints.
 */
import { serviceNameLabel, type EndpointSlice, type Node, type Pod, type Service, objectKey } from '../api/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { splitKey, type ControllerDefinition } from './controller-loop.js'
import { deriveEndpoints, desiredSlices, endpointsControllerName, endpointsManagedByLabel, isManagedSliceOf, planSliceSync } from './endpointslice-sync.js'
import { sameJson } from './same-json.js'

export function endpointSliceController(store: ObjectStore, client: ControllerClient): ControllerDefinition {
  const servicesIn = (namespace: string | undefined): string[] =>
    store.list(storage.services, namespace === undefined ? {} : { namespace }).items.map((s) => objectKey(s))
  return {
    name: 'endpointslice-controller',
    watches: [
      { resource: storage.services, keysOf: (ev) => [objectKey(ev.object)] },
      { resource: storage.pods, keysOf: (ev) => servicesIn(ev.object.metadata.namespace ?? '') },
      { resource: storage.nodes, keysOf: () => servicesIn(undefined) },
      {
        resource: storage.endpointSlices,
        keysOf: (ev) => {
          const svc = ev.object.metadata.labels?.[serviceNameLabel]
          return svc ? [`${ev.object.metadata.namespace ?? ''}/${svc}`] : []
        },
      },
    ],
    initialKeys: () => servicesIn(undefined),
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key)
      const svc = store.get({ resource: storage.services, namespace, name }) as Service | undefined
      const pods = store.list(storage.pods, { namespace }).items as unknown as Pod[]
      const nodes = store.list(storage.nodes).items as unknown as Node[]
      const desired = desiredSlices(svc, pods, nodes)
      const existing = (store.list(storage.endpointSlices, { namespace }).items as unknown as EndpointSlice[]).filter((s) => isManagedSliceOf(s, name))
      const plan = planSliceSync(desired, existing)
      for (const s of plan.create) await client.create(resources.endpointSlices, s as unknown as KubeObject)
      for (const s of plan.update) await client.update(resources.endpointSlices, s as unknown as KubeObject)
      for (const n of plan.delete) await client.delete(resources.endpointSlices, namespace, n)
      await syncEndpoints(store, client, svc, namespace, name, desired)
    },
  }
}

async function syncEndpoints(store: ObjectStore, client: ControllerClient, svc: Service | undefined, namespace: string, name: string, slices: readonly EndpointSlice[]): Promise<void> {
  const live = store.get({ resource: storage.endpoints, namespace, name })
  const want = svc ? deriveEndpoints(svc, slices) : undefined
  const ours = live?.metadata.labels?.[endpointsManagedByLabel] === endpointsControllerName
  if (!want) {
    if (live && ours) await client.delete(resources.endpoints, namespace, name)
    return
  }
  if (!live) {
    await client.create(resources.endpoints, want as KubeObject)
    return
  }
  const wantMeta = want['metadata'] as { labels: Record<string, string> }
  if (sameJson({ l: live.metadata.labels ?? {}, s: live['subsets'] ?? [] }, { l: wantMeta.labels, s: want['subsets'] ?? [] })) return
  await client.update(resources.endpoints, { ...want, metadata: { ...live.metadata, labels: wantMeta.labels } } as KubeObject)
}
