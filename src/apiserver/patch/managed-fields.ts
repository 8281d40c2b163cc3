/**
 * managedFields: a FieldsV1 set computed from the fields an operation touched, recorded per
 * (manager, operation), and server-side apply's ownership rules: conflicts with other managers,
 * forced takeover, and removal of fields an applier stopped applying. Pure apart from the time given.
 */
import { fieldPathsOf, fieldsV1FromPaths, formatFieldPath, isUnder, pathKey, removeFieldPaths, valueAt, type FieldPath } from './field-set.js'
import { deepEqual, isPlainObject, type JsonObject } from './json-value.js'
import { listStrategy } from './patch-strategy.js'

export interface ManagedFieldsEntry {
  readonly manager: string
  readonly operation: 'Apply' | 'Update'
  readonly apiVersion: string
  readonly time: string
  readonly fieldsType: 'FieldsV1'
  readonly fieldsV1: JsonObject
  readonly subresource?: string
}

const ignoredMeta = new Set(['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink', 'deletionTimestamp'])

export function fieldsV1Of(kind: string, obj: JsonObject, path: readonly string[] = []): JsonObject {
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(obj)) {
    if (path.length === 0 && (k === 'apiVersion' || k === 'kind' || k === 'status')) continue
    if (path.length === 1 && path[0] === 'metadata' && (ignoredMeta.has(k) || k === 'name' || k === 'namespace')) continue
    const sub = [...path, k]
    if (isPlainObject(v)) {
      const inner = fieldsV1Of(kind, v, sub)
      if (path.length === 0 && k === 'metadata' && Object.keys(inner).length === 0) continue
      out[`f:${k}`] = inner
    } else if (Array.isArray(v)) out[`f:${k}`] = listFields(kind, v, sub)
    else out[`f:${k}`] = {}
  }
  return out
}

function listFields(kind: string, list: readonly unknown[], path: readonly string[]): JsonObject {
  const strategy = listStrategy(kind, path)
  if (strategy.type !== 'merge') return {}
  const out: JsonObject = {}
  for (const item of list) {
    if (!isPlainObject(item)) continue
    out[`k:${JSON.stringify({ [strategy.key]: item[strategy.key] })}`] = { '.': {}, ...fieldsV1Of(kind, item, path) }
  }
  return out
}

export function recordManager(existing: unknown, entry: ManagedFieldsEntry): ManagedFieldsEntry[] {
  const list = Array.isArray(existing) ? (existing as ManagedFieldsEntry[]) : []
  const others = list.filter((e) => !(e.manager === entry.manager && e.operation === entry.operation && (e.subresource ?? '') === (entry.subresource ?? '')))
  return [...others, entry]
}

/**
 * An Update (POST, PUT, non-apply PATCH) by `entry.manager`: it owns the fields it changed from
 * `before` (every field on create), on top of what it owned already, and takes them from the
 * other managers, as kube-apiserver's field manager does. `entry.fieldsV1` is ignored.
 */
export function recordUpdate(existing: unknown, entry: ManagedFieldsEntry, kind: string, before: JsonObject | undefined, after: JsonObject): ManagedFieldsEntry[] {
  const entries = Array.isArray(existing) ? (existing as ManagedFieldsEntry[]) : []
  const isSame = (e: ManagedFieldsEntry): boolean => e.manager === entry.manager && e.operation === 'Update' && (e.subresource ?? '') === (entry.subresource ?? '')
  const all = fieldPathsOf(fieldsV1Of(kind, after))
  const changed = before === undefined ? all : all.filter((p) => changes(before, after, p, all))
  const changedKeys = new Set(changed.map(pathKey))
  const previous = entries.find(isSame)
  const owned = [...(previous ? fieldPathsOf(previous.fieldsV1) : []).filter((p) => !changedKeys.has(pathKey(p))), ...changed]
  const others = entries.filter((e) => !isSame(e)).flatMap((e) => {
    const paths = fieldPathsOf(e.fieldsV1)
    const kept = paths.filter((p) => !changedKeys.has(pathKey(p)))
    if (kept.length === paths.length) return [e]
    return kept.length === 0 ? [] : [{ ...e, fieldsV1: fieldsV1FromPaths(kept) }]
  })
  return owned.length === 0 ? others : [...others, { ...entry, fieldsV1: fieldsV1FromPaths(owned) }]
}

/** A field another manager owns that an apply would change. */
export interface ApplyConflict {
  readonly owner: ManagedFieldsEntry
  readonly path: FieldPath
}

export interface ApplyPlan {
  /** The object after the apply, with the fields the applier dropped removed. */
  readonly object: JsonObject
  /** The other managers' entries, without the fields a forced apply took from them. */
  readonly managedFields: ManagedFieldsEntry[]
  readonly conflicts: readonly ApplyConflict[]
}

function sameManager(e: ManagedFieldsEntry, manager: string): boolean {
  return e.manager === manager && e.operation === 'Apply' && (e.subresource ?? '') === ''
}

/** A leaf changes with its value; a list item or map with members below it only by appearing or going. */
function changes(live: JsonObject, merged: JsonObject, p: FieldPath, members: readonly FieldPath[]): boolean {
  const before = valueAt(live, p)
  const after = valueAt(merged, p)
  const hasMembersBelow = members.some((m) => m.length > p.length && isUnder(m, p))
  return hasMembersBelow ? (before === undefined) !== (after === undefined) : !deepEqual(before, after)
}

export function managedFieldsOf(o: { readonly metadata?: Record<string, unknown> }): ManagedFieldsEntry[] {
  const v = o.metadata?.['managedFields']
  return Array.isArray(v) ? (v as ManagedFieldsEntry[]).filter((e) => isPlainObject(e) && typeof e.manager === 'string') : []
}

/**
 * Server-side apply of `applied` (fields `appliedSet`) by `manager` onto `live`, already merged
 * into `merged`. A field another manager owns conflicts when the apply changes its value; with
 * `force` the applier takes it instead. Fields the applier applied last time, applies no more and
 * no one else owns (nor anything below them) are removed, as structured-merge-diff does.
 */
export function planApply(live: JsonObject, merged: JsonObject, manager: string, appliedSet: JsonObject, force: boolean): ApplyPlan {
  const entries = managedFieldsOf(live)
  const newPaths = fieldPathsOf(appliedSet)
  const conflicts: ApplyConflict[] = []
  const others = entries.filter((e) => !sameManager(e, manager))
  for (const owner of others) {
    const owned = new Set(fieldPathsOf(owner.fieldsV1).map(pathKey))
    for (const p of newPaths) {
      if (owned.has(pathKey(p)) && changes(live, merged, p, newPaths)) conflicts.push({ owner, path: p })
    }
  }
  const taken = new Map<ManagedFieldsEntry, Set<string>>()
  if (force) for (const c of conflicts) taken.set(c.owner, (taken.get(c.owner) ?? new Set()).add(pathKey(c.path)))
  const managedFields = others.flatMap((e) => {
    const lost = taken.get(e)
    if (!lost) return [e]
    const kept = fieldPathsOf(e.fieldsV1).filter((p) => !lost.has(pathKey(p)))
    return kept.length === 0 ? [] : [{ ...e, fieldsV1: fieldsV1FromPaths(kept) }]
  })
  const previous = entries.find((e) => sameManager(e, manager))
  const stillApplied = new Set(newPaths.map(pathKey))
  const ownedByOthers = managedFields.flatMap((e) => fieldPathsOf(e.fieldsV1))
  const dropped = (previous ? fieldPathsOf(previous.fieldsV1) : [])
    .filter((p) => !stillApplied.has(pathKey(p)) && !ownedByOthers.some((o) => isUnder(o, p)) && !newPaths.some((n) => isUnder(n, p)))
  const object = structuredClone(merged)
  removeFieldPaths(object, dropped)
  return { object, managedFields, conflicts: force ? [] : conflicts }
}

/** How kube-apiserver names a manager in conflict messages: `"kubectl"`, or `"kubectl" using apps/v1` for an Update. */
export function describeManager(e: ManagedFieldsEntry): string {
  const sub = e.subresource ? ` with subresource ${JSON.stringify(e.subresource)}` : ''
  return `${JSON.stringify(e.manager)}${sub}${e.operation === 'Update' ? ` using ${e.apiVersion}` : ''}`
}

/** kube-apiserver's conflict message: one line for a single conflict, else grouped by manager. */
export function applyConflictMessage(conflicts: readonly ApplyConflict[]): string {
  const [only] = conflicts
  if (conflicts.length === 1 && only) return `Apply failed with 1 conflict: conflict with ${describeManager(only.owner)}: ${formatFieldPath(only.path)}`
  const byManager = new Map<string, string[]>()
  for (const c of conflicts) {
    const name = describeManager(c.owner)
    byManager.set(name, [...(byManager.get(name) ?? []), `- ${formatFieldPath(c.path)}`])
  }
  const lines = [...byManager.keys()].sort().flatMap((m) => [`conflicts with ${m}:`, ...(byManager.get(m) ?? [])])
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`
}
