/**
 * JSON merge patch (RFC 7386): objects merge recursively, null deletes, everything else
 * (arrays included) replaces. Pure. Keys are own properties only: a "__proto__" key in a
 * patch is an ordinary member, never the prototype.
 */
import { getOwn, setOwn } from '../../api/index.js'
import { isPlainObject } from './json-value.js'

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch)
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else setOwn(out, k, applyMergePatch(getOwn(out, k), v))
  }
  return out
}
