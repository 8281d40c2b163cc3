/**
 * Typed store failures with a stable `reason` that the apiserver maps to Status objects
 * (404 NotFound, 409 AlreadyExists/Conflict, 410 Expired, 500 Unavailable). `Corrupt` stops
 * startup on damaged files and carries where the damage is; `QuotaExceeded` refuses a write.
 */
import type { ObjectKey } from './types.js'

export type StoreErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired' | 'Invalid' | 'Unavailable' | 'Corrupt' | 'QuotaExceeded'

/** Where in a store file a problem starts: byte offset (0-based) and line (1-based). */
export interface FileLocation {
  readonly file: string
  readonly offset: number
  readonly line: number
}

export class StoreError extends Error {
  readonly code = 'KPE_STORE' as const
  readonly reason: StoreErrorReason
  readonly key: ObjectKey | undefined
  readonly location: FileLocation | undefined
  constructor(reason: StoreErrorReason, message: string, opts: { key?: ObjectKey; cause?: unknown; location?: FileLocation } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.reason = reason
    this.key = opts.key
    this.location = opts.location
  }
}

export function isStoreError(e: unknown, reason?: StoreErrorReason): e is StoreError {
  return e instanceof StoreError && (reason === undefined || e.reason === reason)
}
