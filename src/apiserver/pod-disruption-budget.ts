/**
 * PodDisruptionBudgets as the eviction subresource reads them: which budgets select a pod and
 * the budget's status (expected, desired and current healthy pods, disruptions allowed). kpe
 * runs no disruption controller, so the status is computed here, as upstream's
 * pkg/controller/disruption would keep it. Pure.
 */
import { isPodReady, type Pod } from '../api/index.js'
import type { KubeObject } from '../store/index.js'
import { labelSelectorRequirements, matchesLabels } from './selectors.js'

/** Where the store keeps PodDisruptionBudgets (policy/v1). */
export const podDisruptionBudgetResource = 'poddisruptionbudgets.policy'

export interface PodDisruptionBudget extends KubeObject {
  spec?: {
    minAvailable?: number | string
    maxUnavailable?: number | string
    selector?: unknown
    unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow'
  }
}

export interface DisruptionStatus {
  readonly expectedPods: number
  readonly desiredHealthy: number
  readonly currentHealthy: number
  readonly disruptionsAllowed: number
}

/** The budgets in the pod's namespace whose selector selects it (policy/v1: an empty selector selects every pod). */
export function budgetsSelecting(pod: KubeObject, budgets: readonly PodDisruptionBudget[]): PodDisruptionBudget[] {
  return budgets.filter((b) => {
    if ((b.metadata.namespace ?? '') !== (pod.metadata.namespace ?? '')) return false
    const reqs = labelSelectorRequirements(b.spec?.selector)
    return reqs !== undefined && matchesLabels(reqs, pod.metadata.labels)
  })
}

/** Ready and not being deleted: what the disruption controller counts as healthy. */
export function isHealthy(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp === undefined && isPodReady(pod)
}

/** upstream GetScaledValueFromIntOrPercent: "25%" of total, rounded up or down. */
function scaled(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v
  const m = /^(\d+)%$/.exec(v)
  if (m) {
    const exact = (Number(m[1]) * total) / 100
    return roundUp ? Math.ceil(exact) : Math.floor(exact)
  }
  return /^\d+$/.test(v) ? Number(v) : 0
}

/**
 * The budget's status over `pods` (all pods of its namespace). `expectedScale` gives the replicas
 * a pod's controller wants (upstream counts controllers' scale for percentages and maxUnavailable);
 * a pod without one counts as one.
 */
export function disruptionStatus(budget: PodDisruptionBudget, pods: readonly Pod[], expectedScale: (pod: Pod) => { readonly controller: string; readonly replicas: number } | undefined): DisruptionStatus {
  const mine = pods.filter((p) => budgetsSelecting(p, [budget]).length > 0)
  const currentHealthy = mine.filter(isHealthy).length
  const spec = budget.spec ?? {}
  let expectedPods = mine.length
  let desiredHealthy = 0
  const usesScale = spec.maxUnavailable !== undefined || typeof spec.minAvailable === 'string'
  if (usesScale) {
    const controllers = new Map<string, number>()
    let loose = 0
    for (const p of mine) {
      const scale = expectedScale(p)
      if (scale) controllers.set(scale.controller, scale.replicas)
      else loose++
    }
    expectedPods = loose + [...controllers.values()].reduce((a, b) => a + b, 0)
  }
  if (spec.maxUnavailable !== undefined) desiredHealthy = Math.max(0, expectedPods - scaled(spec.maxUnavailable, expectedPods, true))
  else if (spec.minAvailable !== undefined) desiredHealthy = scaled(spec.minAvailable, expectedPods, true)
  return { expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy) }
}
