/**
 * FieldsV1 sets as lists of paths: flattening and rebuilding, finding and removing the value a
 * path names in an object, and printing a path the way structured-merge-diff does
 * (`.spec.containers[name="web"].image`). Server-side apply's conflicts and field removal use
 * these. Pure.
 */
import { isPlainObject, type JsonObject } from './json-value.js'

/** One FieldsV1 key per step: `f:name`, `k:{"name":"web"}` (list item by key), `v:"x"` (set value), `i:0`. */
export type FieldPath = readonly string[]

export function pathKey(p: FieldPath): string {
  return JSON.stringify(p)
}

/** Every member of the set: leaves, and list items or maps marked with ".". */
export function fieldPathsOf(fieldsV1: unknown, prefix: FieldPath = []): FieldPath[] {
  if (!isPlainObject(fieldsV1)) return []
  const out: FieldPath[] = []
  for (const [k, child] of Object.entries(fieldsV1)) {
    if (k === '.') continue
    const p = [...prefix, k]
    const children = isPlainObject(child) ? Object.keys(child).filter((c) => c !== '.') : []
    if (children.length === 0 || (isPlainObject(child) && '.' in child)) out.push(p)
    out.push(...fieldPathsOf(child, p))
  }
  return out
}

/** The FieldsV1 tree of a set of paths; a member with members below it carries ".". */
export function fieldsV1FromPaths(paths: readonly FieldPath[]): JsonObject {
  const root: JsonObject = {}
  const members = new Set(paths.map(pathKey))
  for (const p of paths) {
    let node = root
    p.forEach((seg, i) => {
      const next = (isPlainObject(node[seg]) ? node[seg] : {}) as JsonObject
      node[seg] = next
      if (i < p.length - 1 && members.has(pathKey(p.slice(0, i + 1)))) next['.'] = {}
      node = next
    })
  }
  return root
}

export function isUnder(p: FieldPath, ancestor: FieldPath): boolean {
  return ancestor.length <= p.length && ancestor.every((s, i) => p[i] === s)
}

function itemMatches(item: unknown, seg: string): boolean {
  if (seg.startsWith('k:')) {
    const key = JSON.parse(seg.slice(2)) as Record<string, unknown>
    return isPlainObject(item) && Object.entries(key).every(([k, v]) => item[k] === v)
  }
  if (seg.startsWith('v:')) return JSON.stringify(item) === JSON.stringify(JSON.parse(seg.slice(2)))
  return false
}

/** Where a path points: the container holding the value and the value's key or index there. */
function locate(obj: unknown, p: FieldPath): { readonly parent: JsonObject | unknown[]; readonly at: string | number } | undefined {
  let cur: unknown = obj
  let found: { parent: JsonObject | unknown[]; at: string | number } | undefined
  for (const seg of p) {
    if (found) cur = Array.isArray(found.parent) ? found.parent[found.at as number] : (found.parent as JsonObject)[found.at as string]
    if (seg.startsWith('f:')) {
      const name = seg.slice(2)
      if (!isPlainObject(cur) || !Object.hasOwn(cur, name)) return undefined
      found = { parent: cur, at: name }
    } else if (seg.startsWith('i:')) {
      const i = Number(seg.slice(2))
      if (!Array.isArray(cur) || i >= cur.length) return undefined
      found = { parent: cur, at: i }
    } else {
      if (!Array.isArray(cur)) return undefined
      const i = cur.findIndex((item) => itemMatches(item, seg))
      if (i < 0) return undefined
      found = { parent: cur, at: i }
    }
  }
  return found
}

/** The value a path names in `obj`, or undefined when it is absent. */
export function valueAt(obj: unknown, p: FieldPath): unknown {
  const loc = locate(obj, p)
  if (!loc) return undefined
  return Array.isArray(loc.parent) ? loc.parent[loc.at as number] : (loc.parent as JsonObject)[loc.at as string]
}

/** Removes what each path names from `obj` (in place); paths that name nothing are ignored. */
export function removeFieldPaths(obj: JsonObject, paths: readonly FieldPath[]): void {
  // A path under another one goes with it; removing it first could erase the key its item is found by.
  const outermost = paths.filter((p) => !paths.some((o) => o.length < p.length && isUnder(p, o)))
  for (const p of outermost) {
    const loc = locate(obj, p)
    if (!loc) continue
    if (Array.isArray(loc.parent)) loc.parent.splice(loc.at as number, 1)
    else delete loc.parent[loc.at as string]
  }
}

function keyValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v)
}

/** structured-merge-diff's Path.String(): `.spec.replicas`, `[name="web"]`, `[="x"]`, `[0]`. */
export function formatFieldPath(p: FieldPath): string {
  return p.map((seg) => {
    if (seg.startsWith('f:')) return `.${seg.slice(2)}`
    if (seg.startsWith('i:')) return `[${seg.slice(2)}]`
    if (seg.startsWith('v:')) return `[=${keyValue(JSON.parse(seg.slice(2)))}]`
    const key = JSON.parse(seg.slice(2)) as Record<string, unknown>
    return `[${Object.entries(key).map(([k, v]) => `${k}=${keyValue(v)}`).join(',')}]`
  }).join('')
}
