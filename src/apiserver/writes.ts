/**
 * The write pipeline shared by POST, PUT, PATCH and DELETE: typed decoding against the API
 * schema, body checks, system metadata, defaulting, admission hooks, validation and the object
 * size limit, then one store transaction (with any extra ops the hooks asked for). Nothing is
 * stored when any step fails.
 */
import { validateObjectFields, formatTimestamp, apiVersionOf, storageResource, type ResourceCatalogue, type ResourceInfo } from '../api/index.js'
import { isStoreError, type KubeObject, type ObjectKey, type ObjectStore, type WriteOp } from '../store/index.js'
import { runAdmissionHooks, type AdmissionContext, type AdmissionHook, type AdmissionRun } from './admission.js'
import { ApiError, badRequest, conflict, invalid, namespaceNotFound, notFound, toApiError } from './api-error.js'
import { servedAs, storedAs } from './versions/conversion.js'
import { applyDefaults } from './defaulting.js'
import { decodeWriteBody, parseFieldValidation } from './field-validation.js'
import { completesDeletion, planDeletion } from './garbage-collection.js'
import { immortalNamespaces, namespaceImmortal, namespaceTerminating } from './namespace-lifecycle.js'
import type { Clock } from '../runtime/index.js'
import { prepareForCreate, prepareForUpdate, type IdSource } from './object-meta.js'
import { fieldsV1Of, isPlainObject, recordManager, recordUpdate, type JsonObject, type ManagedFieldsEntry } from './patch/index.js'

export interface WriteDeps {
  readonly store: ObjectStore
  readonly clock: Clock
  readonly ids: IdSource
  readonly hooks: readonly AdmissionHook[]
  /** The server's catalogue (custom resources included) for cascading deletion; the built-in kinds when absent. */
  readonly catalogue?: ResourceCatalogue
  /**
   * Told of every committed deletion: 'deleted' (gone from the store) or 'marked' (stored with
   * deletionTimestamp, waiting for finalizers or a grace period). The garbage collector's entry.
   */
  readonly afterDelete?: (info: ResourceInfo, object: KubeObject, outcome: DeleteOutcome) => Promise<void>
}

export type DeleteOutcome = 'deleted' | 'marked'

export interface WriteTarget {
  readonly info: ResourceInfo
  readonly namespace: string | undefined
  readonly name: string | undefined
  readonly subresource: string | undefined
}

export interface WriteResult {
  readonly object: KubeObject
  readonly warnings: readonly string[]
}

export function targetKey(t: WriteTarget, name: string): ObjectKey {
  return { resource: storageResource(t.info), namespace: t.info.namespaced ? t.namespace ?? '' : '', name }
}

export function isDryRun(q: URLSearchParams): boolean {
  return q.getAll('dryRun').includes('All')
}

/** Checks apiVersion/kind/namespace of a body and returns a mutable copy. */
export function normalizeBody(t: WriteTarget, body: Record<string, unknown>): KubeObject {
  return normalizeOwned(t, structuredClone(body))
}

/** normalizeBody on an object the caller owns (a decoded body), in place. */
function normalizeOwned(t: WriteTarget, body: Record<string, unknown>): KubeObject {
  const r = t.info
  const o = body as KubeObject
  if (o.apiVersion !== undefined && o.apiVersion !== apiVersionOf(r)) {
    throw badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`)
  }
  if (o.kind !== undefined && o.kind !== r.kind) throw badRequest(`the kind in the data (${String(o.kind)}) does not match the expected kind (${r.kind})`)
  o.apiVersion = apiVersionOf(r)
  o.kind = r.kind
  if (!isPlainObject(o.metadata)) o.metadata = {}
  if (r.namespaced) {
    const ns = o.metadata.namespace
    if (ns !== undefined && ns !== '' && t.namespace !== undefined && ns !== t.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
    }
    o.metadata.namespace = t.namespace ?? ns ?? ''
  } else delete o.metadata.namespace
  return o
}

function admissionContext(deps: WriteDeps, t: WriteTarget, q: URLSearchParams, deleteOptions?: DeleteOptions): AdmissionContext {
  const grace = deleteOptions?.gracePeriodSeconds
  return { resource: t.info, subresource: t.subresource, store: deps.store, dryRun: isDryRun(q), ...(grace === undefined ? {} : { deleteOptions: { gracePeriodSeconds: grace } }) }
}

/** Runs `write` and tells the admission hooks how it ended. */
async function settled<T>(run: AdmissionRun, write: () => Promise<T>, q: URLSearchParams): Promise<T> {
  try {
    const out = await write()
    run.settle(isDryRun(q) ? 'aborted' : 'committed')
    return out
  } catch (e) {
    run.settle('aborted')
    throw e
  }
}

/**
 * A store failure on an op a hook added (an allocation record, say), not on the object itself,
 * is a write race: reported as a retryable Conflict on the object.
 */
function storeFailure(e: unknown, t: WriteTarget, name: string): unknown {
  const key = (e as { key?: { resource?: string; name?: string } }).key
  const foreign = isStoreError(e) && key !== undefined && (key.resource !== storageResource(t.info) || key.name !== name)
  return foreign && (isStoreError(e, 'AlreadyExists') || isStoreError(e, 'Conflict')) ? conflict(t.info, name) : e
}

function managerEntry(deps: WriteDeps, r: ResourceInfo, manager: string, operation: 'Apply' | 'Update', fields: unknown, sub?: string): ManagedFieldsEntry {
  return {
    manager, operation, apiVersion: apiVersionOf(r), time: formatTimestamp(deps.clock.now()), fieldsType: 'FieldsV1',
    fieldsV1: isPlainObject(fields) ? fieldsV1Of(r.kind, fields) : {}, ...(sub ? { subresource: sub } : {}),
  }
}

/** The request's fieldManager owns what it changed from `old` (everything, on create). */
function recordUpdateManager(deps: WriteDeps, o: KubeObject, t: WriteTarget, q: URLSearchParams, old: KubeObject | undefined, subresource = t.subresource): void {
  const manager = q.get('fieldManager')
  if (!manager) return
  const entry = managerEntry(deps, t.info, manager, 'Update', {}, subresource)
  o.metadata['managedFields'] = recordUpdate(o.metadata['managedFields'], entry, t.info.kind, old as JsonObject | undefined, o as JsonObject)
}

/** etcd's default request limit, which bounds every object kube-apiserver stores (1.5 MiB). */
export const maxObjectBytes = 1.5 * 1024 * 1024

function assertValid(t: WriteTarget, o: KubeObject): void {
  const errs = validateObjectFields(t.info.kind, o, 'apiserver')
  if (!errs.ok) throw invalid(t.info, o.metadata.name ?? '', errs.list.map((e) => ({ reason: e.type, field: e.field, message: e.message })))
  const size = Buffer.byteLength(JSON.stringify(o))
  if (size > maxObjectBytes) throw new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: the object is ${size} bytes; limit is ${maxObjectBytes}`)
}

async function commit(deps: WriteDeps, t: WriteTarget, ops: WriteOp[], q: URLSearchParams, preview: KubeObject): Promise<KubeObject> {
  if (isDryRun(q)) return preview
  try {
    const [stored] = await deps.store.transact(ops)
    return stored ?? preview
  } catch (e) {
    throw toApiError(storeFailure(e, t, preview.metadata.name ?? ''), t.info, preview.metadata.name ?? '')
  }
}

export async function createObject(deps: WriteDeps, t: WriteTarget, body: Record<string, unknown>, q: URLSearchParams, apply?: { manager: string }): Promise<WriteResult> {
  const { object: decoded, warnings } = decodeWriteBody(t.info, body, parseFieldValidation(q))
  // Defaulting, admission and validation see the storage version, as kube-apiserver's do.
  const o = storedAs(t.info, normalizeOwned(t, decoded))
  if (t.info.namespaced && o.metadata.namespace) {
    const ns = deps.store.get({ resource: 'namespaces', namespace: '', name: o.metadata.namespace })
    if (!ns) throw namespaceNotFound(o.metadata.namespace)
    if (ns.metadata.deletionTimestamp) throw namespaceTerminating(t.info, o.metadata.name ?? o.metadata.generateName ?? '', o.metadata.namespace)
  }
  // the fields as sent, before system metadata: what an apply owns
  const appliedFields = apply ? structuredClone(o) : undefined
  prepareForCreate(o, t.info, deps.clock.now(), deps.ids)
  if (apply) o.metadata['managedFields'] = [managerEntry(deps, t.info, apply.manager, 'Apply', appliedFields)]
  else recordUpdateManager(deps, o, t, q, undefined)
  applyDefaults(o, t.info.kind)
  const run = await runAdmissionHooks(deps.hooks, { op: 'create', object: o }, admissionContext(deps, t, q))
  const stored = await settled(run, async () => {
    assertValid(t, o)
    return commit(deps, t, [{ type: 'create', resource: storageResource(t.info), object: o }, ...run.extraOps], q, o)
  }, q)
  return { object: stored, warnings }
}

/**
 * Replaces `old` by `incoming` (already a full object). `pinnedVersion` is the resourceVersion
 * the client asked to be current; undefined means "whatever `old` is".
 */
export async function updateObject(deps: WriteDeps, t: WriteTarget, servedOld: KubeObject, incoming: KubeObject, q: URLSearchParams,
  opts: { pinnedVersion: string | undefined; apply?: { manager: string; applied: unknown }; managerSubresource?: 'scale' }): Promise<WriteResult> {
  const { object: decoded, warnings } = decodeWriteBody(t.info, incoming, parseFieldValidation(q))
  const old = storedAs(t.info, servedOld)
  const o = storedAs(t.info, normalizeOwned(t, decoded))
  const name = old.metadata.name ?? ''
  if (o.metadata.name !== undefined && o.metadata.name !== name) {
    throw badRequest(`the name of the object (${String(o.metadata.name)}) does not match the name on the URL (${name})`)
  }
  o.metadata.name = name
  const next = prepareForUpdate(o, old, t.info, t.subresource === 'status' ? 'status' : undefined)
  if (opts.apply) {
    next.metadata['managedFields'] = recordManager(next.metadata['managedFields'], managerEntry(deps, t.info, opts.apply.manager, 'Apply', opts.apply.applied))
  } else recordUpdateManager(deps, next, t, q, old, opts.managerSubresource ?? t.subresource)
  applyDefaults(next, t.info.kind)
  const run = await runAdmissionHooks(deps.hooks, { op: 'update', object: next, old }, admissionContext(deps, t, q))
  const preconditions = { resourceVersion: opts.pinnedVersion ?? old.metadata.resourceVersion ?? '' }
  const finishes = t.subresource !== 'status' && completesDeletion(next, t.info.kind)
  const stored = await settled(run, async () => {
    assertValid(t, next)
    const op: WriteOp = finishes ? { type: 'delete', key: targetKey(t, name), preconditions } : { type: 'update', resource: storageResource(t.info), object: next, preconditions }
    return commit(deps, t, [op, ...run.extraOps], q, next)
  }, q)
  if (finishes && !isDryRun(q)) await deps.afterDelete?.(t.info, stored, 'deleted')
  return { object: stored, warnings }
}

export function getExisting(deps: WriteDeps, t: WriteTarget, name: string): KubeObject {
  const o = deps.store.get(targetKey(t, name))
  if (!o) throw notFound(t.info, name)
  return servedAs(t.info, o)
}

/**
 * Runs `attempt` again when the store reports a Conflict the client did not ask for (upstream's
 * GuaranteedUpdate). Reads show only durable writes, so each retry first waits for the writes in
 * flight to land; otherwise it would re-read the same stale object.
 */
export async function retryOnConflict<T>(deps: Pick<WriteDeps, 'store'>, attempt: () => Promise<{ result: T }>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return (await attempt()).result
    } catch (e) {
      const conflict = (e as { reason?: string }).reason === 'Conflict' || isStoreError(e, 'Conflict')
      if (!conflict || i >= 4) throw e
    }
    await deps.store.settled()
  }
}

export interface DeleteOptions {
  readonly propagationPolicy?: 'Orphan' | 'Background' | 'Foreground'
  readonly gracePeriodSeconds?: number
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string }
}

/**
 * DELETE. Unless the client pinned a resourceVersion, a write that lands between reading the
 * object and committing (a status update racing a graceful deletion) is retried, as
 * kube-apiserver's GuaranteedUpdate does, instead of answering 409 to a plain `kubectl delete`.
 */
export async function deleteObject(deps: WriteDeps, t: WriteTarget, name: string, opts: DeleteOptions, q: URLSearchParams): Promise<KubeObject> {
  if (opts.preconditions?.resourceVersion !== undefined) return deleteOnce(deps, t, name, opts, q)
  return retryOnConflict(deps, async () => ({ result: await deleteOnce(deps, t, name, opts, q) }))
}

async function deleteOnce(deps: WriteDeps, t: WriteTarget, name: string, opts: DeleteOptions, q: URLSearchParams): Promise<KubeObject> {
  if (t.info.kind === 'Namespace' && immortalNamespaces.has(name)) throw namespaceImmortal(t.info, name)
  const old = getExisting(deps, t, name)
  const run = await runAdmissionHooks(deps.hooks, { op: 'delete', old }, admissionContext(deps, t, q, opts))
  const out = await settled(run, async (): Promise<{ object: KubeObject; outcome: DeleteOutcome }> => {
    // a Pod's grace period (an admission hook) comes first; then finalizers and the propagation policy
    if (run.replaceDeletionWith) return { object: await deferDeletion(deps, t, old, run.replaceDeletionWith, run, opts, q), outcome: 'marked' }
    const plan = planDeletion(storedAs(t.info, old), t.info.kind, opts.propagationPolicy, deps.clock.now())
    if (plan.kind === 'mark') return { object: await deferDeletion(deps, t, old, plan.object, run, opts, q), outcome: 'marked' }
    return { object: await deleteNow(deps, t, old, run, opts, q), outcome: 'deleted' }
  }, q)
  if (!isDryRun(q)) await deps.afterDelete?.(t.info, out.object, out.outcome)
  return out.object
}

/** The object stays, updated (deletionTimestamp set), until its grace period or finalizers end. */
async function deferDeletion(deps: WriteDeps, t: WriteTarget, old: KubeObject, next: KubeObject, run: AdmissionRun, opts: DeleteOptions, q: URLSearchParams): Promise<KubeObject> {
  const resourceVersion = opts.preconditions?.resourceVersion ?? old.metadata.resourceVersion ?? ''
  const preconditions = { resourceVersion, ...(opts.preconditions?.uid ? { uid: opts.preconditions.uid } : {}) }
  return commit(deps, t, [{ type: 'update', resource: storageResource(t.info), object: next, preconditions }, ...run.extraOps], q, next)
}

/** Removes the object itself; its dependents are the garbage collector's (afterDelete). */
async function deleteNow(deps: WriteDeps, t: WriteTarget, old: KubeObject, run: AdmissionRun, opts: DeleteOptions, q: URLSearchParams): Promise<KubeObject> {
  const name = old.metadata.name ?? ''
  const ops: WriteOp[] = [
    { type: 'delete', key: targetKey(t, name), ...(opts.preconditions ? { preconditions: opts.preconditions } : {}) },
    ...run.extraOps,
  ]
  if (isDryRun(q)) return old
  try {
    const out = await deps.store.transact(ops)
    return out[0] ?? old
  } catch (e) {
    throw toApiError(e, t.info, name)
  }
}
