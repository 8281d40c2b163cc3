/**
 * System metadata on writes: name from generateName, uid, creationTimestamp, generation (bumped
 * when spec changes), status reset on create, status kept on main-resource updates and only
 * status taken on /status updates. Pure given the clock time and id source.
 */
import { formatTimestamp, podQOSClass, type Pod, type ResourceInfo } from '../api/index.js'
import type { Clock } from '../runtime/index.js'
import type { KubeObject } from '../store/index.js'
import { deepEqual } from './patch/index.js'

export interface IdSource {
  uid(): string
  /** Five characters from kube's random-string alphabet, for generateName. */
  nameSuffix(): string
}

function initialStatus(kind: string, given: unknown, o: KubeObject): unknown {
  switch (kind) {
    case 'Pod': return { phase: 'Pending', qosClass: podQOSClass((o as Partial<Pod>).spec) }
    case 'Service': return { loadBalancer: {} }
    case 'Deployment': case 'ReplicaSet': return {}
    case 'Namespace': return { phase: 'Active' }
    default: return given
  }
}

/** Mutates the clone it is given. */
export function prepareForCreate(o: KubeObject, r: ResourceInfo, now: number, ids: IdSource): void {
  const m = o.metadata
  if (!m.name && m.generateName) m.name = `${m.generateName}${ids.nameSuffix()}`
  m.uid = ids.uid()
  m.creationTimestamp = formatTimestamp(now)
  delete m.resourceVersion
  delete m.deletionTimestamp
  if (r.tracksGeneration) m.generation = 1
  else delete m.generation
  // A custom resource with a status subresource starts without one, as upstream.
  const status = r.custom ? (r.subresources.includes('status') ? undefined : o['status']) : initialStatus(r.kind, o['status'], o)
  if (status === undefined) delete o['status']
  else o['status'] = status
}

/** Returns the object to store for an update of `old` by `incoming` (a mutable clone). */
export function prepareForUpdate(incoming: KubeObject, old: KubeObject, r: ResourceInfo, subresource: 'status' | undefined): KubeObject {
  if (subresource === 'status') {
    const out = structuredClone(old) as KubeObject
    out['status'] = incoming['status']
    out.metadata.resourceVersion = incoming.metadata.resourceVersion ?? old.metadata.resourceVersion
    return out
  }
  const m = incoming.metadata
  m.uid = old.metadata.uid
  m.creationTimestamp = old.metadata.creationTimestamp
  // only a DELETE starts a deletion: an update keeps what the stored object says
  if (old.metadata.deletionTimestamp) m.deletionTimestamp = old.metadata.deletionTimestamp
  else delete m.deletionTimestamp
  if (old.metadata.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds
  else delete m.deletionGracePeriodSeconds
  if (m.managedFields === undefined && old.metadata['managedFields'] !== undefined) m['managedFields'] = old.metadata['managedFields']
  if (r.subresources.includes('status')) {
    if (old['status'] === undefined) delete incoming['status']
    else incoming['status'] = old['status']
  }
  if (r.tracksGeneration) {
    const prev = old.metadata.generation ?? 1
    m.generation = deepEqual(old['spec'], incoming['spec']) ? prev : prev + 1
  } else delete m.generation
  return incoming
}
