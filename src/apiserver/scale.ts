/**
 * The autoscaling/v1 Scale view of the scalable workloads (Deployments, ReplicaSets, StatefulSets,
 * ReplicationControllers, and custom resources at their CRD's scale paths), and folding a
 * Scale's spec.replicas back into the object. Pure.
 */
import type { KubeObject } from '../store/index.js'
import { badRequest } from './api-error.js'
import type { ScalePaths } from '../api/index.js'
import { setAtJsonPath, valueAtJsonPath } from './crd/json-path.js'

type Obj = Record<string, unknown>

function selectorString(sel: unknown): string {
  // A LabelSelector's matchLabels, or a ReplicationController's plain label map.
  const ml = ((sel as Obj | undefined)?.['matchLabels'] ?? (isLabelMap(sel) ? sel : undefined)) as Record<string, string> | undefined
  return Object.entries(ml ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',')
}

function isLabelMap(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')
}

/** `paths` for a custom resource (its CRD's scale subresource); the workloads' fields otherwise. */
export function scaleOf(o: KubeObject, paths?: ScalePaths): KubeObject {
  const spec = (o['spec'] ?? {}) as Obj
  const status = (o['status'] ?? {}) as Obj
  const m = o.metadata
  const specReplicas = paths ? valueAtJsonPath(o, paths.specReplicasPath) : spec['replicas']
  const statusReplicas = paths ? valueAtJsonPath(o, paths.statusReplicasPath) : status['replicas']
  const selector = paths ? (paths.labelSelectorPath ? valueAtJsonPath(o, paths.labelSelectorPath) : undefined) : selectorString(spec['selector'])
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : paths ? 0 : 1 },
    status: { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0, ...(typeof selector === 'string' ? { selector } : {}) },
  }
}

export function replicasOf(scale: unknown): number {
  const r = ((scale as Obj | undefined)?.['spec'] as Obj | undefined)?.['replicas']
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0) throw badRequest(`invalid Scale: spec.replicas must be a non-negative integer`)
  return r
}

/** A clone of `o` with spec.replicas set. */
export function withReplicas(o: KubeObject, replicas: number, paths?: ScalePaths): KubeObject {
  const out = structuredClone(o) as KubeObject
  if (paths) setAtJsonPath(out, paths.specReplicasPath, replicas)
  else out['spec'] = { ...((out['spec'] as Obj | undefined) ?? {}), replicas }
  return out
}
