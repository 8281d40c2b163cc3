/**
 * A CustomResourceDefinition's openAPIV3Schema as kube-apiserver applies it to custom
 * resources: pruning of unknown fields, defaulting, then validation with field paths. Pure;
 * the subset is the structural one (types, properties, items, additionalProperties, enums,
 * bounds, patterns, simple formats and the x-kubernetes-* extensions that change these steps).
 */
import { FieldErrors } from '../field-errors.js'

export interface StructuralSchema {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean'
  readonly properties?: Readonly<Record<string, StructuralSchema>>
  readonly items?: StructuralSchema
  readonly additionalProperties?: StructuralSchema | boolean
  readonly required?: readonly string[]
  readonly enum?: readonly unknown[]
  readonly default?: unknown
  readonly nullable?: boolean
  readonly minimum?: number
  readonly maximum?: number
  readonly exclusiveMinimum?: boolean
  readonly exclusiveMaximum?: boolean
  readonly minLength?: number
  readonly maxLength?: number
  readonly minItems?: number
  readonly maxItems?: number
  readonly minProperties?: number
  readonly maxProperties?: number
  readonly pattern?: string
  readonly format?: string
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean
  readonly 'x-kubernetes-int-or-string'?: boolean
  readonly 'x-kubernetes-embedded-resource'?: boolean
}

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Fields every object at the root or in an embedded resource keeps, whatever its schema says. */
const objectFrame = ['apiVersion', 'kind', 'metadata']

function childSchema(s: StructuralSchema, key: string): StructuralSchema | undefined {
  const named = s.properties?.[key]
  if (named) return named
  return isObject(s.additionalProperties) ? s.additionalProperties as StructuralSchema : undefined
}

function keepsUnknown(s: StructuralSchema): boolean {
  return s['x-kubernetes-preserve-unknown-fields'] === true || s.additionalProperties === true
}

/**
 * Drops the fields the schema does not specify, in place, and returns their paths (for the
 * fieldValidation warnings). The root keeps apiVersion, kind and metadata.
 */
export function pruneUnknownFields(schema: StructuralSchema, value: unknown, path = '', isRoot = true): string[] {
  const dropped: string[] = []
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => dropped.push(...pruneUnknownFields(schema.items!, item, `${path}[${i}]`, false)))
    return dropped
  }
  if (!isObject(value)) return dropped
  const frame = isRoot || schema['x-kubernetes-embedded-resource'] === true
  for (const key of Object.keys(value)) {
    const at = path === '' ? key : `${path}.${key}`
    if (frame && objectFrame.includes(key)) continue
    const child = childSchema(schema, key)
    if (child) dropped.push(...pruneUnknownFields(child, value[key], at, false))
    else if (!keepsUnknown(schema)) {
      delete value[key]
      dropped.push(at)
    }
  }
  return dropped
}

/** Fills absent fields that have a schema default, in place (deepest last, as upstream does). */
export function applySchemaDefaults(schema: StructuralSchema, value: unknown): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applySchemaDefaults(schema.items, item)
    return
  }
  if (!isObject(value)) return
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (!(key in value) && child.default !== undefined) value[key] = structuredClone(child.default)
  }
  for (const key of Object.keys(value)) {
    const child = childSchema(schema, key)
    if (child) applySchemaDefaults(child, value[key])
  }
}

function typeMatches(s: StructuralSchema, v: unknown): boolean {
  if (s['x-kubernetes-int-or-string'] === true) return typeof v === 'string' || Number.isInteger(v)
  switch (s.type) {
    case undefined: return true
    case 'object': return isObject(v)
    case 'array': return Array.isArray(v)
    case 'string': return typeof v === 'string'
    case 'integer': return Number.isInteger(v)
    case 'number': return typeof v === 'number'
    case 'boolean': return typeof v === 'boolean'
  }
}

/** The formats kube-openapi checks that are simple to state; others are accepted as-is. */
const formats: Readonly<Record<string, RegExp>> = {
  'date-time': /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  uuid: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  byte: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
  ipv4: /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/,
}

function checkBounds(s: StructuralSchema, v: unknown, path: string, errs: FieldErrors): void {
  if (typeof v === 'number') {
    if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
      errs.invalid(path, v, `${path} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`)
    }
    if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
      errs.invalid(path, v, `${path} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`)
    }
  }
  if (typeof v === 'string') {
    const length = [...v].length
    if (s.maxLength !== undefined && length > s.maxLength) errs.tooLong(path, s.maxLength, 'characters')
    if (s.minLength !== undefined && length < s.minLength) errs.invalid(path, v, `${path} in body should be at least ${s.minLength} chars long`)
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) errs.invalid(path, v, `${path} in body should match '${s.pattern}'`)
    const format = s.format === undefined ? undefined : formats[s.format]
    if (format && !format.test(v)) errs.invalid(path, v, `${path} in body must be of type ${s.format}: ${JSON.stringify(v)}`)
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) errs.tooMany(path, v.length, s.maxItems)
    if (s.minItems !== undefined && v.length < s.minItems) errs.invalid(path, v.length, `${path} in body should have at least ${s.minItems} items`)
  }
  if (isObject(v)) {
    const n = Object.keys(v).length
    if (s.maxProperties !== undefined && n > s.maxProperties) errs.tooMany(path, n, s.maxProperties)
    if (s.minProperties !== undefined && n < s.minProperties) errs.invalid(path, n, `${path} in body should have at least ${s.minProperties} properties`)
  }
}

/**
 * Validates `value` against `schema`, adding errors at field paths like `spec.replicas`. The root
 * object's apiVersion, kind and metadata are validated elsewhere (as ObjectMeta).
 */
export function validateAgainstSchema(schema: StructuralSchema, value: unknown, errs: FieldErrors, path = '', isRoot = true): void {
  if (value === null) {
    if (!schema.nullable && schema.type !== undefined) errs.invalid(path, null, `${path || 'body'} in body must be of type ${schema.type}: "null"`)
    return
  }
  if (!typeMatches(schema, value)) {
    const expected = schema['x-kubernetes-int-or-string'] ? 'integer,string' : schema.type
    errs.invalid(path, value, `${path || 'body'} in body must be of type ${expected}: "${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value === 'object' ? 'object' : Number.isInteger(value) ? 'integer' : typeof value}"`)
    return
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errs.notSupported(path, value, schema.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))))
  }
  checkBounds(schema, value, path, errs)
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => validateAgainstSchema(schema.items!, item, errs, `${path}[${i}]`, false))
    return
  }
  if (!isObject(value)) return
  for (const key of schema.required ?? []) {
    if (!(key in value)) errs.required(path === '' ? key : `${path}.${key}`)
  }
  for (const [key, child] of Object.entries(value)) {
    if (isRoot && objectFrame.includes(key)) continue
    const s = childSchema(schema, key)
    if (s) validateAgainstSchema(s, child, errs, path === '' ? key : `${path}.${key}`, false)
  }
}
