/**
 * Typed decoding at the door of the write pipeline: a body is decoded against the API schema
 * before defaulting, admission hooks or validation see it. Wrong JSON types answer 400 as
 * kube-apiserver's decoder does; null list items answer 422; unknown fields are dropped and,
 * by the fieldValidation parameter, rejected (Strict: 400 "strict decoding error"), returned as
 * warnings (Warn, the default) or ignored (Ignore).
 */
import { decodeFailureMessage, decodeObject } from '../api/index.js'
import { ApiError, badRequest, invalid } from './api-error.js'
import { apiVersionOf, type ResourceInfo } from './resources.js'

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore'

export function parseFieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation') ?? 'Warn'
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v
  throw badRequest(`fieldValidation parameter unsupported: ${v}. Must be one of Ignore, Warn, Strict`)
}

export interface DecodedBody {
  readonly object: Record<string, unknown>
  /** Warning texts for the Warning header. */
  readonly warnings: string[]
}

/**
 * Decodes `body` as the kind `kind` of group-version `apiVersion` (the request's target decides,
 * as in kube-apiserver). `r` names the object in 422 answers.
 */
export function decodeWriteBody(r: ResourceInfo, body: unknown, mode: FieldValidation, as: { apiVersion: string; kind: string } = { apiVersion: apiVersionOf(r), kind: r.kind }): DecodedBody {
  const decoded = decodeObject(as.apiVersion, as.kind, body)
  if (!decoded) return { object: body as Record<string, unknown>, warnings: [] }
  const first = decoded.typeErrors[0]
  if (first) {
    const causes = decoded.typeErrors.map((e) => ({ reason: 'FieldValueTypeInvalid', field: e.field, message: e.message }))
    throw new ApiError(400, 'BadRequest', decodeFailureMessage(as.apiVersion, as.kind, first.message), { kind: as.kind, causes })
  }
  if (!decoded.nullItems.ok) {
    const meta = decoded.object['metadata'] as { name?: unknown } | undefined
    throw invalid(r, typeof meta?.name === 'string' ? meta.name : '', decoded.nullItems.list.map((e) => ({ reason: e.type, field: e.field, message: e.message })))
  }
  const unknown = mode === 'Ignore' ? [] : decoded.unknownFields.map((p) => `unknown field "${p}"`)
  if (mode === 'Strict' && unknown.length > 0) {
    throw badRequest(decodeFailureMessage(as.apiVersion, as.kind, `strict decoding error: ${unknown.join(', ')}`))
  }
  return { object: decoded.object, warnings: unknown }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError
}
