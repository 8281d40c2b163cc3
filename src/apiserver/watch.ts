/**
 * Watch streams over any transport (chunked HTTP or WebSocket, see WatchSink): initial ADDED
 * events for resourceVersion 0/absent, replay from a resourceVersion, selector transitions
 * (an object leaving the selector is DELETED), BOOKMARKs, timeoutSeconds, and 410 Expired as
 * an ERROR event, both for a resourceVersion too old and for a watcher too slow to keep up.
 * WatchList (sendInitialEvents=true) ends its initial events with the `k8s.io/initial-events-end` BOOKMARK.
 */
import { objectKey, storageResource, apiVersionOf, type ResourceInfo } from '../api/index.js'
import { isStoreError, type KubeObject, type ObjectStore, type StoreEvent } from '../store/index.js'
import { badRequest, expired } from './api-error.js'
import { queryBool, validateListOptions } from './list-options.js'
import { matchesFilter, type ObjectFilter } from './selectors.js'
import { servedAs } from './versions/conversion.js'
import { buildTable, type IncludeObject } from './tables.js'

export interface WatchSink {
  send(event: unknown): void
  end(): void
  /**
   * The watcher fell behind: send this last event, end, and drop the connection if the client
   * does not read it within a short grace, so what it left unread is freed.
   */
  abandon(event: unknown): void
  onClose(cb: () => void): void
  /** Bytes accepted by send() that have not reached the client's socket yet. */
  backlog(): number
}

/** How long an abandoned watcher may take to read its last event before its connection is dropped. */
export const abandonGraceMs = 5_000

export interface WatchRequest {
  readonly info: ResourceInfo
  readonly namespace: string | undefined
  readonly filter: ObjectFilter
  readonly resourceVersion: string | null
  readonly allowBookmarks: boolean
  /**
   * WatchList: true sends the current state as ADDED events whatever the resourceVersion, false
   * sends none; undefined keeps the legacy rule (initial events only for resourceVersion 0 or unset).
   */
  readonly sendInitialEvents: boolean | undefined
  readonly timeoutSeconds: number | undefined
  readonly table: { readonly includeObject: IncludeObject } | undefined
}

export interface WatchDeps {
  readonly store: ObjectStore
  readonly now: () => number
  readonly bookmarkIntervalMs: number
  /**
   * Bytes a watcher may leave unread beyond what it was sent at the start (initial list and
   * replay). A watcher past it is closed with a 410 Expired ERROR event and re-lists, as
   * kube-apiserver closes a watcher whose buffer is full.
   */
  readonly maxBufferBytes: number
}

/** Default of WatchDeps.maxBufferBytes (`kpe up --watch-buffer-bytes`). */
export const defaultWatchBufferBytes = 8 * 1024 * 1024

export function parseWatchRequest(info: ResourceInfo, namespace: string | undefined, filter: ObjectFilter, q: URLSearchParams,
  table: WatchRequest['table']): WatchRequest {
  validateListOptions(q)
  const t = q.get('timeoutSeconds')
  const timeoutSeconds = t === null ? undefined : Number(t)
  if (timeoutSeconds !== undefined && (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0)) throw badRequest(`invalid timeoutSeconds: ${t}`)
  const rv = q.get('resourceVersion')
  if (rv !== null && rv !== '' && !/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${rv}`)
  return {
    info, namespace, filter, resourceVersion: rv === '' ? null : rv, allowBookmarks: queryBool(q, 'allowWatchBookmarks') === true,
    sendInitialEvents: queryBool(q, 'sendInitialEvents'), timeoutSeconds, table,
  }
}

/** Marks the BOOKMARK that ends a WatchList's initial events. */
export const initialEventsEndAnnotation = 'k8s.io/initial-events-end'

export function startWatch(deps: WatchDeps, req: WatchRequest, sink: WatchSink): void {
  const resource = storageResource(req.info)
  const encode = (type: string, o: KubeObject): unknown => ({
    type,
    object: req.table ? buildTable(req.info, [servedAs(req.info, o)], { now: deps.now(), includeObject: req.table.includeObject }) : servedAs(req.info, o),
  })
  const matching = new Set<string>()
  const timers: NodeJS.Timeout[] = []
  let handle: { stop(): void } | undefined
  let isStopped = false
  const stop = (): void => {
    isStopped = true
    handle?.stop()
    for (const t of timers) clearTimeout(t)
  }
  // No bound while the initial list and the replay go out: they are as large as the state, once.
  let allowance = Number.POSITIVE_INFINITY
  // Checked before each event: what the client left unread of the earlier ones, not the one just queued.
  const send = (ev: unknown): void => {
    if (isStopped) return
    if (sink.backlog() > allowance) {
      stop()
      sink.abandon({ type: 'ERROR', object: expired(`watch of ${req.info.resource} closed: the client left more than ${deps.maxBufferBytes} bytes unread; list and watch again`).toStatus() })
      return
    }
    sink.send(ev)
  }
  const bookmark = (resourceVersion: number, annotations?: Record<string, string>): unknown => ({
    type: 'BOOKMARK',
    object: { kind: req.info.kind, apiVersion: apiVersionOf(req.info), metadata: { resourceVersion: String(resourceVersion), ...(annotations ? { annotations } : {}) } },
  })
  const current = deps.store.list(resource, req.namespace === undefined ? {} : { namespace: req.namespace })
  const isLegacyFresh = req.resourceVersion === null || req.resourceVersion === '0'
  const sendsInitialEvents = req.sendInitialEvents ?? isLegacyFresh
  // With sendInitialEvents=false and no resourceVersion, the watch starts at the current state.
  const startsNow = isLegacyFresh || req.sendInitialEvents === true
  for (const o of current.items) {
    if (!matchesFilter(req.filter, o)) continue
    matching.add(objectKey(o))
    if (sendsInitialEvents) send(encode('ADDED', o))
  }
  if (req.sendInitialEvents === true && req.allowBookmarks) send(bookmark(current.resourceVersion, { [initialEventsEndAnnotation]: 'true' }))
  const onEvent = (ev: StoreEvent): void => {
    const k = objectKey(ev.object)
    const matches = matchesFilter(req.filter, ev.object)
    const was = matching.has(k)
    if (ev.type === 'DELETED') {
      if (matches || was) send(encode('DELETED', ev.object))
      matching.delete(k)
      return
    }
    if (matches) {
      send(encode(ev.type === 'ADDED' || !was ? 'ADDED' : 'MODIFIED', ev.object))
      matching.add(k)
    } else if (was) {
      send(encode('DELETED', ev.object))
      matching.delete(k)
    }
  }
  try {
    const since = startsNow ? current.resourceVersion : Number(req.resourceVersion)
    handle = deps.store.watch(resource, { ...(req.namespace === undefined ? {} : { namespace: req.namespace }), sinceResourceVersion: since }, onEvent)
  } catch (e) {
    if (!isStoreError(e, 'Expired')) throw e
    sink.send({ type: 'ERROR', object: expired(e.message).toStatus() })
    sink.end()
    return
  }
  if (isStopped) handle.stop()
  allowance = deps.maxBufferBytes + sink.backlog()
  if (req.allowBookmarks) {
    timers.push(setInterval(() => send(bookmark(deps.store.resourceVersion)), deps.bookmarkIntervalMs))
  }
  if (req.timeoutSeconds !== undefined) timers.push(setTimeout(() => sink.end(), req.timeoutSeconds * 1000))
  sink.onClose(stop)
}
