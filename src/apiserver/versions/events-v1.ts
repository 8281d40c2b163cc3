/**
 * events.k8s.io/v1 Event over its storage form, the core/v1 Event, with kube-apiserver's field
 * mapping (regarding = involvedObject, note = message, reportingController = reportingComponent,
 * deprecated* = the core timestamps, count and source), so both APIs serve the same objects.
 */
import type { KubeObject } from '../../store/index.js'

type Obj = Record<string, unknown>

/** events.k8s.io/v1 field -> core/v1 field; the other fields have one name in both. */
const renamed: readonly (readonly [string, string])[] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
]

function rename(o: KubeObject, apiVersion: string, pairs: readonly (readonly [string, string])[]): KubeObject {
  const out: Obj = { ...o, apiVersion }
  for (const [from, to] of pairs) {
    delete out[from]
    if (o[from] !== undefined) out[to] = o[from]
  }
  return out as KubeObject
}

export function eventsV1ToCore(o: KubeObject): KubeObject {
  return rename(o, 'v1', renamed)
}

export function coreToEventsV1(o: KubeObject): KubeObject {
  return rename(o, 'events.k8s.io/v1', renamed.map(([a, b]) => [b, a] as const))
}

/** Field selector labels of events.k8s.io/v1, as the storage (core) fields they select on. */
export function eventsV1FieldLabel(label: string): string {
  if (label.startsWith('regarding.')) return `involvedObject.${label.slice('regarding.'.length)}`
  if (label === 'reportingController') return 'reportingComponent'
  return label
}
