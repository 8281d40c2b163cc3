/**
 * A Deployment's status from its ReplicaSets (upstream calculateStatus) and the Available /
 * Progressing conditions `kubectl rollout status` reads, progressDeadlineSeconds and pausing
 * included (upstream syncRolloutStatus and checkPausedConditions). Pure; timestamps come in.
 */
import type { ReplicaSetState } from './deployment-rollout.js'

export interface DeploymentCondition {
  readonly type: 'Available' | 'Progressing'
  readonly status: 'True' | 'False' | 'Unknown'
  readonly reason: string
  readonly message: string
  readonly lastUpdateTime: string
  readonly lastTransitionTime: string
}

/** The replica counts of the status last written, to tell progress from a stall. */
export interface PreviousCounts {
  readonly updatedReplicas?: number
  readonly readyReplicas?: number
  readonly availableReplicas?: number
  readonly replicas?: number
}

export interface DeploymentStatusInput {
  readonly generation: number
  readonly desired: number
  readonly maxUnavailable: number
  readonly newRS: ReplicaSetState & { readonly ready: number }
  readonly oldRSes: readonly (ReplicaSetState & { readonly ready: number })[]
  readonly previousConditions: readonly DeploymentCondition[]
  readonly now: string
  readonly paused?: boolean
  /** spec.progressDeadlineSeconds (default 600). */
  readonly progressDeadlineSeconds?: number
  readonly previous?: PreviousCounts
}

export const defaultProgressDeadlineSeconds = 600

export function isRolloutComplete(i: Pick<DeploymentStatusInput, 'desired' | 'newRS' | 'oldRSes'>): boolean {
  return i.newRS.actual === i.desired && i.newRS.available === i.desired && i.oldRSes.every((r) => r.actual === 0)
}

type ConditionSpec = Omit<DeploymentCondition, 'lastUpdateTime' | 'lastTransitionTime'>

/** upstream SetDeploymentCondition: the same status and reason leave the condition as it was. */
function condition(prev: readonly DeploymentCondition[], now: string, c: ConditionSpec): DeploymentCondition {
  const old = prev.find((p) => p.type === c.type)
  if (old && old.status === c.status && old.reason === c.reason && old.message === c.message) return old
  return { ...c, lastUpdateTime: now, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now }
}

/** Any count moved the right way since the last status (upstream DeploymentProgressing). */
function madeProgress(i: DeploymentStatusInput, counts: { updated: number; ready: number; available: number; old: number }): boolean {
  const p = i.previous
  if (!p) return true
  const oldBefore = (p.replicas ?? 0) - (p.updatedReplicas ?? 0)
  return counts.updated > (p.updatedReplicas ?? 0) || counts.old < oldBefore || counts.ready > (p.readyReplicas ?? 0) || counts.available > (p.availableReplicas ?? 0)
}

function progressing(i: DeploymentStatusInput, counts: { updated: number; ready: number; available: number; old: number }): DeploymentCondition {
  const prev = i.previousConditions.find((c) => c.type === 'Progressing')
  const rsName = i.newRS.name
  if (i.paused) return condition(i.previousConditions, i.now, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' })
  if (prev?.reason === 'DeploymentPaused') return condition(i.previousConditions, i.now, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' })
  if (isRolloutComplete(i)) return condition(i.previousConditions, i.now, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` })
  const updated: ConditionSpec = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` }
  if (!prev || prev.reason === 'NewReplicaSetAvailable' || prev.reason === 'DeploymentResumed' || madeProgress(i, counts)) {
    // progress refreshes lastUpdateTime even when status and reason stay (upstream's special case)
    return { ...updated, lastUpdateTime: i.now, lastTransitionTime: prev?.status === 'True' ? prev.lastTransitionTime : i.now }
  }
  if (prev.reason === 'ProgressDeadlineExceeded' || progressDeadlinePassed(prev, i.progressDeadlineSeconds, Date.parse(i.now))) {
    return condition(i.previousConditions, i.now, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` })
  }
  return prev
}

function progressDeadlinePassed(prev: DeploymentCondition, deadlineSeconds: number | undefined, nowMs: number): boolean {
  const from = Date.parse(prev.lastUpdateTime)
  return Number.isFinite(from) && nowMs > from + (deadlineSeconds ?? defaultProgressDeadlineSeconds) * 1000
}

/** How long until a stalled rollout's Progressing condition times out (ms), or undefined when no check is due. */
export function progressRecheckMs(status: Record<string, unknown>, deadlineSeconds: number | undefined, nowMs: number): number | undefined {
  const c = (status['conditions'] as DeploymentCondition[] | undefined)?.find((x) => x.type === 'Progressing')
  if (!c || c.reason !== 'ReplicaSetUpdated') return undefined
  return Math.max(0, Date.parse(c.lastUpdateTime) + (deadlineSeconds ?? defaultProgressDeadlineSeconds) * 1000 - nowMs) + 1
}

export function deploymentStatus(i: DeploymentStatusInput): Record<string, unknown> {
  const all = [i.newRS, ...i.oldRSes]
  const available = all.reduce((n, r) => n + r.available, 0)
  const total = all.reduce((n, r) => n + r.replicas, 0)
  const replicas = all.reduce((n, r) => n + r.actual, 0)
  const ready = all.reduce((n, r) => n + r.ready, 0)
  const isAvailable = available >= i.desired - i.maxUnavailable
  const counts = { updated: i.newRS.actual, ready, available, old: replicas - i.newRS.actual }
  const conditions = [
    condition(i.previousConditions, i.now, isAvailable
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }),
    progressing(i, counts),
  ]
  return {
    observedGeneration: i.generation,
    replicas,
    updatedReplicas: i.newRS.actual,
    readyReplicas: ready,
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    conditions,
  }
}
