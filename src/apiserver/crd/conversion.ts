/**
 * The "None" conversion strategy of CRDs: every served version has the same fields, so an
 * object moves between versions by its apiVersion alone. Objects are stored in the CRD's
 * storage version and answered in the version the request addressed.
 */
import type { KubeObject } from '../../store/index.js'
import { apiVersionOf, type ResourceInfo } from '../resources.js'

function asVersion(o: KubeObject, apiVersion: string): KubeObject {
  return o.apiVersion === apiVersion ? o : { ...o, apiVersion }
}

/** `o` as the version `r` serves (built-in kinds are returned as they are). */
export function servedAs(r: ResourceInfo, o: KubeObject): KubeObject {
  if (!r.custom || o.kind !== r.kind) return o
  return asVersion(o, apiVersionOf(r))
}

/** `o` as the CRD's storage version, for writing. */
export function storedAs(r: ResourceInfo, o: KubeObject): KubeObject {
  if (!r.custom) return o
  return asVersion(o, r.group === '' ? r.custom.storageVersion : `${r.group}/${r.custom.storageVersion}`)
}
