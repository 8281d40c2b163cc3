/**
 * The StatefulSet controller's decision, pure (upstream pkg/controller/statefulset): Pods named
 * <set>-<ordinal>; OrderedReady creates them one at a time in order, each once its predecessors
 * are Running and Ready, and removes the highest first; Parallel does both at once. A rolling
 * update replaces, from the highest ordinal down to the partition, one Pod at a time whose
 * controller-revision-hash is not the update revision.
 */
import { isPodReady, type Pod } from '../api/index.js'

export const controllerRevisionHashLabel = 'controller-revision-hash'
export const statefulSetPodNameLabel = 'statefulset.kubernetes.io/pod-name'
export const podIndexLabel = 'apps.kubernetes.io/pod-index'

export interface StatefulSetLike {
  readonly metadata: { readonly name?: string; readonly generation?: number }
  readonly spec?: {
    readonly replicas?: number
    readonly podManagementPolicy?: string
    readonly updateStrategy?: { readonly type?: string; readonly rollingUpdate?: { readonly partition?: number } }
  }
  readonly status?: { readonly currentRevision?: string }
}

export interface StatefulSetPlan {
  /** Ordinals to create now. */
  readonly create: readonly number[]
  readonly delete: readonly Pod[]
  readonly status: Record<string, unknown>
}

export function ordinalOf(setName: string, pod: Pod): number | undefined {
  const name = pod.metadata.name ?? ''
  if (!name.startsWith(`${setName}-`)) return undefined
  const rest = name.slice(setName.length + 1)
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined
}

const healthy = (p: Pod): boolean => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && isPodReady(p)
const revisionOf = (p: Pod): string | undefined => p.metadata.labels?.[controllerRevisionHashLabel]

export function planStatefulSet(set: StatefulSetLike, pods: readonly Pod[], updateRevision: string): StatefulSetPlan {
  const name = set.metadata.name ?? ''
  const replicas = set.spec?.replicas ?? 1
  const parallel = set.spec?.podManagementPolicy === 'Parallel'
  const byOrdinal = new Map<number, Pod>()
  for (const p of pods) {
    const o = ordinalOf(name, p)
    if (o !== undefined) byOrdinal.set(o, p)
  }
  const create: number[] = []
  const del: Pod[] = []
  let blocked = false
  // failed Pods are replaced (deleted now, created again next pass)
  for (const p of byOrdinal.values()) if (p.status?.phase === 'Failed' && !p.metadata.deletionTimestamp) del.push(p)
  for (let i = 0; i < replicas && !blocked; i++) {
    const p = byOrdinal.get(i)
    if (!p) {
      create.push(i)
      if (!parallel) blocked = true
    } else if (!parallel && !healthy(p)) blocked = true
  }
  const condemned = [...byOrdinal.entries()].filter(([o]) => o >= replicas).sort(([a], [b]) => b - a).map(([, p]) => p)
  const allHealthy = [...byOrdinal.entries()].filter(([o]) => o < replicas).every(([, p]) => healthy(p))
  if (parallel) del.push(...condemned.filter((p) => !p.metadata.deletionTimestamp))
  else if (!blocked && create.length === 0 && condemned.length > 0 && !condemned.some((p) => p.metadata.deletionTimestamp)) {
    // the highest first, once every other Pod is Running and Ready
    if (allHealthy || condemned[0]!.status?.phase !== 'Running') del.push(condemned[0]!)
  }
  const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate'
  const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0
  const existing = [...byOrdinal.entries()].filter(([o]) => o < replicas)
  const settled = create.length === 0 && condemned.length === 0 && del.length === 0
  if (rolling && settled && existing.every(([, p]) => healthy(p))) {
    const stale = existing.filter(([o, p]) => o >= partition && revisionOf(p) !== updateRevision).sort(([a], [b]) => b - a)
    if (stale[0]) del.push(stale[0][1])
  }
  const active = pods.filter((p) => ordinalOf(name, p) !== undefined)
  const updated = active.filter((p) => revisionOf(p) === updateRevision).length
  const previousCurrent = set.status?.currentRevision
  const inRange = active.filter((p) => (ordinalOf(name, p) ?? 0) < replicas)
  const done = inRange.length === replicas && inRange.every((p) => revisionOf(p) === updateRevision || (ordinalOf(name, p) ?? 0) < partition)
  const currentRevision = !previousCurrent || (done && partition === 0) ? updateRevision : previousCurrent
  return {
    create, delete: del,
    status: {
      observedGeneration: set.metadata.generation ?? 1,
      replicas: active.length,
      readyReplicas: active.filter(isPodReady).length,
      availableReplicas: active.filter((p) => !p.metadata.deletionTimestamp && isPodReady(p)).length,
      currentReplicas: active.filter((p) => revisionOf(p) === currentRevision).length,
      updatedReplicas: updated,
      currentRevision,
      updateRevision,
      collisionCount: 0,
    },
  }
}
