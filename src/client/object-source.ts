/**
 * The list+watch contract node agents read objects through.
 * Tests feed a MemoryObjectSource; the API client implements the same interface. A watch that
 * fails with HTTP 410 (Gone / Expired) means "relist"; nothing here performs I/O.
 */

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface WatchEvent<T> {
  readonly type: WatchEventType
  readonly object: T
}

export interface ListResult<T> {
  readonly items: readonly T[]
  readonly resourceVersion: string
}

export interface WatchHandlers<T> {
  event(ev: WatchEvent<T>): void
  /** The watch ended with an error; no more events follow. A 410 error asks for a relist. */
  error(err: unknown): void
}

export interface WatchStop {
  stop(): void
}

export interface ObjectSource<T> {
  list(): Promise<ListResult<T>>
  /** Events after `resourceVersion`; fails through `handlers.error` (410) when it is too old. */
  watch(resourceVersion: string, handlers: WatchHandlers<T>): WatchStop
}

/** A 410 from a watch: the requested resourceVersion is gone, the caller must list again. */
export class WatchExpiredError extends Error {
  readonly code = 410
  constructor(resourceVersion: string) {
    super(`too old resource version: ${resourceVersion}`)
  }
}

/** 410 in any of the shapes the API client or the store use (status code, code, reason). */
export function isExpiredError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { code?: unknown; status?: unknown; statusCode?: unknown; reason?: unknown }
  return e.code === 410 || e.status === 410 || e.statusCode === 410 || e.reason === 'Expired' || e.reason === 'Gone'
}

export interface ObjectMetaLike {
  readonly metadata: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string }
}
