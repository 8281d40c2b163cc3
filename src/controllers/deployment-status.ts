/**
 * A Deployment's status from its ReplicaSets (upstream calculateStatus and the Available /
 * Progressing conditions that `kubectl rollout status` reads). Pure; timestamps come in.
 */
import type { ReplicaSetState } from './deployment-rollout.js'

export interface DeploymentCondition {
  readonly type: 'Available' | 'Progressing'
  readonly status: 'True' | 'False'
  readonly reason: string
  readonly message: string
  readonly lastUpdateTime: string
  readonly lastTransitionTime: string
}

export interface DeploymentStatusInput {
  readonly generation: number
  readonly desired: number
  readonly maxUnavailable: number
  readonly newRS: ReplicaSetState & { readonly ready: number }
  readonly oldRSes: readonly (ReplicaSetState & { readonly ready: number })[]
  readonly previousConditions: readonly DeploymentCondition[]
  readonly now: string
}

export function isRolloutComplete(i: Pick<DeploymentStatusInput, 'desired' | 'newRS' | 'oldRSes'>): boolean {
  return i.newRS.actual === i.desired && i.newRS.available === i.desired && i.oldRSes.every((r) => r.actual === 0)
}

function condition(prev: readonly DeploymentCondition[], now: string, c: Omit<DeploymentCondition, 'lastUpdateTime' | 'lastTransitionTime'>): DeploymentCondition {
  const old = prev.find((p) => p.type === c.type)
  const unchanged = old && old.status === c.status && old.reason === c.reason && old.message === c.message
  if (unchanged) return old
  return { ...c, lastUpdateTime: now, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now }
}

export function deploymentStatus(i: DeploymentStatusInput): Record<string, unknown> {
  const all = [i.newRS, ...i.oldRSes]
  const available = all.reduce((n, r) => n + r.available, 0)
  const total = all.reduce((n, r) => n + r.replicas, 0)
  const isAvailable = available >= i.desired - i.maxUnavailable
  const complete = isRolloutComplete(i)
  const conditions = [
    condition(i.previousConditions, i.now, isAvailable
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }),
    condition(i.previousConditions, i.now, complete
      ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${i.newRS.name}" has successfully progressed.` }
      : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${i.newRS.name}" is progressing.` }),
  ]
  return {
    observedGeneration: i.generation,
    replicas: all.reduce((n, r) => n + r.actual, 0),
    updatedReplicas: i.newRS.actual,
    readyReplicas: all.reduce((n, r) => n + r.ready, 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    conditions,
  }
}
