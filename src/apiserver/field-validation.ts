/**
 * Typed decoding at the door of the write pipeline: a body is decoded against the API schema
 * before defaulting, admission hooks or validation see it. Wrong JSON types answer 400 as
 * kube-apiserver's decoder does; null list items answer 422; unknown fields are dropped and,
 * by the fieldValidation parameter, rejected (Strict: 400 "strict decoding error"), returned as
 * warnings (Warn, the default) or ignored (Ignore).
 */
import { apiVersionOf, decodeFailureMessage, decodeObject, pruneUnknownFields, type ResourceInfo } from '../api/index.js'
import { ApiError, badRequest, invalid } from './api-error.js'

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore'

export function parseFieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation') ?? 'Warn'
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v
  throw badRequest(`fieldValidation parameter unsupported: ${v}. Must be one of Ignore, Warn, Strict`)
}

export interface DecodedBody {
  /** A copy the caller owns: the request body is never changed. */
  readonly object: Record<string, unknown>
  /** Warning texts for the Warning header. */
  readonly warnings: string[]
}

/**
 * Decodes `body` as the kind `kind` of group-version `apiVersion` (the request's target decides,
 * as in kube-apiserver). `r` names the object in 422 answers.
 */
export function decodeWriteBody(r: ResourceInfo, body: unknown, mode: FieldValidation, as: { apiVersion: string; kind: string } = { apiVersion: apiVersionOf(r), kind: r.kind }): DecodedBody {
  if (r.custom && as.kind === r.kind) return decodeCustomResource(r, body as Record<string, unknown>, mode, as)
  const decoded = decodeObject(as.apiVersion, as.kind, body)
  if (!decoded) return { object: structuredClone(body) as Record<string, unknown>, warnings: [] }
  const first = decoded.typeErrors[0]
  if (first) {
    const causes = decoded.typeErrors.map((e) => ({ reason: 'FieldValueTypeInvalid', field: e.field, message: e.message }))
    throw new ApiError(400, 'BadRequest', decodeFailureMessage(as.apiVersion, as.kind, first.message), { kind: as.kind, causes })
  }
  if (!decoded.nullItems.ok) {
    const meta = decoded.object['metadata'] as { name?: unknown } | undefined
    throw invalid(r, typeof meta?.name === 'string' ? meta.name : '', decoded.nullItems.list.map((e) => ({ reason: e.type, field: e.field, message: e.message })))
  }
  return { object: decoded.object, warnings: unknownFieldWarnings(decoded.unknownFields, mode, as) }
}

function unknownFieldWarnings(paths: readonly string[], mode: FieldValidation, as: { apiVersion: string; kind: string }): string[] {
  const unknown = mode === 'Ignore' ? [] : paths.map((p) => `unknown field "${p}"`)
  if (mode === 'Strict' && unknown.length > 0) {
    throw badRequest(decodeFailureMessage(as.apiVersion, as.kind, `strict decoding error: ${unknown.join(', ')}`))
  }
  return unknown
}

/** A custom resource's unknown fields are the ones its schema prunes (the admission hook prunes them again after patches). */
function decodeCustomResource(r: ResourceInfo, body: Record<string, unknown>, mode: FieldValidation, as: { apiVersion: string; kind: string }): DecodedBody {
  const object = structuredClone(body)
  const dropped = r.custom ? pruneUnknownFields(r.custom.schema, object) : []
  return { object, warnings: unknownFieldWarnings(dropped, mode, as) }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError
}
