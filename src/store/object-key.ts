/**
 * Object keys and their flat string form "resource/namespace/name", used by the maps, the WAL
 * and snapshots. Pure.
 */
import type { KubeObject, ObjectKey } from './types.js'
import { StoreError } from './store-error.js'

export function keyOf(resource: string, obj: KubeObject): ObjectKey {
  const name = obj.metadata?.name
  if (typeof name !== 'string' || name === '') {
    throw new StoreError('Invalid', `${resource}: object has no metadata.name`)
  }
  return { resource, namespace: obj.metadata.namespace ?? '', name }
}

export function formatKey(key: ObjectKey): string {
  return `${key.resource}/${key.namespace}/${key.name}`
}

export function parseKey(s: string): ObjectKey {
  const [resource = '', namespace = '', ...rest] = s.split('/')
  return { resource, namespace, name: rest.join('/') }
}
