/**
 * Minimal managedFields: a FieldsV1 set computed from the fields an operation touched, recorded
 * per (manager, operation). No ownership conflicts are detected. Pure apart from the time given.
 */
import { isPlainObject, type JsonObject } from './json-value.js'
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
