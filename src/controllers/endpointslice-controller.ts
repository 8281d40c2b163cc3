/**
 * The EndpointSlice controller (and its v1 Endpoints mirror): reconciles one Service at a time,
 * when it, a Pod in its namespace, a Node or one of its slices changes. Thin shell over
 * desiredSlices / planSliceSync / deriveEndpoints.
 */
import { labelsMatch, nodeTopologyFacts, serviceNameLabel, type EndpointSlice, type Node, type Service, objectKey } from '../api/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { splitKey, type ControllerDefinition } from './controller-loop.js'
import { EndpointSliceInputs } from './endpointslice-inputs.js'
import { deriveEndpoints, desiredSlices, endpointsControllerName, endpointsManagedByLabel, planSliceSync } from './endpointslice-sync.js'
import { sameJson } from './same-json.js'
import { TriggerTimeTracker, withTriggerTime } from './trigger-time-tracker.js'

export function endpointSliceController(store: ObjectStore, client: ControllerClient): ControllerDefinition {
  const servicesIn = (namespace: string | undefined): string[] =>
    store.list(storage.services, namespace === undefined ? {} : { namespace }).items.map((s) => objectKey(s))
  // Each Pod's labels as last seen: an event concerns the Services that selected it before or select it now
  // (upstream's getPodServiceMemberships), not every Service in its namespace.
  const podLabels = new Map<string, Readonly<Record<string, string>>>()
  const triggerTimes = new TriggerTimeTracker()
  const inputs = new EndpointSliceInputs(store)
  const servicesSelecting = (ev: { type: string; object: KubeObject }): string[] => {
    const key = objectKey(ev.object)
    const before = podLabels.get(key)
    const after = ev.type === 'DELETED' ? undefined : ev.object.metadata.labels ?? {}
    if (after) podLabels.set(key, after)
    else podLabels.delete(key)
    return inputs.selectingServices(ev.object.metadata.namespace ?? '').flatMap((o) => {
      const selector = o.spec.selector ?? {}
      return (before && labelsMatch(selector, before)) || (after && labelsMatch(selector, after)) ? [objectKey(o)] : []
    })
  }
  // Each Node's topology facts as last seen: only a change of them (or a Node coming or going)
  // concerns the slices. Every Service was reconciled on every Node heartbeat: 1,000 nodes'
  // status writes, each over all 100,000 pods.
  const nodeFacts = new Map<string, string>()
  const nodeChanged = (ev: { type: string; object: KubeObject }): boolean => {
    const name = ev.object.metadata.name ?? ''
    const facts = ev.type === 'DELETED' ? undefined : nodeTopologyFacts(ev.object as unknown as Node)
    if (facts !== undefined && nodeFacts.get(name) === facts) return false
    if (facts === undefined) nodeFacts.delete(name)
    else nodeFacts.set(name, facts)
    return true
  }
  return {
    name: 'endpointslice-controller',
    watches: [
      { resource: storage.services, keysOf: (ev) => [objectKey(ev.object)] },
      { resource: storage.pods, keysOf: servicesSelecting },
      { resource: storage.nodes, keysOf: (ev) => (nodeChanged(ev) ? servicesIn(undefined) : []) },
      {
        resource: storage.endpointSlices,
        keysOf: (ev) => {
          const svc = ev.object.metadata.labels?.[serviceNameLabel]
          return svc ? [`${ev.object.metadata.namespace ?? ''}/${svc}`] : []
        },
      },
    ],
    initialKeys: () => {
      for (const n of store.list(storage.nodes).items) nodeFacts.set(n.metadata.name ?? '', nodeTopologyFacts(n as unknown as Node))
      for (const p of store.list(storage.pods).items) if (!podLabels.has(objectKey(p))) podLabels.set(objectKey(p), p.metadata.labels ?? {})
      return servicesIn(undefined)
    },
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key)
      const svc = store.get({ resource: storage.services, namespace, name }) as Service | undefined
      const pods = inputs.candidatePods(namespace, svc?.spec.selector)
      const desired = desiredSlices(svc, pods, inputs.nodesFor(svc, pods))
      const existing = inputs.managedSlices(namespace, name)
      const plan = planSliceSync(desired, existing)
      // Upstream computes it on every sync of a selecting Service, written or not, so the next write is timed from the changes since.
      const triggerTime = svc?.spec.selector ? triggerTimes.compute(key, svc, pods) : undefined
      if (!svc) triggerTimes.deleteService(key)
      for (const s of plan.create) await client.create(resources.endpointSlices, withTriggerTime(s, triggerTime) as unknown as KubeObject)
      for (const s of plan.update) await client.update(resources.endpointSlices, withTriggerTime(s, triggerTime) as unknown as KubeObject)
      for (const n of plan.delete) await client.delete(resources.endpointSlices, namespace, n)
      await syncEndpoints(store, client, svc, namespace, name, desired)
    },
    stop: () => inputs.stop(),
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
