/**
 * The `endpoints.kubernetes.io/last-change-trigger-time` annotation the EndpointSlice controller
 * writes (upstream pkg/controller/util/endpoint/trigger_time_tracker.go): when the pod or Service
 * change that caused a slice write happened, so kube-proxy can measure network programming latency.
 */
import { formatTriggerTime, labelsMatch, lastChangeTriggerTimeAnnotation, type EndpointSlice, type Pod, type Service } from '../api/index.js'

/** What the tracker saw at a Service's previous reconcile. */
interface ServiceTriggerState {
  readonly serviceTime: number | undefined
  /** Pod name -> its Ready condition's lastTransitionTime (ms). */
  readonly podTimes: ReadonlyMap<string, number>
}

/** A pod's trigger time: when its Ready condition last flipped (the change that moves it in or out of the slices). */
function podTriggerTime(pod: Pod): number | undefined {
  const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready')
  return parseTime(ready?.['lastTransitionTime'])
}

function parseTime(v: unknown): number | undefined {
  const t = typeof v === 'string' ? Date.parse(v) : NaN
  return Number.isFinite(t) ? t : undefined
}

/**
 * Per Service, the trigger times seen at its last reconcile. As upstream, the time of a reconcile
 * is the earliest of the trigger times that changed since the previous one (a pod whose Ready
 * flipped, a Service created), or the Service's creation for a Service seen for the first time;
 * undefined when nothing it tracks changed (then the annotation is removed from the slices written).
 * Like upstream, an object that changes twice between two reconciles counts once, at its last change.
 */
export class TriggerTimeTracker {
  readonly #states = new Map<string, ServiceTriggerState>()

  /** `pods`: the Service's namespace's pods; those its selector does not match are ignored. */
  compute(key: string, svc: Service, pods: readonly Pod[]): number | undefined {
    const previous = this.#states.get(key)
    const selector = svc.spec.selector ?? {}
    let earliest: number | undefined
    const changed = (t: number): void => {
      if (earliest === undefined || t < earliest) earliest = t
    }
    const podTimes = new Map<string, number>()
    for (const pod of pods) {
      if (Object.keys(selector).length === 0 || !labelsMatch(selector, pod.metadata.labels)) continue
      const t = podTriggerTime(pod)
      if (t === undefined) continue
      podTimes.set(pod.metadata.name ?? '', t)
      const before = previous?.podTimes.get(pod.metadata.name ?? '')
      if (before === undefined || t > before) changed(t)
    }
    const serviceTime = parseTime(svc.metadata.creationTimestamp)
    if (serviceTime !== undefined && (previous?.serviceTime === undefined || serviceTime > previous.serviceTime)) changed(serviceTime)
    this.#states.set(key, { serviceTime, podTimes })
    return previous === undefined ? serviceTime : earliest
  }

  /** The Service is gone: a Service of the same name later starts afresh. */
  deleteService(key: string): void {
    this.#states.delete(key)
  }
}

/** The slice as written: with the trigger time, or without the annotation when there is none. */
export function withTriggerTime(slice: EndpointSlice, triggerTime: number | undefined): EndpointSlice {
  const { [lastChangeTriggerTimeAnnotation]: _old, ...others } = slice.metadata.annotations ?? {}
  const annotations = triggerTime === undefined ? others : { ...others, [lastChangeTriggerTimeAnnotation]: formatTriggerTime(triggerTime) }
  const { annotations: _a, ...metadata } = slice.metadata
  return { ...slice, metadata: Object.keys(annotations).length === 0 ? metadata : { ...metadata, annotations } }
}
