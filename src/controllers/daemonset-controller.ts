/**
 * The DaemonSet controller: a Pod per eligible Node, bound to it (spec.nodeName, and the
 * metadata.name node affinity upstream sets), revision-labelled for rolling updates; Node
 * changes reconcile every DaemonSet. Shell over planDaemonSet.
 */
import { objectKey, type Node, type Pod } from '../api/index.js'
import type { KubeObject, ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { splitKey, type ControllerDefinition } from './controller-loop.js'
import { daemonTolerations, planDaemonSet } from './daemonset-plan.js'
import { ownerWatches } from './owner-watches.js'
import { computePodTemplateHash } from './pod-template-hash.js'
import { podFromTemplate, templateOf } from './pod-template.js'
import { isControlledBy } from './replicaset-plan.js'
import { sameJson } from './same-json.js'
import { controllerRevisionHashLabel } from './statefulset-plan.js'

type Obj = Record<string, unknown>

function nodeAffinity(node: string): Obj {
  return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] } } }
}

export function daemonSetController(store: ObjectStore, client: ControllerClient): ControllerDefinition {
  const owned = ownerWatches(store, { resource: storage.daemonSets, kind: 'DaemonSet' }, storage.pods)
  return {
    name: 'daemonset-controller',
    watches: [...owned.watches, { resource: storage.nodes, keysOf: () => store.list(storage.daemonSets).items.map((d) => objectKey(d)) }],
    initialKeys: owned.initialKeys,
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key)
      const ds = store.get({ resource: storage.daemonSets, namespace, name })
      if (!ds || ds.metadata.deletionTimestamp) return
      const template = templateOf(ds)
      const spec = (template.spec ?? {}) as Obj
      const tolerations = [...((spec['tolerations'] as Obj[] | undefined) ?? []), ...daemonTolerations(spec['hostNetwork'] === true)]
      const revision = computePodTemplateHash(template)
      const owner = { ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' } as KubeObject
      const templatePod = podFromTemplate(owner, template, { spec: { tolerations } }) as unknown as Pod
      const strategy = ((ds['spec'] as Obj | undefined)?.['updateStrategy'] as Obj | undefined) ?? {}
      const plan = planDaemonSet({
        generation: ds.metadata.generation ?? 1, templatePod, revision,
        nodes: store.list(storage.nodes).items as unknown as Node[],
        pods: (store.list(storage.pods, { namespace }).items as unknown as Pod[]).filter((p) => isControlledBy(p, ds.metadata.uid)),
        rollingUpdate: (strategy['type'] ?? 'RollingUpdate') === 'RollingUpdate',
        maxUnavailable: (((strategy['rollingUpdate'] as Obj | undefined)?.['maxUnavailable']) as number | string | undefined) ?? 1,
      })
      for (const node of plan.create) {
        await client.create(resources.pods, podFromTemplate(owner, template, {
          generateName: `${name}-`, labels: { [controllerRevisionHashLabel]: revision },
          spec: { tolerations, affinity: { ...((spec['affinity'] as Obj | undefined) ?? {}), ...nodeAffinity(node) }, nodeName: node },
        }))
      }
      for (const p of plan.delete) await client.delete(resources.pods, namespace, p.metadata.name ?? '', { preconditions: { uid: p.metadata.uid ?? '' } })
      const status = { ...((ds['status'] as Obj | undefined) ?? {}), ...plan.status }
      if (!('numberUnavailable' in plan.status)) delete status['numberUnavailable']
      if (!sameJson(status, ds['status'])) await client.updateStatus(resources.daemonSets, { ...ds, status } as KubeObject)
    },
  }
}
