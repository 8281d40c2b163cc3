/**
 * The StatefulSet controller: stable Pods <set>-0..N-1 with hostname and subdomain (from
 * serviceName, so cluster DNS can name each Pod), ordered or parallel, rolled by revision; the
 * revision is the template hash (upstream keeps it in ControllerRevisions). Shell over planStatefulSet.
 */
import type { Pod } from '../api/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { splitKey, type ControllerDefinition } from './controller-loop.js'
import { ownerWatches } from './owner-watches.js'
import { computePodTemplateHash } from './pod-template-hash.js'
import { podFromTemplate, templateOf } from './pod-template.js'
import { isControlledBy } from './replicaset-plan.js'
import { sameJson } from './same-json.js'
import { controllerRevisionHashLabel, planStatefulSet, podIndexLabel, statefulSetPodNameLabel, type StatefulSetLike } from './statefulset-plan.js'

export function statefulSetController(store: ObjectStore, client: ControllerClient): ControllerDefinition {
  return {
    name: 'statefulset-controller',
    ...ownerWatches(store, { resource: storage.statefulSets, kind: 'StatefulSet' }, storage.pods),
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key)
      const set = store.get({ resource: storage.statefulSets, namespace, name })
      if (!set || set.metadata.deletionTimestamp) return
      const pods = (store.list(storage.pods, { namespace }).items as unknown as Pod[]).filter((p) => isControlledBy(p, set.metadata.uid))
      const updateRevision = `${name}-${computePodTemplateHash(templateOf(set))}`
      const plan = planStatefulSet(set as unknown as StatefulSetLike, pods, updateRevision)
      const owner = { ...set, apiVersion: 'apps/v1', kind: 'StatefulSet' } as KubeObject
      const serviceName = (set['spec'] as { serviceName?: unknown } | undefined)?.serviceName
      for (const ordinal of plan.create) {
        const podName = `${name}-${ordinal}`
        await client.create(resources.pods, podFromTemplate(owner, templateOf(set), {
          name: podName,
          labels: { [controllerRevisionHashLabel]: updateRevision, [statefulSetPodNameLabel]: podName, [podIndexLabel]: String(ordinal) },
          spec: { hostname: podName, ...(typeof serviceName === 'string' && serviceName !== '' ? { subdomain: serviceName } : {}) },
        }))
      }
      for (const p of plan.delete) await client.delete(resources.pods, namespace, p.metadata.name ?? '', { preconditions: { uid: p.metadata.uid ?? '' } })
      const status = { ...((set['status'] as Record<string, unknown> | undefined) ?? {}), ...plan.status }
      if (!sameJson(status, set['status'])) await client.updateStatus(resources.statefulSets, { ...set, status } as KubeObject)
    },
  }
}
