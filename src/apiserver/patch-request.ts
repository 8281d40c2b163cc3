/**
 * PATCH requests: picks the patch engine from the Content-Type, applies it to the live object
 * (or its Scale view), retries internally on write races the client did not pin, and runs
 * server-side apply: create-if-absent, 409 on fields other managers own unless force=true, and
 * removal of fields the applier no longer applies.
 */
import { FieldErrors } from '../api/index.js'
import type { KubeObject } from '../store/index.js'
import { ApiError, badRequest, conflict, invalidKind, unsupportedMediaType } from './api-error.js'
import { parseText } from './http-io.js'
import { queryBool } from './list-options.js'
import {
  applyConflictMessage, applyJsonPatch, applyMergePatch, applyStrategicMergePatch, describeManager, fieldsV1Of, formatFieldPath,
  isPlainObject, PatchError, planApply, type ApplyConflict, type JsonObject,
} from './patch/index.js'
import { replicasOf, scaleOf, withReplicas } from './scale.js'
import { createObject, getExisting, targetKey, retryOnConflict, updateObject, type WriteDeps, type WriteResult, type WriteTarget } from './writes.js'

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply'

const customResourcePatchTypes = 'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml'

/** Custom resources take no strategic merge patch (they have no patch strategies), as upstream. */
export function patchTypeOf(mediaType: string, customResource = false): PatchType {
  if (customResource && mediaType === 'application/strategic-merge-patch+json') {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${customResourcePatchTypes}`)
  }
  switch (mediaType) {
    case 'application/json-patch+json': return 'json'
    case 'application/merge-patch+json': return 'merge'
    case 'application/strategic-merge-patch+json': return 'strategic'
    case 'application/apply-patch+yaml': case 'application/apply-patch+cbor': return 'apply'
    default: throw unsupportedMediaType(mediaType)
  }
}

/** Patch bodies are JSON; apply configurations are YAML (JSON being a subset). Depth-checked either way. */
function decodePatch(type: PatchType, buf: Buffer): unknown {
  return parseText(buf.toString('utf8'), type === 'apply' ? 'yaml' : 'json')
}

function runEngine(type: Exclude<PatchType, 'apply'>, kind: string, doc: unknown, patch: unknown): unknown {
  try {
    switch (type) {
      case 'json': return applyJsonPatch(doc, patch)
      case 'merge': return applyMergePatch(doc, patch)
      case 'strategic': return applyStrategicMergePatch(kind, doc, patch)
    }
  } catch (e) {
    if (e instanceof PatchError) throw new ApiError(e.kind === 'malformed' ? 400 : 422, e.kind === 'malformed' ? 'BadRequest' : 'Invalid', e.message)
    throw e
  }
}

function asObject(v: unknown): KubeObject {
  if (!isPlainObject(v)) throw new ApiError(422, 'Invalid', 'the patch produced something that is not an object')
  const o = v as KubeObject
  if (!isPlainObject(o.metadata)) o.metadata = {}
  return o
}

/** kube-apiserver's ValidatePatchOptions: 422 on PatchOptions.meta.k8s.io naming the query field. */
function validatePatchOptions(type: PatchType, q: URLSearchParams): void {
  const errs = new FieldErrors()
  const manager = q.get('fieldManager') ?? ''
  if (type !== 'apply' && q.has('force')) errs.forbidden('force', 'may not be specified for non-apply patch')
  if (type === 'apply' && manager === '') errs.required('fieldManager', 'Required value: is required for apply patch')
  if (manager.length > 128) errs.tooLong('fieldManager', 128)
  if (/[^\x20-\x7e]/.test(manager)) errs.invalid('fieldManager', manager, 'must only contain printable characters')
  if (!errs.ok) throw invalidKind('meta.k8s.io', 'PatchOptions', '', errs.list.map((e) => ({ reason: e.type, message: e.message, field: e.field })))
}

export async function patchObject(deps: WriteDeps, t: WriteTarget, name: string, type: PatchType, body: Buffer, q: URLSearchParams): Promise<{ result: WriteResult; created: boolean }> {
  validatePatchOptions(type, q)
  const patch = decodePatch(type, body)
  if (type === 'apply') return applyObject(deps, t, name, patch, q)
  const result = await retryOnConflict(deps, async () => {
    const old = getExisting(deps, t, name)
    if (t.subresource === 'scale') {
      const scale = asObject(runEngine(type, 'Scale', scaleOf(old, t.info.custom?.scale), patch))
      const pinned = scale.metadata.resourceVersion !== old.metadata.resourceVersion ? scale.metadata.resourceVersion : undefined
      if (pinned !== undefined) throw conflict(t.info, name)
      const mainTarget = { ...t, subresource: undefined }
      return { result: await updateObject(deps, mainTarget, old, withReplicas(old, replicasOf(scale), t.info.custom?.scale), q, { pinnedVersion: undefined, managerSubresource: 'scale' }) }
    }
    const patched = asObject(runEngine(type, t.info.kind, structuredClone(old), patch))
    const pinned = patched.metadata.resourceVersion !== old.metadata.resourceVersion ? patched.metadata.resourceVersion : undefined
    if (pinned !== undefined) throw conflict(t.info, name)
    return { result: await updateObject(deps, t, old, patched, q, { pinnedVersion: undefined }) }
  })
  return { result, created: false }
}

/** kube-apiserver's NewApplyConflict: 409 Conflict, one FieldManagerConflict cause per field. */
function applyConflictError(conflicts: readonly ApplyConflict[]): ApiError {
  return new ApiError(409, 'Conflict', applyConflictMessage(conflicts), {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${describeManager(c.owner)}`, field: formatFieldPath(c.path) })),
  })
}

async function applyObject(deps: WriteDeps, t: WriteTarget, name: string, applied: unknown, q: URLSearchParams): Promise<{ result: WriteResult; created: boolean }> {
  const manager = q.get('fieldManager') ?? ''
  if (!isPlainObject(applied)) throw badRequest('the applied configuration must be an object')
  const meta = isPlainObject(applied['metadata']) ? applied['metadata'] : {}
  if (meta['name'] !== undefined && meta['name'] !== name) {
    throw badRequest(`the name of the object (${String(meta['name'])}) does not match the name on the URL (${name})`)
  }
  for (let attempt = 0; ; attempt++) {
    const old = deps.store.get(targetKey(t, name))
    if (!old) {
      try {
        const body = { ...applied, metadata: { ...meta, name } }
        return { result: await createObject(deps, t, body, q, { manager }), created: true }
      } catch (e) {
        if ((e as ApiError).reason === 'AlreadyExists' && attempt < 4) continue
        throw e
      }
    }
    const merged = asObject(applyStrategicMergePatch(t.info.kind, structuredClone(old), applied, { nullDeletes: false }))
    const plan = planApply(old as JsonObject, merged as JsonObject, manager, fieldsV1Of(t.info.kind, applied), queryBool(q, 'force') === true)
    if (plan.conflicts.length > 0) throw applyConflictError(plan.conflicts)
    const next = asObject(plan.object)
    next.metadata['managedFields'] = plan.managedFields
    next.metadata.resourceVersion = old.metadata.resourceVersion
    try {
      const result = await updateObject(deps, t, old, next, q, { pinnedVersion: old.metadata.resourceVersion, apply: { manager, applied } })
      return { result, created: false }
    } catch (e) {
      if ((e as ApiError).reason !== 'Conflict' || attempt >= 4) throw e
    }
  }
}
