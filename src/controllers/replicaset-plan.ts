/**
 * The ReplicaSet controller's decision, pure: which owned Pods count (not terminating, not
 * finished), how many to create or which to delete (upstream's ranking: unscheduled, then
 * pending, then not ready, then newest first), and the status to report.
 */
import { isPodReady, type Pod } from '../api/index.js'

export interface ReplicaSetLike {
  readonly metadata: { readonly name?: string; readonly uid?: string; readonly generation?: number }
  readonly spec?: { readonly replicas?: number; readonly minReadySeconds?: number; readonly selector?: { readonly matchLabels?: Record<string, string> } }
}

export interface ReplicaSetStatus {
  readonly replicas: number
  readonly fullyLabeledReplicas: number
  readonly readyReplicas: number
  readonly availableReplicas: number
  readonly terminatingReplicas: number
  readonly observedGeneration: number
}

export interface ReplicaSetPlan {
  readonly create: number
  readonly delete: readonly Pod[]
  readonly status: ReplicaSetStatus
  /** When a ready Pod will have been ready for minReadySeconds (ms from now): look again then. */
  readonly recheckMs?: number
}

/**
 * upstream IsPodAvailable: ready, and ready for at least minReadySeconds (from the Ready
 * condition's lastTransitionTime). Answers how long until it is when it is not yet.
 */
export function podAvailability(p: Pod, minReadySeconds: number, nowMs: number): { available: boolean; inMs?: number } {
  if (!isPodReady(p)) return { available: false }
  if (minReadySeconds <= 0) return { available: true }
  const since = Date.parse(String(p.status?.conditions?.find((c) => c.type === 'Ready')?.['lastTransitionTime'] ?? ''))
  if (!Number.isFinite(since)) return { available: false }
  const left = since + minReadySeconds * 1000 - nowMs
  return left <= 0 ? { available: true } : { available: false, inMs: left }
}

export interface OwnerReferenceLike {
  readonly kind?: string
  readonly name?: string
  readonly uid?: string
  readonly controller?: boolean
}

/**
 * The owner references that can be read. Validation keeps malformed ones out, but a store
 * written earlier may hold `ownerReferences: [null]`; such an entry owns nothing, so one bad
 * Pod cannot make its controller's every reconcile of the namespace throw.
 */
export function ownerReferencesOf(o: { readonly metadata: object }): OwnerReferenceLike[] {
  const refs: unknown = (o.metadata as { ownerReferences?: unknown }).ownerReferences
  return Array.isArray(refs) ? refs.filter((r): r is OwnerReferenceLike => typeof r === 'object' && r !== null) : []
}

export function isControlledBy(o: { readonly metadata: object }, uid: string | undefined): boolean {
  return uid !== undefined && ownerReferencesOf(o).some((r) => r.controller === true && r.uid === uid)
}

export function isActivePod(p: Pod): boolean {
  const phase = p.status?.phase
  return !p.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed'
}

function phaseRank(p: Pod): number {
  switch (p.status?.phase) {
    case 'Pending': return 0
    case 'Unknown': return 1
    case 'Running': return 2
    default: return 0
  }
}

/** upstream controller.ActivePods ordering: the first ones are deleted first. */
export function deletionOrder(a: Pod, b: Pod): number {
  const sa = a.spec.nodeName ? 1 : 0
  const sb = b.spec.nodeName ? 1 : 0
  if (sa !== sb) return sa - sb
  if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b)
  const ra = isPodReady(a) ? 1 : 0
  const rb = isPodReady(b) ? 1 : 0
  if (ra !== rb) return ra - rb
  const ta = a.metadata.creationTimestamp ?? ''
  const tb = b.metadata.creationTimestamp ?? ''
  if (ta !== tb) return ta > tb ? -1 : 1
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? 1 : -1
}

export function planReplicaSet(rs: ReplicaSetLike, ownedPods: readonly Pod[], nowMs = Date.now()): ReplicaSetPlan {
  const active = ownedPods.filter(isActivePod)
  const want = rs.spec?.replicas ?? 1
  const diff = want - active.length
  const selector = rs.spec?.selector?.matchLabels ?? {}
  const ready = active.filter(isPodReady).length
  const availability = active.map((p) => podAvailability(p, rs.spec?.minReadySeconds ?? 0, nowMs))
  const waits = availability.flatMap((a) => (a.inMs === undefined ? [] : [a.inMs]))
  return {
    ...(waits.length > 0 ? { recheckMs: Math.min(...waits) + 1 } : {}),
    create: Math.max(0, diff),
    delete: diff < 0 ? [...active].sort(deletionOrder).slice(0, -diff) : [],
    status: {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
      readyReplicas: ready,
      availableReplicas: availability.filter((a) => a.available).length,
      terminatingReplicas: ownedPods.filter((p) => p.metadata.deletionTimestamp).length,
      observedGeneration: rs.metadata.generation ?? 1,
    },
  }
}
