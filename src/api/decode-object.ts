/**
 * Typed decoding of a Kubernetes object of a known kind: depth limit, then the structural decode
 * against the API schema. Also the startup check of stored objects (decode + validation), so a
 * data dir written by an older kpe can be screened object by object.
 */
import { FieldErrors, isObject } from './field-errors.js'
import { schemaKindFor, schemaKindOfResource } from './schema/schema-kinds.js'
import { decodeStructured, exceedsJsonDepth, maxJsonDepth, type TypeMismatch } from './schema/structural-decode.js'
import { validateObjectFields } from './validate-objects.js'

export interface DecodedObject {
  /** The object with null and unknown fields pruned. */
  readonly object: Record<string, unknown>
  /** JSON type errors, or nesting beyond maxJsonDepth: kube-apiserver answers 400 BadRequest. */
  readonly typeErrors: readonly TypeMismatch[]
  /** Fields the schema does not know (pruned); fieldValidation=Strict rejects them. */
  readonly unknownFields: readonly string[]
  /** Null items in lists (pruned); answered 422 Invalid at their path. */
  readonly nullItems: FieldErrors
}

/** Decodes `value` as apiVersion/kind; undefined when kpe has no schema for that kind. */
export function decodeObject(apiVersion: string, kind: string, value: unknown): DecodedObject | undefined {
  const sk = schemaKindFor(apiVersion, kind)
  if (!sk) return undefined
  if (exceedsJsonDepth(value, maxJsonDepth)) {
    return { object: {}, typeErrors: [{ field: '', message: 'json: exceeded max depth' }], unknownFields: [], nullItems: new FieldErrors() }
  }
  const r = decodeStructured(sk.message, value)
  return { object: r.value, typeErrors: r.typeErrors, unknownFields: r.unknownFields, nullItems: r.invalid }
}

/** kube-apiserver's wording for a body its decoder refused: `Service in version "v1" cannot be handled as a Service: …`. */
export function decodeFailureMessage(apiVersion: string, kind: string, detail: string): string {
  const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion
  return `${kind} in version "${version}" cannot be handled as a ${kind}: ${detail}`
}

/**
 * Checks an object kept under store resource `resource` ("services", "deployments.apps") as the
 * API server checks a write: messages ("spec.ports[0].port: Invalid value: …"), empty when the
 * object is valid or kpe has no schema for the resource. Unknown fields are not reported: every
 * decode drops them.
 */
export function validateStoredObject(resource: string, obj: unknown): string[] {
  const sk = schemaKindOfResource(resource)
  if (!sk) return []
  if (!isObject(obj)) return ['the stored value is not an object']
  const decoded = decodeObject(sk.apiVersion, sk.kind, obj)
  if (!decoded) return []
  const at = (field: string, message: string): string => (field ? `${field}: ${message}` : message)
  const out = decoded.typeErrors.map((e) => at(e.field, e.message))
  out.push(...decoded.nullItems.list.map((e) => at(e.field, e.message)))
  if (out.length > 0) return out
  return validateObjectFields(sk.kind, decoded.object, 'apiserver').list.map((e) => at(e.field, e.message))
}
