/**
 * Watch streams over any transport (chunked HTTP or WebSocket, see WatchSink): initial ADDED
 * events for resourceVersion 0/absent, replay from a resourceVersion, selector transitions
 * (an object leaving the selector is DELETED), BOOKMARKs, timeoutSeconds, and 410 Expired as
 * an ERROR event.
 */
import { isStoreError, type KubeObject, type ObjectStore, type StoreEvent } from '../store/index.js'
import { badRequest, expired } from './api-error.js'
import { storageResource, apiVersionOf, type ResourceInfo } from './resources.js'
import { matchesFilter, type ObjectFilter } from './selectors.js'
import { buildTable, type IncludeObject } from './tables.js'

export interface WatchSink {
  send(event: unknown): void
  end(): void
  onClose(cb: () => void): void
}

export interface WatchRequest {
  readonly info: ResourceInfo
  readonly namespace: string | undefined
  readonly filter: ObjectFilter
  readonly resourceVersion: string | null
  readonly allowBookmarks: boolean
  readonly timeoutSeconds: number | undefined
  readonly table: { readonly includeObject: IncludeObject } | undefined
}

export interface WatchDeps {
  readonly store: ObjectStore
  readonly now: () => number
  readonly bookmarkIntervalMs: number
}

export function parseWatchRequest(info: ResourceInfo, namespace: string | undefined, filter: ObjectFilter, q: URLSearchParams,
  table: WatchRequest['table']): WatchRequest {
  const t = q.get('timeoutSeconds')
  const timeoutSeconds = t === null ? undefined : Number(t)
  if (timeoutSeconds !== undefined && (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0)) throw badRequest(`invalid timeoutSeconds: ${t}`)
  const rv = q.get('resourceVersion')
  if (rv !== null && rv !== '' && !/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${rv}`)
  return { info, namespace, filter, resourceVersion: rv === '' ? null : rv, allowBookmarks: q.get('allowWatchBookmarks') === 'true', timeoutSeconds, table }
}

function objectKeyString(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`
}

export function startWatch(deps: WatchDeps, req: WatchRequest, sink: WatchSink): void {
  const resource = storageResource(req.info)
  const encode = (type: string, o: KubeObject): unknown => ({
    type,
    object: req.table ? buildTable(req.info, [o], { now: deps.now(), includeObject: req.table.includeObject }) : o,
  })
  const matching = new Set<string>()
  const current = deps.store.list(resource, req.namespace === undefined ? {} : { namespace: req.namespace })
  const fresh = req.resourceVersion === null || req.resourceVersion === '0'
  for (const o of current.items) {
    if (!matchesFilter(req.filter, o)) continue
    matching.add(objectKeyString(o))
    if (fresh) sink.send(encode('ADDED', o))
  }
  const onEvent = (ev: StoreEvent): void => {
    const k = objectKeyString(ev.object)
    const matches = matchesFilter(req.filter, ev.object)
    const was = matching.has(k)
    if (ev.type === 'DELETED') {
      if (matches || was) sink.send(encode('DELETED', ev.object))
      matching.delete(k)
      return
    }
    if (matches) {
      sink.send(encode(ev.type === 'ADDED' || !was ? 'ADDED' : 'MODIFIED', ev.object))
      matching.add(k)
    } else if (was) {
      sink.send(encode('DELETED', ev.object))
      matching.delete(k)
    }
  }
  let handle: { stop(): void }
  try {
    const since = fresh ? current.resourceVersion : Number(req.resourceVersion)
    handle = deps.store.watch(resource, { ...(req.namespace === undefined ? {} : { namespace: req.namespace }), sinceResourceVersion: since }, onEvent)
  } catch (e) {
    if (!isStoreError(e, 'Expired')) throw e
    sink.send({ type: 'ERROR', object: expired(e.message).toStatus() })
    sink.end()
    return
  }
  const timers: NodeJS.Timeout[] = []
  if (req.allowBookmarks) {
    timers.push(setInterval(() => sink.send({
      type: 'BOOKMARK',
      object: { kind: req.info.kind, apiVersion: apiVersionOf(req.info), metadata: { resourceVersion: String(deps.store.resourceVersion) } },
    }), deps.bookmarkIntervalMs))
  }
  if (req.timeoutSeconds !== undefined) timers.push(setTimeout(() => sink.end(), req.timeoutSeconds * 1000))
  sink.onClose(() => {
    handle.stop()
    for (const t of timers) clearTimeout(t)
  })
}
