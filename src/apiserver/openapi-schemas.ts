/**
 * OpenAPI schemas of the served kinds, generated from the API descriptor and its field markers:
 * types, required fields, list/map types, strategic-merge keys and the group-version-kind
 * extension kubectl looks kinds up by. One generator for both dialects (v3 components, v2
 * definitions). Descriptions are left out: the descriptor carries no prose. Pure.
 */
import { fieldMarkers, hasSchemaMessage, ownedFields, type SchemaField } from '../api/index.js'

export type OpenApiDialect = 'v2' | 'v3'

export interface GroupVersionKind {
  readonly group: string
  readonly version: string
  readonly kind: string
}

type Schema = Record<string, unknown>

/** "io.k8s.api.apps.v1.Deployment" for "k8s.io.api.apps.v1.Deployment": upstream's definition names. */
export function definitionName(message: string): string {
  return message.startsWith('k8s.io.') ? `io.k8s.${message.slice('k8s.io.'.length)}` : message
}

function refTo(message: string, dialect: OpenApiDialect): string {
  return `${dialect === 'v3' ? '#/components/schemas/' : '#/definitions/'}${definitionName(message)}`
}

const meta = 'k8s.io.apimachinery.pkg.apis.meta.v1'
const stringList: Schema = { type: 'array', items: { type: 'string' } }

/** Messages whose JSON form is a scalar or free-form JSON, as their Go types marshal. */
function jsonFormOf(message: string, dialect: OpenApiDialect): Schema | undefined {
  switch (message) {
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return { type: 'string', format: 'int-or-string', ...(dialect === 'v3' ? { 'x-kubernetes-int-or-string': true } : {}) }
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity':
      return { type: 'string' }
    case `${meta}.Time`: case `${meta}.MicroTime`: return { type: 'string', format: 'date-time' }
    case `${meta}.Duration`: return { type: 'string' }
    case 'k8s.io.apimachinery.pkg.runtime.RawExtension': return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }
    case `${meta}.FieldsV1`: return { type: 'object' }
    case `${meta}.Verbs`: case 'k8s.io.api.authentication.v1.ExtraValue': case 'k8s.io.api.authorization.v1.ExtraValue': return stringList
    default: return undefined
  }
}

const scalarSchemas: Readonly<Record<string, Schema>> = {
  string: { type: 'string' }, bool: { type: 'boolean' },
  int32: { type: 'integer', format: 'int32' }, int64: { type: 'integer', format: 'int64' },
  uint32: { type: 'integer', format: 'int32' }, uint64: { type: 'integer', format: 'int64' },
  double: { type: 'number', format: 'double' }, float: { type: 'number', format: 'double' },
  bytes: { type: 'string', format: 'byte' },
}

/** The schema of one value of `type`; message types become references, recorded in `needed`. */
function elementSchema(type: string, dialect: OpenApiDialect, needed: Set<string>): Schema {
  const scalar = scalarSchemas[type]
  if (scalar) return { ...scalar }
  needed.add(type)
  return dialect === 'v3' ? { allOf: [{ $ref: refTo(type, dialect) }], default: {} } : { $ref: refTo(type, dialect) }
}

function fieldSchema(f: SchemaField, owner: string, dialect: OpenApiDialect, needed: Set<string>): Schema {
  const m = fieldMarkers(owner, f.name)
  const elem = elementSchema(f.type, dialect, needed)
  const out: Schema = f.keyType ? { type: 'object', additionalProperties: elem } : f.repeated ? { type: 'array', items: elem } : elem
  if (m.listType && f.repeated) out['x-kubernetes-list-type'] = m.listType
  if (m.listMapKeys && f.repeated) out['x-kubernetes-list-map-keys'] = m.listMapKeys
  if (m.mapType && f.keyType) out['x-kubernetes-map-type'] = m.mapType
  if (m.patchMergeKey) out['x-kubernetes-patch-merge-key'] = m.patchMergeKey
  if (m.patchStrategy) out['x-kubernetes-patch-strategy'] = m.patchStrategy
  return out
}

function messageSchema(message: string, gvks: readonly GroupVersionKind[], dialect: OpenApiDialect, needed: Set<string>): Schema {
  const special = jsonFormOf(message, dialect)
  if (special) return special
  const properties: Record<string, Schema> = {}
  const required: string[] = []
  if (gvks.length > 0) {
    properties['apiVersion'] = { type: 'string' }
    properties['kind'] = { type: 'string' }
  }
  for (const { jsonName, field, owner } of ownedFields(message) ?? []) {
    properties[jsonName] = fieldSchema(field, owner, dialect, needed)
    if (fieldMarkers(owner, field.name).required) required.push(jsonName)
  }
  return {
    type: 'object', properties,
    ...(required.length ? { required } : {}),
    ...(gvks.length ? { 'x-kubernetes-group-version-kind': gvks } : {}),
  }
}

/**
 * Schemas for the `kinds` (message name → the GVKs it is served as) and every message they
 * reach, keyed by definition name.
 */
export function kindSchemas(kinds: ReadonlyMap<string, readonly GroupVersionKind[]>, dialect: OpenApiDialect): Record<string, Schema> {
  const out = new Map<string, Schema>()
  const queue = [...kinds.keys()].filter(hasSchemaMessage)
  const needed = new Set<string>(queue)
  while (queue.length > 0) {
    const message = queue.pop()!
    const before = new Set(needed)
    out.set(definitionName(message), messageSchema(message, kinds.get(message) ?? [], dialect, needed))
    for (const m of needed) if (!before.has(m)) queue.push(m)
  }
  return Object.fromEntries([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
