/**
 * Removes Events whose last write is older than the event TTL (kube-apiserver --event-ttl,
 * default 1 h), which kube-apiserver does with etcd leases. A sweep runs every tenth of the TTL
 * (at most every minute); the rule itself is expiredEvents in event-series.ts.
 */
import { realTimers, type Clock, type Timers } from '../runtime/index.js'
import type { ObjectStore } from '../store/index.js'
import { resources, storage, type ControllerClient } from './api-client.js'
import { expiredEvents } from './event-series.js'
import { Periodic } from './periodic.js'

export const defaultEventTtlMs = 60 * 60_000

export interface EventExpiryOptions {
  readonly store: ObjectStore
  readonly client: ControllerClient
  readonly clock: Clock
  readonly ttlMs?: number
  readonly timers?: Timers
  readonly onError?: (controller: string, key: string, error: unknown) => void
}

export class EventExpiry {
  readonly #o: EventExpiryOptions
  readonly #periodic: Periodic

  constructor(opts: EventExpiryOptions) {
    this.#o = opts
    this.#periodic = new Periodic(() => this.sweep(), Math.max(100, Math.min(60_000, this.ttlMs / 10)), opts.timers ?? realTimers)
  }

  get ttlMs(): number {
    return this.#o.ttlMs ?? defaultEventTtlMs
  }

  start(): void {
    this.#periodic.start()
  }

  stop(): void {
    this.#periodic.stop()
  }

  /** Deletes the expired Events now; resolves when the deletes have finished. */
  async sweep(): Promise<void> {
    const events = this.#o.store.list(storage.events).items
    for (const e of expiredEvents(events, this.#o.clock.now(), this.ttlMs)) {
      try {
        await this.#o.client.delete(resources.coreEvents, e.metadata.namespace, e.metadata.name ?? '', { preconditions: { uid: e.metadata.uid ?? '' } })
      } catch (err) {
        // gone already, or rewritten since the list: the next sweep looks again
        if (!['NotFound', 'Conflict'].includes(String((err as { reason?: unknown }).reason))) this.#o.onError?.('event-ttl', `${e.metadata.namespace ?? ''}/${e.metadata.name ?? ''}`, err)
      }
    }
  }
}
