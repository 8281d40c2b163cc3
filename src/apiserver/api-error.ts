/**
 * ApiError and the `Status` bodies kube-apiserver sends: NotFound, AlreadyExists, Conflict,
 * Invalid (with details.causes field paths), BadRequest, Expired, and friends. Also maps
 * StoreError reasons onto them.
 */
import { isStoreError } from '../store/index.js'
import { qualifiedResource, type ResourceInfo } from '../api/index.js'

export type StatusReason =
  | 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid' | 'BadRequest' | 'MethodNotAllowed' | 'Expired'
  | 'UnsupportedMediaType' | 'NotAcceptable' | 'InternalError' | 'ServiceUnavailable' | 'Forbidden'
  | 'Unauthorized' | 'RequestEntityTooLarge' | 'TooManyRequests'

export interface StatusCause {
  readonly reason?: string
  readonly message: string
  readonly field?: string
}

export interface StatusDetails {
  readonly name?: string
  readonly group?: string
  readonly kind?: string
  readonly causes?: readonly StatusCause[]
  readonly retryAfterSeconds?: number
}

export interface Status {
  readonly kind: 'Status'
  readonly apiVersion: 'v1'
  readonly metadata: Record<string, never>
  readonly status: 'Failure' | 'Success'
  readonly message: string
  readonly reason: StatusReason | ''
  readonly details?: StatusDetails
  readonly code: number
}

/** What kube-apiserver answers a create that stores no object of its own (an eviction, a binding). */
export type CreatedStatus = {
  readonly kind: 'Status'
  readonly apiVersion: 'v1'
  readonly metadata: Record<string, never>
  readonly status: 'Success'
  readonly code: 201
}

export function createdStatus(): CreatedStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }
}

export class ApiError extends Error {
  readonly code: number
  readonly reason: StatusReason
  readonly details: StatusDetails | undefined
  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message)
    this.code = code
    this.reason = reason
    this.details = details
  }

  toStatus(): Status {
    return {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason,
      ...(this.details ? { details: this.details } : {}), code: this.code,
    }
  }
}

function details(r: ResourceInfo, name: string): StatusDetails {
  return { name, group: r.group, kind: r.resource }
}

export function notFound(r: ResourceInfo, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(r)} "${name}" not found`, details(r, name))
}

export function namespaceNotFound(ns: string): ApiError {
  return new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' })
}

export function alreadyExists(r: ResourceInfo, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(r)} "${name}" already exists`, details(r, name))
}

export function conflict(r: ResourceInfo, name: string): ApiError {
  return new ApiError(409, 'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(r, name))
}

function causesSummary(causes: readonly StatusCause[]): string {
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message))
  return parts.length === 1 ? parts[0] ?? '' : `[${parts.join(', ')}]`
}

export function invalid(r: ResourceInfo, name: string, causes: readonly StatusCause[]): ApiError {
  return new ApiError(422, 'Invalid', `${r.kind} "${name}" is invalid: ${causesSummary(causes)}`, { ...details(r, name), kind: r.kind, causes })
}

/** 422 on a kind that is not a stored resource (ListOptions, Eviction), named `Kind.group` as kube-apiserver does. */
export function invalidKind(group: string, kind: string, name: string, causes: readonly StatusCause[]): ApiError {
  return new ApiError(422, 'Invalid', `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${causesSummary(causes)}`, { name, group, kind, causes })
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message)
}

/**
 * 405. With the resource, the message and details kube-apiserver's NewMethodNotSupported gives
 * (`create is not supported on resources of kind "pods/eviction"`, details group and kind).
 */
export function methodNotAllowed(message = 'the server does not allow this method on the requested resource', r?: ResourceInfo, subresource?: string): ApiError {
  if (!r) return new ApiError(405, 'MethodNotAllowed', message)
  const kind = subresource ? `${r.resource}/${subresource}` : r.resource
  return new ApiError(405, 'MethodNotAllowed', message, { group: r.group, kind })
}

/** 405 for a verb a resource does not serve, worded as kube-apiserver's NewMethodNotSupported. */
export function verbNotSupported(r: ResourceInfo, verb: string, subresource?: string): ApiError {
  const qualified = `${subresource ? `${r.resource}/${subresource}` : r.resource}${r.group ? `.${r.group}` : ''}`
  return methodNotAllowed(`${verb} is not supported on resources of kind ${JSON.stringify(qualified)}`, r, subresource)
}

/** 429 with the seconds a client should wait, as kube-apiserver's NewTooManyRequests. */
export function tooManyRequests(message: string, retryAfterSeconds: number, causes: readonly StatusCause[] = []): ApiError {
  return new ApiError(429, 'TooManyRequests', message, { ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}), ...(causes.length ? { causes } : {}) })
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message)
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got ${contentType})`)
}

/**
 * A path nothing is served at. kube-apiserver sends an empty `details` here too, and clients
 * rely on it being present: kubectl debug reads details.name of the 404 and panics without it.
 */
export function pathNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {})
}

/** 500 with the underlying error as the single cause, as kube-apiserver's NewInternalError. */
export function internalError(e: unknown): ApiError {
  const message = e instanceof Error ? e.message : String(e)
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] })
}

/** Maps store failures for a request on resource r / name onto Status errors. */
export function toApiError(e: unknown, r?: ResourceInfo, name = ''): ApiError {
  if (e instanceof ApiError) return e
  if (isStoreError(e)) {
    switch (e.reason) {
      case 'NotFound': return r ? notFound(r, e.key?.name ?? name) : pathNotFound()
      case 'AlreadyExists': return r ? alreadyExists(r, e.key?.name ?? name) : new ApiError(409, 'AlreadyExists', e.message)
      case 'Conflict': return r ? conflict(r, e.key?.name ?? name) : new ApiError(409, 'Conflict', e.message)
      case 'Expired': return expired(e.message)
      case 'Invalid': return badRequest(e.message)
      case 'Unavailable': return new ApiError(503, 'ServiceUnavailable', e.message)
    }
  }
  return internalError(e)
}
