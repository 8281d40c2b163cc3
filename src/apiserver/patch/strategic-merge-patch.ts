/**
 * Strategic merge patch, as client-side `kubectl apply` and `kubectl edit` send it: maps merge,
 * null deletes, lists merge by their merge key (see patch-strategy.ts), and the directives
 * $patch (replace|delete|merge), $retainKeys, $setElementOrder/<list> and
 * $deleteFromPrimitiveList/<list> are honoured. Pure. Keys are own properties only, so a
 * "__proto__" key never reaches a prototype.
 */
import { getOwn, setOwn } from '../../api/index.js'
import { deepEqual, isPlainObject, type JsonObject } from './json-value.js'
import { PatchError } from './patch-error.js'
import { listStrategy } from './patch-strategy.js'

const setOrderPrefix = '$setElementOrder/'
const deletePrimitivePrefix = '$deleteFromPrimitiveList/'

export interface StrategicMergeOptions {
  /** Server-side apply merges without treating null as "delete". */
  readonly nullDeletes?: boolean
}

export function applyStrategicMergePatch(kind: string, original: unknown, patch: unknown, opts: StrategicMergeOptions = {}): unknown {
  if (!isPlainObject(patch)) throw new PatchError('malformed', 'a strategic merge patch must be a JSON object')
  return mergeMap(kind, isPlainObject(original) ? original : undefined, patch, [], opts.nullDeletes ?? true) ?? {}
}

function mergeMap(kind: string, orig: JsonObject | undefined, patch: JsonObject, path: readonly string[], nullDeletes: boolean): JsonObject | undefined {
  const directive = patch['$patch']
  if (directive === 'delete') return undefined
  if (directive === 'replace') return strip(kind, patch, path) as JsonObject
  if (directive !== undefined && directive !== 'merge') throw new PatchError('malformed', `unknown patch directive "${String(directive)}"`)
  const out: JsonObject = { ...(orig ?? {}) }
  const orders = new Map<string, unknown[]>()
  const primitiveDeletes = new Map<string, unknown[]>()
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue
    if (k.startsWith(setOrderPrefix)) {
      orders.set(k.slice(setOrderPrefix.length), Array.isArray(v) ? v : [])
      continue
    }
    if (k.startsWith(deletePrimitivePrefix)) {
      primitiveDeletes.set(k.slice(deletePrimitivePrefix.length), Array.isArray(v) ? v : [])
      continue
    }
    if (v === null) {
      if (nullDeletes) delete out[k]
      continue
    }
    const cur = getOwn(out, k)
    const sub = [...path, k]
    if (isPlainObject(v)) {
      const merged = mergeMap(kind, isPlainObject(cur) ? cur : undefined, v, sub, nullDeletes)
      if (merged === undefined) delete out[k]
      else setOwn(out, k, merged)
    } else if (Array.isArray(v)) {
      setOwn(out, k, mergeList(kind, Array.isArray(cur) ? cur : undefined, v, sub, nullDeletes))
    } else {
      setOwn(out, k, v)
    }
  }
  for (const [field, values] of primitiveDeletes) {
    const cur = getOwn(out, field)
    if (Array.isArray(cur)) setOwn(out, field, cur.filter((x) => !values.some((d) => deepEqual(d, x))))
  }
  for (const [field, order] of orders) {
    const cur = getOwn(out, field)
    if (Array.isArray(cur)) setOwn(out, field, reorder(cur, order, listStrategy(kind, [...path, field])))
  }
  const retain = patch['$retainKeys']
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k]
  }
  return out
}

function mergeList(kind: string, orig: readonly unknown[] | undefined, patch: readonly unknown[], path: readonly string[], nullDeletes: boolean): unknown[] {
  if (patch.some((item) => isPlainObject(item) && item['$patch'] === 'replace')) {
    return patch.filter((item) => !(isPlainObject(item) && item['$patch'] === 'replace')).map((item) => strip(kind, item, path))
  }
  const strategy = listStrategy(kind, path)
  switch (strategy.type) {
    case 'replace':
      return patch.map((item) => strip(kind, item, path))
    case 'set': {
      const out = [...(orig ?? [])]
      for (const item of patch) if (!out.some((x) => deepEqual(x, item))) out.push(item)
      return out
    }
    case 'merge': {
      const key = strategy.key
      const out: unknown[] = [...(orig ?? [])]
      for (const item of patch) {
        if (!isPlainObject(item)) {
          if (!out.some((x) => deepEqual(x, item))) out.push(item)
          continue
        }
        const idx = out.findIndex((x) => isPlainObject(x) && deepEqual(getOwn(x, key), getOwn(item, key)))
        if (item['$patch'] === 'delete') {
          if (idx >= 0) out.splice(idx, 1)
          continue
        }
        const base = idx >= 0 ? out[idx] : undefined
        const merged = mergeMap(kind, isPlainObject(base) ? base : undefined, item, path, nullDeletes)
        if (merged === undefined) continue
        if (idx >= 0) out[idx] = merged
        else out.push(merged)
      }
      return out
    }
  }
}

/** Removes directives from a value that is being inserted rather than merged. */
function strip(kind: string, v: unknown, path: readonly string[]): unknown {
  if (Array.isArray(v)) return v.map((x) => strip(kind, x, path))
  if (!isPlainObject(v)) return v
  const out: JsonObject = {}
  for (const [k, x] of Object.entries(v)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(setOrderPrefix) || k.startsWith(deletePrimitivePrefix)) continue
    if (x === null) continue
    setOwn(out, k, strip(kind, x, [...path, k]))
  }
  return out
}

/** Items named in `order` come first, in that order; the others keep their relative order after them. */
function reorder(list: readonly unknown[], order: readonly unknown[], strategy: ReturnType<typeof listStrategy>): unknown[] {
  const keyOf = (x: unknown): unknown => (strategy.type === 'merge' && isPlainObject(x) ? getOwn(x, strategy.key) : x)
  const orderKeys = order.map(keyOf)
  const ranked: unknown[] = []
  for (const k of orderKeys) {
    const item = list.find((x) => deepEqual(keyOf(x), k))
    if (item !== undefined) ranked.push(item)
  }
  const rest = list.filter((x) => !orderKeys.some((k) => deepEqual(keyOf(x), k)))
  return [...ranked, ...rest]
}
