/**
 * The fieldValidation query parameter: Strict rejects unknown fields with 400 BadRequest
 * ("strict decoding error: unknown field …", as kube-apiserver does), Warn returns them as
 * warnings, Ignore drops the check. Unknown fields are kept in the stored object either way.
 */
import { ApiError, badRequest } from './api-error.js'
import { findUnknownFields, kindSchemas } from './field-schema.js'

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore'

export function parseFieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation') ?? 'Warn'
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v
  throw badRequest(`fieldValidation parameter unsupported: ${v}. Must be one of Ignore, Warn, Strict`)
}

/** Returns warning texts (for the Warning header); throws for Strict. */
export function checkUnknownFields(kind: string, apiVersion: string, obj: unknown, mode: FieldValidation): string[] {
  if (mode === 'Ignore') return []
  const schema = kindSchemas[kind]
  if (!schema) return []
  const unknown = findUnknownFields(obj, schema).map((p) => `unknown field "${p}"`)
  if (unknown.length === 0) return []
  if (mode === 'Strict') {
    const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion
    const err = badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${unknown.join(', ')}`)
    throw err
  }
  return unknown
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError
}
