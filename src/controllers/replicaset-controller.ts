/**
 * The ReplicaSet controller: keeps spec.replicas active Pods (from the template, owned through a
 * controller ownerReference, named generateName-style) and reports status. Thin shell over
 * planReplicaSet; deletions go through the API, so Pods terminate gracefully.
 */
import type { Pod } from '../api/index.js'
import type { Clock } from '../runtime/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { splitKey, type ControllerDefinition } from './controller-loop.js'
import { discardEvents, type EventRecorder } from './event-recorder.js'
import { ownerWatches } from './owner-watches.js'
import { podFromTemplate, templateOf } from './pod-template.js'
import { isControlledBy, planReplicaSet, type ReplicaSetLike } from './replicaset-plan.js'
import { sameJson } from './same-json.js'

type Obj = Record<string, unknown>

function podFromReplicaSet(rs: KubeObject): KubeObject {
  return podFromTemplate({ ...rs, apiVersion: 'apps/v1', kind: 'ReplicaSet' } as KubeObject, templateOf(rs), { generateName: `${rs.metadata.name ?? ''}-` })
}

export function replicaSetController(store: ObjectStore, client: ControllerClient, clock: Clock, events: EventRecorder = discardEvents): ControllerDefinition {
  return {
    name: 'replicaset-controller',
    ...ownerWatches(store, { resource: storage.replicaSets, kind: 'ReplicaSet' }, storage.pods),
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key)
      const rs = store.get({ resource: storage.replicaSets, namespace, name })
      if (!rs || rs.metadata.deletionTimestamp) return undefined
      const owned = (store.list(storage.pods, { namespace }).items as unknown as Pod[]).filter((p) => isControlledBy(p, rs.metadata.uid))
      const plan = planReplicaSet(rs as unknown as ReplicaSetLike, owned, clock.now())
      for (let i = 0; i < plan.create; i++) {
        const pod = await client.create(resources.pods, podFromReplicaSet(rs))
        events.recordEvent(rs, 'SuccessfulCreate', `Created pod: ${pod.metadata.name ?? ''}`)
      }
      for (const p of plan.delete) {
        await client.delete(resources.pods, namespace, p.metadata.name ?? '', { preconditions: { uid: p.metadata.uid ?? '' } })
        events.recordEvent(rs, 'SuccessfulDelete', `Deleted pod: ${p.metadata.name ?? ''}`)
      }
      const status = { ...((rs['status'] as Obj | undefined) ?? {}), ...plan.status }
      if (!sameJson(status, rs['status'])) await client.updateStatus(resources.replicaSets, { ...rs, status } as KubeObject)
      return plan.recheckMs // minReadySeconds: count the Pod as available once it has been ready long enough
    },
  }
}
