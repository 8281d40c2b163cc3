/**
 * A Namespace's lifecycle as kube-apiserver and the namespace controller show it: the status
 * conditions of a Terminating namespace (what content and finalizers remain), and the refusals
 * of NamespaceLifecycle admission (no new content in a terminating namespace, no deleting the
 * built-in ones). Pure.
 */
import { qualifiedResource, type ResourceInfo } from '../api/index.js'
import { ApiError } from './api-error.js'
import { finalizersOf, type Dependent } from './garbage-collection.js'

export interface NamespaceCondition {
  readonly type: string
  readonly status: 'True' | 'False'
  readonly reason: string
  readonly message: string
  readonly lastTransitionTime: string
}

/** Namespaces NamespaceLifecycle admission never lets go. */
export const immortalNamespaces: ReadonlySet<string> = new Set(['default', 'kube-system', 'kube-public'])

/** `resource` is the store key (`deployments.apps`), which is how upstream prints a GroupResource. */
function counted(items: readonly { readonly key: { readonly resource: string } }[], what: (resource: string, n: number) => string): string {
  const n = new Map<string, number>()
  for (const d of items) n.set(d.key.resource, (n.get(d.key.resource) ?? 0) + 1)
  return [...n.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([r, c]) => what(r, c)).join(', ')
}

/**
 * The five conditions upstream's namespaced-resources deleter writes, from what is left in the
 * namespace and which deletions failed. Unchanged conditions keep their transition time.
 */
export function namespaceConditions(remaining: readonly Dependent[], failures: readonly string[], previous: readonly NamespaceCondition[], now: string): NamespaceCondition[] {
  const withFinalizers = remaining.filter((d) => finalizersOf(d.object).length > 0)
  const finalizerCounts = new Map<string, number>()
  for (const d of withFinalizers) for (const f of finalizersOf(d.object)) finalizerCounts.set(f, (finalizerCounts.get(f) ?? 0) + 1)
  const wanted: Omit<NamespaceCondition, 'lastTransitionTime'>[] = [
    { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
    { type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
    failures.length > 0
      ? { type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${failures.length} remaining: ${failures.join(', ')}` }
      : { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
    remaining.length > 0
      ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${counted(remaining, (r, c) => `${r} has ${c} resource instances`)}` }
      : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
    finalizerCounts.size > 0
      ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${[...finalizerCounts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([f, c]) => `${f} in ${c} resource instances`).join(', ')}` }
      : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
  ]
  return wanted.map((c) => {
    const old = previous.find((p) => p.type === c.type)
    return { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now }
  })
}

/** 403 for a create in a namespace being deleted, with upstream's message and cause. */
export function namespaceTerminating(r: ResourceInfo, name: string, namespace: string): ApiError {
  return new ApiError(403, 'Forbidden', `${qualifiedResource(r)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
    name, group: r.group, kind: r.resource,
    causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
  })
}

/** 403 for deleting default, kube-system or kube-public. */
export function namespaceImmortal(r: ResourceInfo, name: string): ApiError {
  return new ApiError(403, 'Forbidden', `${qualifiedResource(r)} "${name}" is forbidden: this namespace may not be deleted`, { name, group: r.group, kind: r.resource })
}
