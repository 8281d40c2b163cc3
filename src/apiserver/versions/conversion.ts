/**
 * The one version-conversion seam: a served ResourceInfo names how its objects move to and from
 * the storage version. Built-in kinds with several served versions (HorizontalPodAutoscaler
 * autoscaling/v1 over v2) convert fields; CRDs use the "None" strategy (apiVersion only).
 */
import type { KubeObject } from '../../store/index.js'
import { apiVersionOf, type ResourceInfo } from '../../api/index.js'
import { coreToEventsV1, eventsV1ToCore } from './events-v1.js'
import { hpaV1ToV2, hpaV2ToV1 } from './hpa-v1.js'

export interface VersionConversion {
  /** The stored form of an object in the served version. */
  toStorage(o: KubeObject): KubeObject
  /** The served form of a stored object. */
  fromStorage(o: KubeObject): KubeObject
}

function asVersion(o: KubeObject, apiVersion: string): KubeObject {
  return o.apiVersion === apiVersion ? o : { ...o, apiVersion }
}

/** CRD "None" strategy: every served version has the same fields. */
function noneStrategy(served: string, stored: string): VersionConversion {
  return { toStorage: (o) => asVersion(o, stored), fromStorage: (o) => asVersion(o, served) }
}

const identity: VersionConversion = { toStorage: (o) => o, fromStorage: (o) => o }

/** Field converters of built-in kinds served beside their storage version, by "apiVersion kind". */
const builtInConversions: ReadonlyMap<string, VersionConversion> = new Map([
  ['autoscaling/v1 HorizontalPodAutoscaler', {
    toStorage: (o: KubeObject) => (o.apiVersion === 'autoscaling/v2' ? o : hpaV1ToV2(o) as KubeObject),
    fromStorage: (o: KubeObject) => (o.apiVersion === 'autoscaling/v1' ? o : hpaV2ToV1(o) as KubeObject),
  }],
  ['events.k8s.io/v1 Event', {
    toStorage: (o: KubeObject) => (o.apiVersion === 'v1' ? o : eventsV1ToCore(o)),
    fromStorage: (o: KubeObject) => (o.apiVersion === 'events.k8s.io/v1' ? o : coreToEventsV1(o)),
  }],
])

export function versionConversion(r: ResourceInfo): VersionConversion {
  if (r.custom) {
    const stored = r.group === '' ? r.custom.storageVersion : `${r.group}/${r.custom.storageVersion}`
    return noneStrategy(apiVersionOf(r), stored)
  }
  return builtInConversions.get(`${apiVersionOf(r)} ${r.kind}`) ?? identity
}

/** `o` as the version `r` serves; objects of another kind (a Scale view) pass unchanged. */
export function servedAs(r: ResourceInfo, o: KubeObject): KubeObject {
  return o.kind === r.kind ? versionConversion(r).fromStorage(o) : o
}

/** `o` as the storage version of `r`, for writing. */
export function storedAs(r: ResourceInfo, o: KubeObject): KubeObject {
  return o.kind === r.kind ? versionConversion(r).toStorage(o) : o
}
