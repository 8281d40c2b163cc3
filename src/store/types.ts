/**
 * Store vocabulary: object keys, stored objects, write operations, watch events and the
 * `ObjectStore` contract. Pure types; VersionedStore and EtcdStore implement the contract.
 */

import type { ObjectMeta } from '../api/index.js'

export type { ObjectMeta }

/** A JSON object as Kubernetes stores it. The store only relies on `metadata`. */
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: ObjectMeta
  [field: string]: unknown
}

/**
 * The check an object read back from storage must pass to be served (kpe's field validation):
 * its problems, none when it may be served. Written before validation existed, or by another
 * writer, an object that fails is skipped and reported, never served.
 */
export type StoredObjectCheck = (resource: string, object: KubeObject) => readonly string[]

/**
 * `resource` is the group-qualified plural ("pods", "deployments.apps"); `namespace` is ''
 * for cluster-scoped objects.
 */
export interface ObjectKey {
  readonly resource: string
  readonly namespace: string
  readonly name: string
}

export interface Preconditions {
  readonly resourceVersion?: string
  readonly uid?: string
}

export type WriteOp =
  | { readonly type: 'create'; readonly resource: string; readonly object: KubeObject }
  | { readonly type: 'update'; readonly resource: string; readonly object: KubeObject; readonly preconditions?: Preconditions }
  | { readonly type: 'delete'; readonly key: ObjectKey; readonly preconditions?: Preconditions }

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface StoreEvent {
  readonly type: WatchEventType
  readonly resource: string
  /** The object after the write; for DELETED, the last state with the deletion's resourceVersion. */
  readonly object: KubeObject
  readonly resourceVersion: number
}

export interface ListOptions {
  readonly namespace?: string
}

export interface ListResult {
  readonly items: readonly KubeObject[]
  readonly resourceVersion: number
}

export interface WatchOptions {
  readonly namespace?: string
  /** Deliver every event with a resourceVersion greater than this one; absent means "from now". */
  readonly sinceResourceVersion?: number
}

export interface WatchHandle {
  stop(): void
}

/** Read side, handed to admission hooks and controllers. Returned objects are deeply frozen. */
export interface ObjectStoreReader {
  readonly resourceVersion: number
  get(key: ObjectKey): KubeObject | undefined
  list(resource: string, opts?: ListOptions): ListResult
}

export interface ObjectStore extends ObjectStoreReader {
  /**
   * All-or-nothing; resolves once durable and visible to reads. VersionedStore gives every op its own
   * consecutive resourceVersion; EtcdStore gives all ops the Txn's one revision.
   */
  transact(ops: readonly WriteOp[]): Promise<readonly KubeObject[]>
  create(resource: string, object: KubeObject): Promise<KubeObject>
  update(resource: string, object: KubeObject, preconditions?: Preconditions): Promise<KubeObject>
  delete(key: ObjectKey, preconditions?: Preconditions): Promise<KubeObject>
  /** Resolves once every write accepted so far is visible to reads (a read-modify-write retries after it). */
  settled(): Promise<void>
  /** Throws StoreError 'Expired' when sinceResourceVersion is older than the retained window. */
  watch(resource: string, opts: WatchOptions, onEvent: (ev: StoreEvent) => void): WatchHandle
  close(): Promise<void>
}
