/**
 * The pure core of the event recorder: an events.k8s.io/v1 Event as a value, the key under which
 * repeats of one occurrence become a series (count and lastObservedTime) instead of new objects,
 * the per-object spam filter (client-go's token bucket: burst 25, one token per 5 minutes) and
 * the TTL rule that expires stored events. No clock and no I/O: times come in as arguments.
 */
import type { KubeObject } from '../api/index.js'
import type { KubeObject as StoredObject } from '../store/index.js'

export type EventType = 'Normal' | 'Warning'

/** The object an event is about, as an ObjectReference (regarding/involvedObject). */
export interface ObjectReference {
  readonly apiVersion?: string
  readonly kind: string
  readonly namespace?: string
  readonly name: string
  readonly uid?: string
  readonly resourceVersion?: string
  readonly fieldPath?: string
}

export interface EventSource {
  /** reportingController, e.g. "default-scheduler", "kubelet", "deployment-controller". */
  readonly controller: string
  /** reportingInstance, e.g. the node name of a kubelet. */
  readonly instance: string
  /** deprecatedSource.host: the node of a kubelet or kube-proxy. */
  readonly host?: string
}

export interface Occurrence {
  readonly regarding: ObjectReference
  readonly reason: string
  readonly note: string
  readonly type: EventType
  readonly action: string
}

export interface EventSeries {
  readonly count: number
  readonly lastObservedTime: string
}

/** An events.k8s.io/v1 Event. */
export interface EventV1 extends KubeObject {
  apiVersion: 'events.k8s.io/v1'
  kind: 'Event'
  eventTime: string
  series?: EventSeries
  reportingController: string
  reportingInstance: string
  action: string
  reason: string
  regarding: ObjectReference
  note: string
  type: EventType
  deprecatedSource?: { component: string; host?: string }
}

/** kube-apiserver's limit on note (message) length, in bytes. */
export const maxNoteBytes = 1024

/** metav1.MicroTime's RFC 3339 form with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

/** A reference to a stored object, as reference.GetReference builds it. */
export function referenceTo(o: StoredObject, fieldPath?: string): ObjectReference {
  return {
    ...(o.apiVersion ? { apiVersion: o.apiVersion } : {}), kind: o.kind ?? '', name: o.metadata.name ?? '',
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    ...(o.metadata.uid ? { uid: o.metadata.uid } : {}),
    ...(o.metadata.resourceVersion ? { resourceVersion: o.metadata.resourceVersion } : {}),
    ...(fieldPath ? { fieldPath } : {}),
  }
}

function truncateNote(note: string): string {
  const bytes = Buffer.from(note, 'utf8')
  if (bytes.length <= maxNoteBytes) return note
  // Cut on a character boundary: the decoder drops a partial trailing character as U+FFFD, removed here.
  return bytes.subarray(0, maxNoteBytes - 3).toString('utf8').replace(/\uFFFD$/, '') + '...'
}

/**
 * The Event for a first occurrence. Cluster-scoped objects' events live in "default", as
 * upstream's recorders put them; the name is the object's name and the time in hex nanoseconds.
 */
export function newEvent(o: Occurrence, source: EventSource, nowMs: number, sequence: number): EventV1 {
  const nanos = BigInt(nowMs) * 1_000_000n + BigInt(sequence % 1_000_000)
  return {
    apiVersion: 'events.k8s.io/v1', kind: 'Event',
    metadata: { name: `${o.regarding.name}.${nanos.toString(16)}`, namespace: o.regarding.namespace || 'default' },
    eventTime: microTime(nowMs),
    reportingController: source.controller, reportingInstance: source.instance,
    action: o.action, reason: o.reason, regarding: { ...o.regarding }, note: truncateNote(o.note), type: o.type,
    deprecatedSource: { component: source.controller, ...(source.host ? { host: source.host } : {}) },
  }
}

/** What makes two occurrences one series: the same object, reason, note, type, action and reporter. */
export function seriesKey(o: Occurrence, source: EventSource): string {
  const r = o.regarding
  return JSON.stringify([r.kind, r.namespace ?? '', r.name, r.uid ?? '', r.fieldPath ?? '', o.reason, o.note, o.type, o.action, source.controller, source.instance])
}

/** The first occurrence's Event after `count` observations, the last at `lastMs`: a series from 2 on. */
export function withSeries(e: EventV1, count: number, lastMs: number): EventV1 {
  return count <= 1 ? e : { ...e, series: { count, lastObservedTime: microTime(lastMs) } }
}

/** The event with one more observation: a series of 2 on the first repeat, then counting up. */
export function withRepeat(e: EventV1, nowMs: number): EventV1 {
  return withSeries(e, (e.series?.count ?? 1) + 1, nowMs)
}

/** The spam filter's bucket size and refill interval (client-go record: 25, 1/300 per second). */
export const spamBurst = 25
export const spamRefillMs = 300_000

interface Bucket {
  tokens: number
  atMs: number
}

/** client-go's spam filter keeps its buckets in an LRU cache of this many entries (maxLruCacheEntries). */
export const spamFilterEntries = 4096

/**
 * client-go's EventSourceObjectSpamFilter: per reporter and object, a token bucket; an event
 * that finds it empty is dropped. The buckets are an LRU of 4,096, as upstream's: an object not
 * heard from since 4,096 others starts with a full bucket again. (Kept for every object, they
 * were 270 bytes per pod at 100,000 pods.)
 */
export class SpamFilter {
  /** In least recently used first order: a used key is moved to the end. */
  readonly #buckets = new Map<string, Bucket>()

  allow(o: Occurrence, source: EventSource, nowMs: number): boolean {
    const r = o.regarding
    const key = JSON.stringify([source.controller, source.host ?? '', r.kind, r.namespace ?? '', r.name, r.uid ?? ''])
    const b = this.#buckets.get(key) ?? { tokens: spamBurst, atMs: nowMs }
    const refilled = Math.min(spamBurst, b.tokens + Math.max(0, nowMs - b.atMs) / spamRefillMs)
    const allowed = refilled >= 1
    this.#buckets.delete(key)
    this.#buckets.set(key, { tokens: allowed ? refilled - 1 : refilled, atMs: nowMs })
    if (this.#buckets.size > spamFilterEntries) this.#buckets.delete(this.#buckets.keys().next().value as string)
    return allowed
  }

  /** How many objects' buckets are kept. */
  get size(): number {
    return this.#buckets.size
  }
}

function parsed(v: unknown): number {
  const t = typeof v === 'string' ? Date.parse(v) : NaN
  return Number.isFinite(t) ? t : -Infinity
}

/**
 * When a stored (core/v1) Event was last written to, as far as its fields tell: kube-apiserver
 * renews an event's TTL on every write, and every write of a recorder moves one of these times.
 */
export function lastObserved(e: StoredObject): number {
  const series = e['series'] as { lastObservedTime?: unknown } | undefined
  return Math.max(parsed(series?.lastObservedTime), parsed(e['lastTimestamp']), parsed(e['eventTime']), parsed(e.metadata.creationTimestamp))
}

/** Events whose last write is older than the TTL (kube-apiserver --event-ttl). */
export function expiredEvents<T extends StoredObject>(events: readonly T[], nowMs: number, ttlMs: number): T[] {
  return events.filter((e) => nowMs - lastObserved(e) >= ttlMs)
}
