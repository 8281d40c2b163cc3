/**
 * kube-proxy's change tracker (upstream servicechangetracker.go and endpointschangetracker.go):
 * the current Services and EndpointSlices grouped per Service, and the net change per Service
 * since the last drain. Pure bookkeeping; the proxier drains it on each sync.
 */
import { objectKey, serviceNameLabel, sliceTriggerTime, type EndpointSlice, type Service } from '../../api/index.js'
import type { ServiceObjects } from './incremental-proxy-state.js'
import { changedServiceNames } from './proxy-state.js'

/** `ns/name` of the Service a slice belongs to. */
function sliceServiceName(s: EndpointSlice): string {
  return `${s.metadata.namespace ?? ''}/${s.metadata.labels?.[serviceNameLabel] ?? ''}`
}

/**
 * Current Services and EndpointSlices, grouped per Service, plus each touched Service's objects
 * as they were at the last drain (upstream's previous/current change trackers). A change and its
 * undo (add then delete) nets out to nothing.
 */
export class ProxyChangeTracker {
  readonly #services = new Map<string, Service>()
  readonly #slices = new Map<string, Map<string, EndpointSlice>>()
  readonly #atLastDrain = new Map<string, ServiceObjects>()
  /** Per Service, the last-change-trigger-time of each slice write since the last takeTriggerTimes (upstream lastChangeTriggerTimes). */
  readonly #triggerTimes = new Map<string, number[]>()

  serviceChanged(previous: Service | undefined, current: Service | undefined): void {
    const name = objectKey((current ?? previous)!)
    this.#touch(name)
    if (current) this.#services.set(name, current)
    else this.#services.delete(name)
  }

  sliceChanged(previous: EndpointSlice | undefined, current: EndpointSlice | undefined): void {
    const key = objectKey((current ?? previous)!)
    if (previous) {
      const name = sliceServiceName(previous)
      this.#touch(name)
      const group = this.#slices.get(name)
      group?.delete(key)
      if (group?.size === 0) this.#slices.delete(name)
    }
    if (current) {
      const name = sliceServiceName(current)
      this.#touch(name)
      let group = this.#slices.get(name)
      if (!group) this.#slices.set(name, (group = new Map()))
      group.set(key, current)
    }
    this.#noteTriggerTime(previous, current)
  }

  /**
   * The trigger times of the slice writes since the last call, for the sync about to run (the
   * caller takes them just before draining, observes them once the sync applied).
   */
  takeTriggerTimes(): number[] {
    const times = [...this.#triggerTimes.values()].flat()
    this.#triggerTimes.clear()
    return times
  }

  /**
   * As upstream's EndpointSliceUpdate: a slice whose endpoints or ports changed contributes its
   * trigger time; a deleted slice's time is that of its last write, not of the deletion, so the
   * deletion drops its Service's pending times instead. A relist's unchanged slice adds nothing.
   */
  #noteTriggerTime(previous: EndpointSlice | undefined, current: EndpointSlice | undefined): void {
    if (!current) {
      if (previous) this.#triggerTimes.delete(sliceServiceName(previous))
      return
    }
    if (previous && sameSliceData(previous, current)) return
    const t = sliceTriggerTime(current)
    if (t === undefined) return
    const name = sliceServiceName(current)
    const times = this.#triggerTimes.get(name)
    if (times) times.push(t)
    else this.#triggerTimes.set(name, [t])
  }

  /** The Services whose objects differ from the last drain, with their current objects; starts a new record. */
  drain(): ReadonlyMap<string, ServiceObjects> {
    const changed = this.#pending()
    this.#atLastDrain.clear()
    return changed
  }

  hasPendingChanges(): boolean {
    return this.#pending().size > 0
  }

  /** Every Service name with a Service or slices now, with its objects. */
  current(): Map<string, ServiceObjects> {
    const out = new Map<string, ServiceObjects>()
    for (const name of new Set([...this.#services.keys(), ...this.#slices.keys()])) out.set(name, this.objectsOf(name))
    return out
  }

  objectsOf(name: string): ServiceObjects {
    const group = this.#slices.get(name)
    return { service: this.#services.get(name), slices: group ? [...group.values()] : [] }
  }

  #touch(name: string): void {
    if (!this.#atLastDrain.has(name)) this.#atLastDrain.set(name, this.objectsOf(name))
  }

  #pending(): Map<string, ServiceObjects> {
    const changed = new Map<string, ServiceObjects>()
    for (const [name, before] of this.#atLastDrain) {
      const now = this.objectsOf(name)
      if (differ(before, now)) changed.set(name, now)
    }
    return changed
  }
}

function sameSliceData(a: EndpointSlice, b: EndpointSlice): boolean {
  if (a === b) return true
  return a.addressType === b.addressType && JSON.stringify(a.endpoints) === JSON.stringify(b.endpoints) && JSON.stringify(a.ports) === JSON.stringify(b.ports)
}

function differ(a: ServiceObjects, b: ServiceObjects): boolean {
  if (a.service === b.service && a.slices.length === b.slices.length && a.slices.every((s, i) => s === b.slices[i])) return false
  if ((a.service === undefined) !== (b.service === undefined) || a.slices.length !== b.slices.length) return true
  const objects = (o: ServiceObjects): { services: Service[]; endpointSlices: readonly EndpointSlice[] } => ({ services: o.service ? [o.service] : [], endpointSlices: o.slices })
  try {
    return changedServiceNames(objects(a), objects(b)).size > 0
  } catch {
    // An object the comparison cannot read counts as changed: the sync then isolates it.
    return true
  }
}
