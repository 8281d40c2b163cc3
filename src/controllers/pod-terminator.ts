/**
 * Ends the grace period of terminating Pods: at metadata.deletionTimestamp a Pod that no kubelet
 * has removed yet is deleted for good (grace 0, uid precondition), as the pod garbage collector
 * would. Stateful shell: one timer per terminating Pod.
 */
import { objectKey, type Pod } from '../api/index.js'
import type { Clock } from '../runtime/index.js'
import type { ObjectStore, StoreEvent, WatchHandle } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { gracePeriodEnd } from './graceful-deletion.js'

export class PodTerminator {
  readonly #store: ObjectStore
  readonly #client: ControllerClient
  readonly #clock: Clock
  readonly #timers = new Map<string, NodeJS.Timeout>()
  #watch: WatchHandle | undefined

  readonly #onError: ((controller: string, key: string, error: unknown) => void) | undefined

  constructor(store: ObjectStore, client: ControllerClient, clock: Clock, onError?: (controller: string, key: string, error: unknown) => void) {
    this.#store = store
    this.#client = client
    this.#clock = clock
    this.#onError = onError
  }

  start(): void {
    this.#watch = this.#store.watch(storage.pods, { sinceResourceVersion: this.#store.resourceVersion }, (ev) => this.#isolated(ev.object as unknown as Pod, () => this.#onEvent(ev)))
    for (const p of this.#store.list(storage.pods).items) this.#isolated(p as unknown as Pod, () => this.#track(p as unknown as Pod))
  }

  /** One Pod's unreadable fields are reported with its key; the watch (which the store would drop) goes on. */
  #isolated(pod: Pod, fn: () => void): void {
    try {
      fn()
    } catch (e) {
      this.#onError?.('pod-terminator', objectKey(pod), e)
    }
  }

  stop(): void {
    this.#watch?.stop()
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
  }

  #onEvent(ev: StoreEvent): void {
    const pod = ev.object as unknown as Pod
    if (ev.type === 'DELETED') this.#forget(pod)
    else this.#track(pod)
  }

  #id(pod: Pod): string {
    return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}/${pod.metadata.uid ?? ''}`
  }

  #forget(pod: Pod): void {
    const id = this.#id(pod)
    const t = this.#timers.get(id)
    if (t) clearTimeout(t)
    this.#timers.delete(id)
  }

  #track(pod: Pod): void {
    const end = gracePeriodEnd(pod)
    if (end === undefined) return
    this.#forget(pod)
    const delay = Math.max(0, end - this.#clock.now())
    const t = setTimeout(() => {
      this.#timers.delete(this.#id(pod))
      this.#client.delete(resources.pods, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid ?? '' } })
        .catch(() => undefined) // already gone, or replaced by a Pod of the same name
    }, delay)
    t.unref?.()
    this.#timers.set(this.#id(pod), t)
  }
}
