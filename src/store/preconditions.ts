/**
 * Write preconditions (resourceVersion, uid) checked against the object a write would replace,
 * shared by every ObjectStore implementation so that both answer the same Conflict. Pure.
 */
import { formatKey } from './object-key.js'
import { StoreError } from './store-error.js'
import type { KubeObject, ObjectKey, Preconditions } from './types.js'

export function checkPreconditions(key: ObjectKey, existing: KubeObject, pre: Preconditions | undefined): void {
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== existing.metadata.resourceVersion) {
    throw new StoreError('Conflict', `${formatKey(key)}: resourceVersion ${pre.resourceVersion} is stale (now ${existing.metadata.resourceVersion})`, { key })
  }
  if (pre?.uid !== undefined && pre.uid !== existing.metadata.uid) {
    throw new StoreError('Conflict', `${formatKey(key)}: uid precondition ${pre.uid} does not match ${existing.metadata.uid}`, { key })
  }
}
