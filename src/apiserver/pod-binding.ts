/**
 * Binding a Pod to a Node (pods/NAME/binding, and the deprecated namespaces/NS/bindings): one
 * store update, guarded by the Pod's resourceVersion and retried on a lost race, that sets
 * spec.nodeName, copies the Binding's annotations and sets PodScheduled=True, as kube-apiserver's
 * BindingREST (pkg/registry/core/pod/storage/storage.go). No admission hooks and no revalidation
 * of the Pod, as upstream: only the Binding's own fields are new.
 */
import { FieldErrors, findResource, formatTimestamp, toBinding, validateAnnotations, validateBinding, type Binding, type Pod, type PodCondition, type ResourceInfo } from '../api/index.js'
import { InternalError } from '../errors.js'
import { ApiError, badRequest, conflict, invalidKind, notFound, toApiError } from './api-error.js'
import { decodeWriteBody, parseFieldValidation } from './field-validation.js'
import { isDryRun, retryOnConflict, type WriteDeps } from './writes.js'

export type AssignDecision =
  | { readonly kind: 'assign'; readonly pod: Pod }
  | { readonly kind: 'refuse'; readonly error: ApiError }

function podsResource(): ResourceInfo {
  const r = findResource('', 'v1', 'pods')
  if (!r) throw new InternalError('pods are not served')
  return r
}

/** kube-apiserver's conflict on the pods/binding resource, which every refusal of the update function becomes. */
function bindingConflict(name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": ${why}`, { name, group: '', kind: 'pods/binding' })
}

/** A precondition the Binding's metadata set (uid, resourceVersion) that the Pod does not meet: a Conflict on pods. */
function preconditionFailed(name: string, field: 'UID' | 'ResourceVersion', wanted: string, actual: string | undefined): ApiError {
  const e = conflict(podsResource(), name)
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods "${name}": Precondition failed: ${field} in precondition: ${wanted}, ${field} in object meta: ${actual ?? ''}`, e.details)
}

/** 422 on the Binding, each field error a cause. */
function invalidBinding(name: string, errs: FieldErrors): ApiError {
  return invalidKind('', 'Binding', name, errs.list.map((e) => ({ reason: e.type, field: e.field, message: e.message })))
}

/**
 * upstream's UpdatePodCondition: the condition replaces the one of its type in place (reason and
 * message go with it), keeping that one's lastTransitionTime when the status is unchanged.
 */
export function updatePodCondition(conditions: readonly PodCondition[], next: PodCondition, now: string): PodCondition[] {
  const at = conditions.findIndex((c) => c.type === next.type)
  const old = conditions[at]
  const stamped: PodCondition = { ...next, lastProbeTime: null, lastTransitionTime: old && old.status === next.status ? old['lastTransitionTime'] : now }
  return at < 0 ? [...conditions, stamped] : conditions.map((c, i) => (i === at ? stamped : c))
}

/**
 * upstream setPodHostAndAnnotations' update function, with the storage preconditions it runs
 * under: the Pod as bound, or why it cannot be. Pure; `pod` is not changed.
 */
export function assignPod(pod: Pod, binding: Binding, now: string): AssignDecision {
  const name = pod.metadata.name ?? ''
  const { uid, resourceVersion } = binding.metadata
  if (uid !== undefined && uid !== pod.metadata.uid) return { kind: 'refuse', error: preconditionFailed(name, 'UID', uid, pod.metadata.uid) }
  if (resourceVersion !== undefined && resourceVersion !== pod.metadata.resourceVersion) {
    return { kind: 'refuse', error: preconditionFailed(name, 'ResourceVersion', resourceVersion, pod.metadata.resourceVersion) }
  }
  if (pod.metadata.deletionTimestamp) return { kind: 'refuse', error: bindingConflict(name, `pod ${name} is being deleted, cannot be assigned to a host`) }
  if (pod.spec.nodeName) return { kind: 'refuse', error: bindingConflict(name, `pod ${name} is already assigned to node ${JSON.stringify(pod.spec.nodeName)}`) }
  const gates = pod.spec['schedulingGates']
  if (Array.isArray(gates) && gates.length > 0) return { kind: 'refuse', error: bindingConflict(name, `pod ${name} has non-empty .spec.schedulingGates`) }
  const bound = structuredClone(pod)
  bound.spec.nodeName = binding.target.name
  if (binding.metadata.annotations) {
    bound.metadata.annotations = { ...bound.metadata.annotations, ...binding.metadata.annotations }
    // Each map is valid on its own; together they may pass the 256 KiB annotation limit, which upstream does not check here.
    const errs = new FieldErrors()
    validateAnnotations(errs, 'metadata.annotations', bound.metadata.annotations)
    if (!errs.ok) return { kind: 'refuse', error: invalidBinding(name, errs) }
  }
  bound.status = { ...bound.status, conditions: updatePodCondition(bound.status?.conditions ?? [], { type: 'PodScheduled', status: 'True' }, now) }
  return { kind: 'assign', pod: bound }
}

/**
 * Decodes and checks a Binding body for the Pod `name` (from the URL; for the deprecated
 * bindings resource, from the body). 400 for a wrong kind or a name that is not the URL's, 422
 * naming the field for an invalid Binding.
 */
export function parseBinding(body: Record<string, unknown>, namespace: string, urlName: string | undefined, q: URLSearchParams): Binding {
  if (body['kind'] !== undefined && body['kind'] !== 'Binding') throw badRequest(`not a Binding object: ${String(body['kind'])}`)
  if (body['apiVersion'] !== undefined && body['apiVersion'] !== 'v1') {
    throw badRequest(`the API version in the data (${String(body['apiVersion'])}) does not match the expected API version (v1)`)
  }
  const decoded = decodeWriteBody(podsResource(), body, parseFieldValidation(q), { apiVersion: 'v1', kind: 'Binding' }).object
  const meta = (decoded['metadata'] ?? {}) as Record<string, unknown>
  const bodyName = typeof meta['name'] === 'string' ? meta['name'] : ''
  if (urlName !== undefined && bodyName !== urlName) throw badRequest('name in URL does not match name in Binding object')
  const ns = meta['namespace']
  if (typeof ns === 'string' && ns !== '' && ns !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
  const errs = validateBinding(decoded)
  if (!errs.ok) throw invalidBinding(bodyName, errs)
  return toBinding(decoded)
}

/**
 * Binds the Pod `binding.metadata.name` in `namespace` (GuaranteedUpdate: a write that lands
 * between the read and the update is retried on the fresh Pod). Answers the Pod as stored.
 */
export async function bindPod(deps: WriteDeps, namespace: string, binding: Binding, q: URLSearchParams): Promise<Pod> {
  const pods = podsResource()
  const name = binding.metadata.name
  const key = { resource: 'pods', namespace, name }
  try {
    const decision = await retryOnConflict(deps, async () => {
      const current = deps.store.get(key) as Pod | undefined
      if (!current) throw notFound(pods, name)
      const d = assignPod(current, binding, formatTimestamp(deps.clock.now()))
      if (d.kind === 'refuse' || isDryRun(q)) return { result: d }
      const [stored] = await deps.store.transact([{ type: 'update', resource: 'pods', object: d.pod, preconditions: { resourceVersion: current.metadata.resourceVersion ?? '' } }])
      return { result: { kind: 'assign', pod: (stored ?? d.pod) as Pod } as const }
    })
    if (decision.kind === 'refuse') throw decision.error
    return decision.pod
  } catch (e) {
    throw toApiError(e, pods, name)
  }
}
