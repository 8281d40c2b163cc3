/**
 * Typed store failures with a stable `reason` that the apiserver maps to Status objects
 * (404 NotFound, 409 AlreadyExists/Conflict, 410 Expired, 500 Unavailable).
 */
import type { ObjectKey } from './types.js'

export type StoreErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired' | 'Invalid' | 'Unavailable'

export class StoreError extends Error {
  readonly code = 'KPE_STORE' as const
  readonly reason: StoreErrorReason
  readonly key: ObjectKey | undefined
  constructor(reason: StoreErrorReason, message: string, opts: { key?: ObjectKey; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.reason = reason
    this.key = opts.key
  }
}

export function isStoreError(e: unknown, reason?: StoreErrorReason): e is StoreError {
  return e instanceof StoreError && (reason === undefined || e.reason === reason)
}
