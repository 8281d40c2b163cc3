/**
 * JSON patch (RFC 6902) over JSON pointers (RFC 6901): add, remove, replace, move, copy, test.
 * Pure: works on a clone and throws PatchError on the first failing operation. Pointers walk
 * own properties only, so "/__proto__/x" names a missing member, never Object.prototype.
 */
import { getOwn, setOwn } from '../../api/index.js'
import { deepEqual, isPlainObject } from './json-value.js'
import { PatchError } from './patch-error.js'

interface Op {
  readonly op: string
  readonly path: string
  readonly from?: string
  readonly value?: unknown
}

function parsePointer(p: string): string[] {
  if (p === '') return []
  if (!p.startsWith('/')) throw new PatchError('malformed', `invalid JSON pointer "${p}"`)
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function parentOf(doc: unknown, tokens: readonly string[], path: string): { parent: unknown; last: string } {
  let cur = doc
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = /^(0|[1-9][0-9]*)$/.test(t) ? cur[Number(t)] : undefined
    else cur = getOwn(cur, t)
    if (cur === undefined) throw new PatchError('inapplicable', `path "${path}" does not exist`)
  }
  return { parent: cur, last: tokens.at(-1) ?? '' }
}

function get(doc: unknown, path: string): unknown {
  let cur = doc
  for (const t of parsePointer(path)) {
    if (Array.isArray(cur)) cur = /^(0|[1-9][0-9]*)$/.test(t) ? cur[Number(t)] : undefined
    else cur = getOwn(cur, t)
    if (cur === undefined) throw new PatchError('inapplicable', `path "${path}" does not exist`)
  }
  return cur
}

function arrayIndex(arr: readonly unknown[], t: string, path: string, forInsert: boolean): number {
  if (forInsert && t === '-') return arr.length
  if (!/^(0|[1-9][0-9]*)$/.test(t)) throw new PatchError('inapplicable', `invalid array index "${t}" in "${path}"`)
  const i = Number(t)
  if (i > arr.length || (!forInsert && i === arr.length)) throw new PatchError('inapplicable', `array index ${i} out of range in "${path}"`)
  return i
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const tokens = parsePointer(path)
  if (tokens.length === 0) return value
  const { parent, last } = parentOf(doc, tokens, path)
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, path, true), 0, value)
  else if (isPlainObject(parent)) setOwn(parent, last, value)
  else throw new PatchError('inapplicable', `path "${path}" does not exist`)
  return doc
}

function remove(doc: unknown, path: string): unknown {
  const tokens = parsePointer(path)
  const { parent, last } = parentOf(doc, tokens, path)
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, path, false), 1)
  else if (isPlainObject(parent) && Object.hasOwn(parent, last)) delete parent[last]
  else throw new PatchError('inapplicable', `unable to remove nonexistent key "${last}" at "${path}"`)
  return doc
}

export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new PatchError('malformed', 'a JSON patch must be an array of operations')
  let doc = structuredClone(target)
  for (const raw of patch as Op[]) {
    if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new PatchError('malformed', `invalid JSON patch operation ${JSON.stringify(raw)}`)
    }
    switch (raw.op) {
      case 'add': doc = add(doc, raw.path, structuredClone(raw.value)); break
      case 'remove': doc = remove(doc, raw.path); break
      case 'replace': if (raw.path === '') { doc = structuredClone(raw.value); break }
        get(doc, raw.path); doc = add(remove(doc, raw.path), raw.path, structuredClone(raw.value)); break
      case 'move': {
        const v = get(doc, raw.from ?? '')
        doc = add(remove(doc, raw.from ?? ''), raw.path, v)
        break
      }
      case 'copy': doc = add(doc, raw.path, structuredClone(get(doc, raw.from ?? ''))); break
      case 'test':
        if (!deepEqual(get(doc, raw.path), raw.value)) throw new PatchError('inapplicable', `testing value ${raw.path} failed`)
        break
      default: throw new PatchError('malformed', `unknown JSON patch operation "${raw.op}"`)
    }
  }
  return doc
}
