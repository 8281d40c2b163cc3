/**
 * One ObjectStore transaction as one etcd Txn: the store's checks (AlreadyExists, NotFound,
 * preconditions) made against a view of the current objects, a compare on each key's mod
 * revision so that etcd refuses the Txn if that view is stale, and the writes. Pure.
 */
import { deepFreeze } from '../deep-freeze.js'
import { formatKey, keyOf } from '../object-key.js'
import { checkPreconditions } from '../preconditions.js'
import { StoreError } from '../store-error.js'
import type { KubeObject, ObjectKey, StoreEvent, WriteOp } from '../types.js'
import { etcdKeyOf } from './key-layout.js'

/** What a key holds: the object and its mod revision, or absent (mod revision 0, as etcd compares it). */
export interface Current {
  readonly object: KubeObject | undefined
  readonly modRevision: number
}

export type TxnWrite =
  | { readonly type: 'put'; readonly etcdKey: string; readonly object: KubeObject }
  | { readonly type: 'delete'; readonly etcdKey: string }

export interface TxnPlan {
  /** Each key's mod revision must still be this one (0: the key must not exist). */
  readonly compares: readonly { readonly etcdKey: string; readonly modRevision: number }[]
  /** At most one write per key (etcd refuses duplicate keys in a Txn); the last op on a key wins. */
  readonly writes: readonly TxnWrite[]
  /** Each op's outcome at the Txn's revision: the stored object, or for a delete the last state. */
  events(revision: number): StoreEvent[]
}

/** Checks `ops` in order against `current` (earlier ops of the same Txn included) and plans the Txn. */
export function planTxn(prefix: string, ops: readonly WriteOp[], current: (key: ObjectKey) => Current): TxnPlan {
  const seen = new Map<string, KubeObject | undefined>()
  const compares = new Map<string, number>()
  const writes = new Map<string, TxnWrite>()
  const outcomes: { readonly type: StoreEvent['type']; readonly resource: string; readonly object: KubeObject }[] = []
  for (const op of ops) {
    const key = op.type === 'delete' ? op.key : keyOf(op.resource, op.object)
    const etcdKey = etcdKeyOf(prefix, key)
    if (!compares.has(etcdKey)) {
      const now = current(key)
      compares.set(etcdKey, now.modRevision)
      seen.set(etcdKey, now.object)
    }
    const existing = seen.get(etcdKey)
    if (op.type === 'create' && existing) throw new StoreError('AlreadyExists', `${formatKey(key)} already exists`, { key })
    if (op.type !== 'create') {
      if (!existing) throw new StoreError('NotFound', `${formatKey(key)} not found`, { key })
      checkPreconditions(key, existing, op.preconditions)
    }
    if (op.type === 'delete') {
      writes.set(etcdKey, { type: 'delete', etcdKey })
      seen.set(etcdKey, undefined)
      outcomes.push({ type: 'DELETED', resource: key.resource, object: existing as KubeObject })
    } else {
      writes.set(etcdKey, { type: 'put', etcdKey, object: op.object })
      seen.set(etcdKey, op.object)
      outcomes.push({ type: op.type === 'create' || !existing ? 'ADDED' : 'MODIFIED', resource: key.resource, object: op.object })
    }
  }
  return {
    compares: [...compares].map(([etcdKey, modRevision]) => ({ etcdKey, modRevision })),
    writes: [...writes.values()],
    events: (revision) => outcomes.map((o) => ({
      type: o.type, resource: o.resource, resourceVersion: revision,
      object: deepFreeze({ ...structuredClone(o.object), metadata: { ...structuredClone(o.object.metadata), resourceVersion: String(revision) } }),
    })),
  }
}
