/**
 * What every ObjectStore implementation shares: single-object writes as one-op transactions, the
 * list answer (namespace filter, name order) and the rule for which events a watch receives.
 */
import { objectKey } from '../api/index.js'
import { StoreError } from './store-error.js'
import type { KubeObject, ListOptions, ListResult, ObjectKey, Preconditions, StoreEvent, WriteOp } from './types.js'

/** create, update and delete of one object, each a one-op `transact`; implementations supply transact. */
export abstract class TransactingStore {
  abstract transact(ops: readonly WriteOp[]): Promise<readonly KubeObject[]>

  create(resource: string, object: KubeObject): Promise<KubeObject> {
    return this.#one({ type: 'create', resource, object })
  }

  update(resource: string, object: KubeObject, preconditions?: Preconditions): Promise<KubeObject> {
    return this.#one(preconditions ? { type: 'update', resource, object, preconditions } : { type: 'update', resource, object })
  }

  delete(key: ObjectKey, preconditions?: Preconditions): Promise<KubeObject> {
    return this.#one(preconditions ? { type: 'delete', key, preconditions } : { type: 'delete', key })
  }

  /** The one object the transaction wrote (for a delete, its last state). */
  async #one(op: WriteOp): Promise<KubeObject> {
    const [obj] = await this.transact([op])
    if (!obj) throw new StoreError('Unavailable', 'empty transaction result')
    return obj
  }
}

/** A list answer: the objects in `namespace` (all when absent), sorted by namespace/name. */
export function listResult(objects: Iterable<KubeObject>, opts: ListOptions, resourceVersion: number): ListResult {
  const items: KubeObject[] = []
  for (const obj of objects) {
    if (opts.namespace === undefined || (obj.metadata.namespace ?? '') === opts.namespace) items.push(obj)
  }
  items.sort((a, b) => {
    const ak = objectKey(a)
    const bk = objectKey(b)
    return ak < bk ? -1 : ak > bk ? 1 : 0
  })
  return { items, resourceVersion }
}

/** What a watch asked for: one resource, optionally one namespace, events after a resourceVersion. */
export interface WatchFilter {
  readonly resource: string
  readonly namespace: string | undefined
  readonly after: number
}

export function watchMatches(w: WatchFilter, ev: StoreEvent): boolean {
  return ev.resource === w.resource && ev.resourceVersion > w.after &&
    (w.namespace === undefined || (ev.object.metadata.namespace ?? '') === w.namespace)
}
