/**
 * Field-level rejection causes shaped like kube-apiserver's field.ErrorList entries
 * (`spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated`), for the
 * allocators to return and the admission shells to turn into 422 responses. Pure.
 */
import type { StatusCause } from '../apiserver/index.js'

export function invalidValue(field: string, value: unknown, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` }
}

export function forbidden(field: string, detail: string): StatusCause {
  return { reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` }
}

export function duplicateValue(field: string, value: unknown): StatusCause {
  return { reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${JSON.stringify(value)}` }
}

/** Allocation outcome: values, rejected input (422), or an exhausted range (500, as upstream). */
export type Allocation<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'invalid'; readonly causes: readonly StatusCause[] }
  | { readonly kind: 'full'; readonly message: string }
