/**
 * The event recorder every component shares (client-go's event broadcaster): components record
 * occurrences, the broadcaster turns them into events.k8s.io/v1 Events, folds repeats within the
 * series window into the first Event's series (one update, not a new object), drops what the
 * spam filter refuses, and writes in the background: recording never blocks or throws.
 */
import type { KubeObject } from '../store/index.js'
import type { Clock } from '../runtime/index.js'
import { resources, type ControllerClient } from './api-client.js'
import {
  newEvent, referenceTo, seriesKey, SpamFilter, withSeries,
  type EventSource, type EventType, type EventV1, type ObjectReference, type Occurrence,
} from './event-series.js'

/** What a component calls; `regarding` is the object itself or a reference to it. */
export interface EventRecorder {
  recordEvent(regarding: KubeObject | ObjectReference, reason: string, note: string, type?: EventType, action?: string): void
}

/** A recorder that records nothing, for components started without a broadcaster. */
export const discardEvents: EventRecorder = { recordEvent: () => undefined }

/** How long repeats join a series (client-go events: a series is finished after 6 minutes). */
export const seriesWindowMs = 6 * 60_000

/**
 * A series as the broadcaster remembers it for the series window: the occurrence and when it
 * began, not the Event object, which is rebuilt for each write (eventOf). A whole Event per
 * occurrence was 1.2 KB per scheduled pod at 100,000 pods.
 */
interface SeriesEntry {
  readonly occurrence: Occurrence
  readonly source: EventSource
  readonly firstMs: number
  readonly sequence: number
  count: number
  lastMs: number
  /** The Event exists in the API (created), so repeats update it. */
  stored: boolean
  writing: boolean
  /** A newer state than the one written is waiting. */
  dirty: boolean
}

export interface EventBroadcasterOptions {
  readonly client: ControllerClient
  readonly clock: Clock
  readonly onError?: (message: string) => void
}

function isObject(r: KubeObject | ObjectReference): r is KubeObject {
  return typeof (r as KubeObject).metadata === 'object'
}

/** Below this many series the map is swept on every event, as before (small clusters, tests). */
const sweepFloor = 256

/** The Event of a series as it stands: the first occurrence's Event, with a series from the second on. */
function eventOf(e: SeriesEntry): EventV1 {
  return withSeries(newEvent(e.occurrence, e.source, e.firstMs, e.sequence), e.count, e.lastMs)
}

function isFinished(e: SeriesEntry, now: number): boolean {
  return now - e.lastMs > seriesWindowMs && !e.writing
}

export class EventBroadcaster {
  readonly #o: EventBroadcasterOptions
  readonly #series = new Map<string, SeriesEntry>()
  readonly #spam = new SpamFilter()
  readonly #pending = new Set<Promise<void>>()
  #sequence = 0
  #stopped = false
  #sweepAt = sweepFloor

  constructor(opts: EventBroadcasterOptions) {
    this.#o = opts
  }

  /** A recorder reporting as `source` (reportingController/reportingInstance). */
  recorderFor(source: EventSource): EventRecorder {
    return {
      recordEvent: (regarding, reason, note, type = 'Normal', action = reason) => {
        try {
          const ref = isObject(regarding) ? referenceTo(regarding) : regarding
          this.#record({ regarding: ref, reason, note, type, action }, source)
        } catch (e) {
          this.#fail(`event ${reason}: ${e instanceof Error ? e.message : String(e)}`)
        }
      },
    }
  }

  /** Resolves when every write started so far has finished. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending])
  }

  stop(): void {
    this.#stopped = true
  }

  #record(o: Occurrence, source: EventSource): void {
    if (this.#stopped) return
    const now = this.#o.clock.now()
    if (!this.#spam.allow(o, source, now)) return
    this.#forgetFinished(now)
    const key = seriesKey(o, source)
    const entry = this.#series.get(key)
    if (entry && isFinished(entry, now)) this.#series.delete(key)
    if (entry && !isFinished(entry, now)) {
      entry.count++
      entry.lastMs = now
      entry.dirty = true
    } else {
      this.#series.set(key, { occurrence: o, source, firstMs: now, sequence: this.#sequence++, count: 1, lastMs: now, stored: false, writing: false, dirty: true })
    }
    this.#write(key)
  }

  /**
   * Drops finished series, sweeping only when the map has doubled since the last sweep: a sweep
   * per event was quadratic (100,000 pods scheduled, one event each). A finished entry found
   * before a sweep starts a new series, as if it were gone.
   */
  #forgetFinished(now: number): void {
    if (this.#series.size <= this.#sweepAt) return
    for (const [k, e] of this.#series) if (isFinished(e, now)) this.#series.delete(k)
    this.#sweepAt = Math.max(sweepFloor, this.#series.size * 2)
  }

  /** One write per series at a time; a repeat during a write is written after it, coalesced. */
  #write(key: string): void {
    const entry = this.#series.get(key)
    if (!entry || entry.writing || !entry.dirty) return
    entry.writing = true
    entry.dirty = false
    const event = eventOf(entry)
    const p = (entry.stored ? this.#o.client.update(resources.events, event) : this.#o.client.create(resources.events, event))
      .then(() => { entry.stored = true }, (e: unknown) => {
        // A lost update of a series is not retried: the next repeat writes the current count.
        // A series whose Event was deleted (TTL) starts over as a new Event.
        if (entry.stored && String((e as { reason?: unknown }).reason) === 'NotFound') this.#series.delete(key)
        this.#fail(`event ${event.reason} for ${event.regarding.kind} ${event.regarding.namespace ? `${event.regarding.namespace}/` : ''}${event.regarding.name}: ${e instanceof Error ? e.message : String(e)}`)
      })
      .finally(() => {
        entry.writing = false
        this.#pending.delete(p)
        if (!this.#stopped) this.#write(key)
      })
    this.#pending.add(p)
  }

  #fail(message: string): void {
    try {
      this.#o.onError?.(message)
    } catch {
      // a failing reporter must not break recording
    }
  }
}
