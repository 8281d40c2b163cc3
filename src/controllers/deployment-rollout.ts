/**
 * The Deployment controller's rollout planner, pure and one step at a time like upstream's
 * (pkg/controller/deployment/rolling.go and recreate.go): given the desired replica count,
 * the strategy and each ReplicaSet's spec/available counts, the new replica counts to write.
 */
import { assertNever } from '../errors.js'

export interface ReplicaSetState {
  readonly name: string
  /** spec.replicas */
  readonly replicas: number
  /** status.replicas: active Pods */
  readonly actual: number
  /** status.availableReplicas */
  readonly available: number
  /** status.terminatingReplicas: Pods still in their grace period (Recreate waits for them). */
  readonly terminating?: number
}

export type Strategy =
  | { readonly type: 'RollingUpdate'; readonly maxSurge: number | string; readonly maxUnavailable: number | string }
  | { readonly type: 'Recreate' }

export interface RolloutInput {
  readonly desired: number
  readonly strategy: Strategy
  readonly newRS: ReplicaSetState
  /** Oldest first. */
  readonly oldRSes: readonly ReplicaSetState[]
}

/** ReplicaSet name -> new spec.replicas; only the ones that change. */
export type RolloutPlan = ReadonlyMap<string, number>

/** intstr.GetScaledValueFromIntOrPercent */
export function scaledValue(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v
  const m = /^(\d+)%$/.exec(v.trim())
  if (!m) return Number.parseInt(v, 10) || 0
  const x = (Number(m[1]) * total) / 100
  return roundUp ? Math.ceil(x) : Math.floor(x)
}

/** upstream ResolveFenceposts: maxSurge rounds up, maxUnavailable down, and not both zero. */
export function resolveFenceposts(maxSurge: number | string, maxUnavailable: number | string, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, desired, true)
  let unavailable = scaledValue(maxUnavailable, desired, false)
  if (surge === 0 && unavailable === 0) unavailable = 1
  return { surge, unavailable }
}

function sum(list: readonly ReplicaSetState[], f: (r: ReplicaSetState) => number): number {
  return list.reduce((n, r) => n + f(r), 0)
}

export function planRollout(input: RolloutInput): RolloutPlan {
  const s = input.strategy
  switch (s.type) {
    case 'RollingUpdate': return planRolling(input, s)
    case 'Recreate': return planRecreate(input)
    default: return assertNever(s)
  }
}

function planRecreate(input: RolloutInput): RolloutPlan {
  const out = new Map<string, number>()
  const active = input.oldRSes.filter((r) => r.replicas > 0)
  for (const r of active) out.set(r.name, 0)
  if (active.length > 0 || input.oldRSes.some((r) => r.actual + (r.terminating ?? 0) > 0)) return out
  if (input.newRS.replicas !== input.desired) out.set(input.newRS.name, input.desired)
  return out
}

/**
 * A paused Deployment only follows spec.replicas (upstream's scale without a rollout): the one
 * active ReplicaSet (the newest when none is) takes the desired count. Several active ones are
 * left as they are (upstream would scale them proportionally).
 */
export function planScaleOnly(desired: number, newRS: ReplicaSetState | undefined, oldRSes: readonly ReplicaSetState[]): RolloutPlan {
  const all = [...(newRS ? [newRS] : []), ...[...oldRSes].reverse()]
  const active = all.filter((r) => r.replicas > 0)
  const target = active.length === 1 ? active[0] : active.length === 0 ? all[0] : undefined
  return target && target.replicas !== desired ? new Map([[target.name, desired]]) : new Map()
}

function planRolling(input: RolloutInput, s: { maxSurge: number | string; maxUnavailable: number | string }): RolloutPlan {
  const { desired, newRS } = input
  const out = new Map<string, number>()
  const activeOld = input.oldRSes.filter((r) => r.replicas > 0)
  // a plain scaling event: nothing to roll, the only active ReplicaSet follows spec.replicas
  if (activeOld.length === 0) {
    if (newRS.replicas !== desired) out.set(newRS.name, desired)
    return out
  }
  const { surge, unavailable } = resolveFenceposts(s.maxSurge, s.maxUnavailable, desired)
  const all = [newRS, ...input.oldRSes]
  // reconcileNewReplicaSet
  if (newRS.replicas > desired) {
    out.set(newRS.name, desired)
    return out
  }
  if (newRS.replicas < desired) {
    const maxTotal = desired + surge
    const current = sum(all, (r) => r.replicas)
    if (current < maxTotal) {
      out.set(newRS.name, newRS.replicas + Math.min(maxTotal - current, desired - newRS.replicas))
      return out
    }
  }
  // reconcileOldReplicaSets
  const minAvailable = desired - unavailable
  const newUnavailable = newRS.replicas - newRS.available
  const maxScaledDown = sum(all, (r) => r.replicas) - minAvailable - newUnavailable
  if (maxScaledDown <= 0) return out
  const replicas = new Map(input.oldRSes.map((r) => [r.name, r.replicas]))
  // cleanupUnhealthyReplicas: old Pods that are not available go first
  let cleaned = 0
  for (const r of activeOld) {
    if (cleaned >= maxScaledDown) break
    const unhealthy = r.replicas - r.available
    if (unhealthy <= 0) continue
    const n = Math.min(maxScaledDown - cleaned, unhealthy)
    replicas.set(r.name, r.replicas - n)
    cleaned += n
  }
  // scaleDownOldReplicaSetsForRollingUpdate: keep minAvailable available Pods
  const availableCount = newRS.available + sum(input.oldRSes, (r) => Math.min(r.available, replicas.get(r.name) ?? 0))
  let budget = availableCount - minAvailable
  for (const r of activeOld) {
    if (budget <= 0) break
    const cur = replicas.get(r.name) ?? 0
    if (cur === 0) continue
    const n = Math.min(cur, budget)
    replicas.set(r.name, cur - n)
    budget -= n
  }
  for (const r of input.oldRSes) if ((replicas.get(r.name) ?? 0) !== r.replicas) out.set(r.name, replicas.get(r.name) ?? 0)
  return out
}
