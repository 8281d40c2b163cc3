/**
 * The pods/eviction subresource (POST a policy/v1 Eviction): deletes the pod gracefully unless
 * the PodDisruptionBudget selecting it allows no disruption, then 429 TooManyRequests with a
 * DisruptionBudget cause, as kube-apiserver's EvictionREST (pkg/registry/core/pod/storage/eviction.go).
 */
import { isPodReady, findByKind, storageResource, type Pod } from '../api/index.js'
import { ApiError, badRequest, createdStatus, tooManyRequests, type CreatedStatus } from './api-error.js'
import { budgetsSelecting, disruptionStatus, podDisruptionBudgetResource, type PodDisruptionBudget } from './pod-disruption-budget.js'
import { deleteObject, getExisting, type DeleteOptions, type WriteDeps, type WriteTarget } from './writes.js'

export type EvictionDecision =
  | { readonly kind: 'delete' }
  | { readonly kind: 'refuse'; readonly error: ApiError }

const evictionRefused = "Cannot evict pod as it would violate the pod's disruption budget."

/**
 * upstream EvictionREST.Create's decision. Pods that are finished, pending or already being
 * deleted are never protected; a pod that is not Ready is evicted when the budget is met anyway.
 */
export function decideEviction(pod: Pod, budgets: readonly PodDisruptionBudget[], podsInNamespace: readonly Pod[],
  expectedScale: Parameters<typeof disruptionStatus>[2]): EvictionDecision {
  const phase = pod.status?.phase
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata.deletionTimestamp !== undefined) return { kind: 'delete' }
  const selecting = budgetsSelecting(pod, budgets)
  if (selecting.length === 0) return { kind: 'delete' }
  const [budget] = selecting
  if (selecting.length > 1 || !budget) {
    return { kind: 'refuse', error: new ApiError(429, 'TooManyRequests', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.') }
  }
  const status = disruptionStatus(budget, podsInNamespace, expectedScale)
  if (!isPodReady(pod)) {
    if (budget.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return { kind: 'delete' }
    if (status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0) return { kind: 'delete' }
  }
  if (status.disruptionsAllowed > 0) return { kind: 'delete' }
  return {
    kind: 'refuse',
    error: tooManyRequests(evictionRefused, 0, [{
      reason: 'DisruptionBudget',
      message: `The disruption budget ${budget.metadata.name ?? ''} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
    }]),
  }
}

/** The body's Eviction: its kind, and a name matching the URL's. */
function parseEviction(body: Record<string, unknown>, name: string): Record<string, unknown> {
  const kind = body['kind']
  if (kind !== undefined && kind !== 'Eviction') throw badRequest(`not a Eviction object: ${String(kind)}`)
  const meta = (body['metadata'] ?? {}) as Record<string, unknown>
  if (meta['name'] !== name) throw badRequest('name in URL does not match name in Eviction object')
  const opts = body['deleteOptions']
  return typeof opts === 'object' && opts !== null && !Array.isArray(opts) ? opts as Record<string, unknown> : {}
}

/** The replicas the pod's controller wants, read from the store through the controller's kind. */
function controllerScale(deps: WriteDeps, pod: Pod): { controller: string; replicas: number } | undefined {
  const ref = pod.metadata.ownerReferences?.find((r) => r.controller === true)
  const info = ref ? findByKind(ref.apiVersion, ref.kind) : undefined
  if (!ref || !info) return undefined
  const owner = deps.store.get({ resource: storageResource(info), namespace: pod.metadata.namespace ?? '', name: ref.name })
  const replicas = (owner?.['spec'] as { replicas?: unknown } | undefined)?.replicas
  return owner ? { controller: `${storageResource(info)}/${ref.name}`, replicas: typeof replicas === 'number' ? replicas : 1 } : undefined
}

/**
 * POST pods/NAME/eviction. `toDeleteOptions` reads the Eviction's deleteOptions as a DELETE body
 * is read. Answers the Success Status kube-apiserver sends.
 */
export async function evictPod(deps: WriteDeps, t: WriteTarget, name: string, body: Record<string, unknown>, q: URLSearchParams,
  toDeleteOptions: (raw: Record<string, unknown>) => DeleteOptions): Promise<CreatedStatus> {
  const podTarget: WriteTarget = { ...t, subresource: undefined }
  const deleteOptions = toDeleteOptions(parseEviction(body, name))
  const pod = getExisting(deps, podTarget, name) as Pod
  const namespace = pod.metadata.namespace ?? ''
  const budgets = deps.store.list(podDisruptionBudgetResource, { namespace }).items as PodDisruptionBudget[]
  const pods = deps.store.list(storageResource(t.info), { namespace }).items as Pod[]
  const decision = decideEviction(pod, budgets, pods, (p) => controllerScale(deps, p))
  if (decision.kind === 'refuse') throw decision.error
  await deleteObject(deps, podTarget, name, deleteOptions, q)
  return createdStatus()
}
