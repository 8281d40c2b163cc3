/**
 * Decodes a JSON value against a descriptor message the way kube-apiserver's JSON decoder does:
 * every field's JSON type is checked (400 on a mismatch, with Go's wording), null fields count as
 * absent and are pruned, unknown fields are pruned and reported (Strict rejects them). Pure.
 */
import { FieldErrors, isObject } from '../field-errors.js'
import { isPrototypeKey, setOwn } from '../own-property.js'
import { goFieldTypeName, goStructName, goTypeName, schemaMessage, type SchemaField } from './api-schema.js'

/**
 * The deepest JSON nesting kpe accepts. kube-apiserver's Go decoder refuses nesting beyond
 * 10,000 levels and never recurses further than the Go types go; in JavaScript, structuredClone
 * and any recursive walker (the patch engines, managed fields) overflow the stack between 1,000
 * and 2,000 levels, so kpe draws the line at 500, far above any real object (about 20 levels).
 */
export const maxJsonDepth = 500

/** True when objects/arrays nest deeper than `limit`. Iterative, so any depth is safe to ask about. */
export function exceedsJsonDepth(value: unknown, limit = maxJsonDepth): boolean {
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (depth > limit) return true
    for (const child of Object.values(v as object)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return false
}

/** A JSON type mismatch, worded as Go's json.UnmarshalTypeError and located for details.causes. */
export interface TypeMismatch {
  /** Path with list indices, as in validation causes: "spec.externalIPs[0]". */
  readonly field: string
  /** "json: cannot unmarshal number into Go struct field ServiceSpec.spec.externalIPs of type string" */
  readonly message: string
}

export interface StructuralResult {
  /** The decoded copy: null fields and unknown fields pruned. */
  readonly value: Record<string, unknown>
  /** Wrong JSON types (answered 400 BadRequest, like kube-apiserver's decoder), in document order. */
  readonly typeErrors: readonly TypeMismatch[]
  /**
   * Null items inside lists. Go's decoder turns them into zero values that kube-apiserver's
   * validation then refuses with 422 at that item; kpe answers the same 422 at the item's path
   * directly, so no consumer ever sees a null item.
   */
  readonly invalid: FieldErrors
  /** Paths of fields the schema does not know ("spec.ports[0].nmae"), pruned from `value`. */
  readonly unknownFields: readonly string[]
}

const quantityPattern = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/
const rfc3339Pattern = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
const goDurationPattern = /^[-+]?(0|(\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

const meta = 'k8s.io.apimachinery.pkg.apis.meta.v1'
type Check = (x: unknown) => string | undefined

/** Messages whose JSON form is a scalar or free JSON: undefined = accepted, else the problem. */
const jsonScalarMessages: Readonly<Record<string, Check>> = {
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': (x) =>
    typeof x === 'string' || (typeof x === 'number' && Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31) ? undefined : 'type',
  'k8s.io.apimachinery.pkg.api.resource.Quantity': (x) => {
    if (typeof x === 'number') return Number.isFinite(x) ? undefined : 'type'
    if (typeof x !== 'string') return 'type'
    return quantityPattern.test(x) ? undefined : `quantities must match the regular expression '${quantityPattern.source}'`
  },
  [`${meta}.Time`]: (x) => timeProblem(x),
  [`${meta}.MicroTime`]: (x) => timeProblem(x),
  [`${meta}.Duration`]: (x) => typeof x !== 'string' ? 'type' : goDurationPattern.test(x) ? undefined : `time: invalid duration ${JSON.stringify(x)}`,
  'k8s.io.apimachinery.pkg.runtime.RawExtension': () => undefined,
  [`${meta}.FieldsV1`]: () => undefined,
  [`${meta}.Verbs`]: stringList,
  'k8s.io.api.authentication.v1.ExtraValue': stringList,
  'k8s.io.api.authorization.v1.ExtraValue': stringList,
}

function timeProblem(x: unknown): string | undefined {
  if (typeof x !== 'string') return 'type'
  return rfc3339Pattern.test(x) ? undefined : `parsing time ${JSON.stringify(x)} as "2006-01-02T15:04:05Z07:00": cannot parse`
}

function stringList(x: unknown): string | undefined {
  return Array.isArray(x) && x.every((s) => typeof s === 'string') ? undefined : 'type'
}

const intRanges: Readonly<Record<string, readonly [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [-(2 ** 63), 2 ** 63],
  uint32: [0, 2 ** 32 - 1],
  uint64: [0, 2 ** 64],
}

function jsonKind(x: unknown): string {
  if (Array.isArray(x)) return 'array'
  if (typeof x === 'boolean') return 'bool'
  return typeof x === 'object' ? 'object' : typeof x
}

/** Where a value sits: its path for causes, and Go's struct and field spelling for messages. */
interface At {
  readonly field: string
  readonly struct: string
  readonly goField: string
}

class Walk {
  readonly typeErrors: TypeMismatch[] = []
  readonly invalid = new FieldErrors()
  readonly unknownFields: string[] = []

  mismatch(at: At, value: string, goType: string): void {
    this.typeErrors.push({ field: at.field, message: `json: cannot unmarshal ${value} into Go struct field ${at.struct}.${at.goField} of type ${goType}` })
  }

  problem(at: At, message: string): void {
    this.typeErrors.push({ field: at.field, message })
  }
}

const skip = Symbol('skip')

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

function decodeMessage(w: Walk, name: string, v: unknown, at: At, opts: { typeMeta: boolean; goType: string }): Record<string, unknown> | typeof skip {
  const msg = schemaMessage(name)
  if (!msg) throw new Error(`no message ${name} in the API schema`)
  if (!isObject(v)) {
    w.mismatch(at, jsonKind(v), opts.goType)
    return skip
  }
  const out: Record<string, unknown> = {}
  for (const [key, x] of Object.entries(v)) {
    const field = join(at.field, key)
    const goField = at.goField === '' ? key : `${at.goField}.${key}`
    if (opts.typeMeta && (key === 'apiVersion' || key === 'kind')) {
      if (x === null) continue
      if (typeof x === 'string') out[key] = x
      else w.mismatch({ field, struct: 'TypeMeta', goField: key }, jsonKind(x), 'string')
      continue
    }
    const f = isPrototypeKey(key) ? undefined : msg.get(key)
    if (!f) {
      w.unknownFields.push(field)
      continue
    }
    if (x === null) continue
    const d = decodeField(w, f, x, { field, struct: goStructName(name), goField })
    if (d !== skip) setOwn(out, key, d)
  }
  return out
}

function decodeField(w: Walk, f: SchemaField, x: unknown, at: At): unknown {
  if (f.keyType !== undefined) {
    if (!isObject(x)) {
      w.mismatch(at, jsonKind(x), goFieldTypeName(f))
      return skip
    }
    const out: Record<string, unknown> = {}
    for (const [k, item] of Object.entries(x)) {
      const itemAt = { ...at, field: `${at.field}.${k}` }
      if (item === null) {
        // Go stores the zero value for a null map value; no consumer can use a null message.
        if (zeroValues[f.type] !== undefined) setOwn(out, k, zeroValues[f.type])
        else w.invalid.invalid(itemAt.field, null, 'must not be null')
        continue
      }
      const d = decodeValue(w, f.type, item, itemAt)
      if (d !== skip) setOwn(out, k, d)
    }
    return out
  }
  if (f.repeated) {
    if (!Array.isArray(x)) {
      w.mismatch(at, jsonKind(x), goFieldTypeName(f))
      return skip
    }
    const out: unknown[] = []
    x.forEach((item, i) => {
      const itemAt = { ...at, field: `${at.field}[${i}]` }
      if (item === null) return w.invalid.invalid(itemAt.field, null, 'must not be null')
      const d = decodeValue(w, f.type, item, itemAt)
      if (d !== skip) out.push(d)
    })
    return out
  }
  return decodeValue(w, f.type, x, at)
}

const zeroValues: Readonly<Record<string, unknown>> = {
  string: '', bool: false, bytes: '', int32: 0, int64: 0, uint32: 0, uint64: 0, double: 0, float: 0,
}

function decodeValue(w: Walk, type: string, x: unknown, at: At): unknown {
  const special = jsonScalarMessages[type]
  if (special) {
    const problem = special(x)
    if (problem === undefined) return x
    if (problem === 'type') w.mismatch(at, jsonKind(x), goTypeName(type))
    else w.problem(at, problem)
    return skip
  }
  if (schemaMessage(type)) return decodeMessage(w, type, x, at, { typeMeta: false, goType: goTypeName(type) })
  switch (type) {
    case 'string':
      if (typeof x === 'string') return x
      break
    case 'bool':
      if (typeof x === 'boolean') return x
      break
    case 'double': case 'float':
      if (typeof x === 'number' && Number.isFinite(x)) return x
      break
    case 'bytes':
      if (typeof x !== 'string') break
      if (base64Pattern.test(x.replace(/[\r\n]/g, ''))) return x
      w.problem(at, `illegal base64 data in ${at.field}`)
      return skip
    default: {
      const range = intRanges[type]
      if (!range) throw new Error(`the API schema has a field of unknown type ${type}`)
      if (typeof x !== 'number') break
      if (Number.isInteger(x) && x >= range[0] && x < range[1] + (type.endsWith('64') ? 0 : 1)) return x
      w.mismatch(at, `number ${String(x)}`, goTypeName(type))
      return skip
    }
  }
  w.mismatch(at, jsonKind(x), goTypeName(type))
  return skip
}

/**
 * Decodes `value` as the message `messageName` (a top-level kind: apiVersion and kind are
 * accepted as strings). The caller checks depth first (exceedsJsonDepth) for untrusted input;
 * recursion here follows the schema, whose nesting is bounded.
 */
export function decodeStructured(messageName: string, value: unknown): StructuralResult {
  const w = new Walk()
  const decoded = decodeMessage(w, messageName, value, { field: '', struct: goStructName(messageName), goField: '' }, { typeMeta: true, goType: goTypeName(messageName) })
  return { value: decoded === skip ? {} : decoded, typeErrors: w.typeErrors, invalid: w.invalid, unknownFields: w.unknownFields }
}
