/**
 * HTTP verbs on resource paths: list/get (JSON or Table), watch, POST, PUT, PATCH, DELETE and
 * deletecollection, including the status, scale, eviction and binding subresources. Decoding and encoding only;
 * the decisions live in writes.ts, patch-request.ts and watch.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { messageForKind, allowsVerb, apiVersionOf, storageResource, type Verb } from '../api/index.js'
import type { KubeObject } from '../store/index.js'
import { badRequest, createdStatus, methodNotAllowed, pathNotFound, verbNotSupported } from './api-error.js'
import { withBodyDryRun } from './delete-dry-run.js'
import { evictPod } from './eviction.js'
import { bindPod, parseBinding } from './pod-binding.js'
import { servedAs } from './versions/conversion.js'
import { decodeWriteBody } from './field-validation.js'
import { decodeBody, decodeObjectBody, mediaType, protobufType, readBody, sendJson, sendObject, tableContentType, wantsProtobuf, wantsTable } from './http-io.js'
import { isWatchRequest, validateListOptions } from './list-options.js'
import { sendList } from './list-response.js'
import { isPlainObject } from './patch/index.js'
import { patchObject, patchTypeOf } from './patch-request.js'
import type { ResourceTarget } from './request-path.js'
import { replicasOf, scaleOf, withReplicas } from './scale.js'
import { matchesFilter, parseFilter } from './selectors.js'
import { buildTable, parseIncludeObject } from './tables.js'
import { abandonGraceMs, parseWatchRequest, startWatch, type WatchDeps, type WatchSink } from './watch.js'
import { jsonWatchFrame, protobufWatchFrame, type WatchFrame } from './watch-frames.js'
import {
  createObject, deleteObject, getExisting, normalizeBody, retryOnConflict, updateObject,
  type DeleteOptions, type WriteDeps, type WriteResult,
} from './writes.js'

export interface HandlerDeps extends WriteDeps {
  readonly watch: WatchDeps
}

function requireVerb(t: ResourceTarget, verb: Verb): void {
  if (!allowsVerb(t.info, verb)) throw verbNotSupported(t.info, verb, t.subresource)
}

function checkSubresource(t: ResourceTarget): void {
  if (t.subresource !== undefined && !t.info.subresources.includes(t.subresource as never)) throw pathNotFound()
}

function sendReadObject(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps, t: ResourceTarget, code: number, stored: KubeObject, q: URLSearchParams): void {
  const o = servedAs(t.info, stored)
  if (wantsTable(req) && t.subresource !== 'scale') {
    sendJson(res, code, buildTable(t.info, [o], { now: deps.clock.now(), includeObject: parseIncludeObject(q.get('includeObject')) }), tableContentType)
  } else sendObject(req, res, code, o)
}

function sendWrite(req: IncomingMessage, res: ServerResponse, t: ResourceTarget, code: number, r: WriteResult): void {
  if (r.warnings.length > 0) res.setHeader('Warning', r.warnings.map((w) => `299 - ${JSON.stringify(w)}`))
  sendObject(req, res, code, servedAs(t.info, r.object))
}

export function listObjects(deps: HandlerDeps, t: ResourceTarget, q: URLSearchParams): { items: KubeObject[]; resourceVersion: number } {
  const filter = parseFilter(q, t.info)
  const namespace = t.info.namespaced ? t.namespace : undefined
  const result = deps.store.list(storageResource(t.info), namespace === undefined ? {} : { namespace })
  return { items: result.items.filter((o) => matchesFilter(filter, o)).map((o) => servedAs(t.info, o)), resourceVersion: result.resourceVersion }
}

export function httpWatchSink(res: ServerResponse, contentType: string, frame: WatchFrame = jsonWatchFrame): WatchSink {
  res.writeHead(200, { 'Content-Type': contentType, 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' })
  res.flushHeaders()
  return {
    send: (ev) => { res.write(frame(ev)) },
    end: () => { res.end() },
    abandon: (ev) => {
      // The connection ends with the stream: a keep-alive client would otherwise wait on it.
      const socket = res.socket
      res.end(frame(ev), () => socket?.end())
      const drop = setTimeout(() => res.destroy(), abandonGraceMs)
      res.once('close', () => clearTimeout(drop))
    },
    // req 'close' fires once the body is read; only the response's close means the client left
    onClose: (cb) => { res.on('close', cb) },
    // The response's own buffer, plus the socket's: a client that stops reading fills the socket's first.
    backlog: () => res.writableLength + (res.socket?.writableLength ?? 0),
  }
}

export function watchParams(req: IncomingMessage, t: ResourceTarget, q: URLSearchParams): ReturnType<typeof parseWatchRequest> {
  const table = wantsTable(req) ? { includeObject: parseIncludeObject(q.get('includeObject')) } : undefined
  return parseWatchRequest(t.info, t.info.namespaced ? t.namespace : undefined, parseFilter(q, t.info), q, table)
}

async function handleGet(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps, t: ResourceTarget, q: URLSearchParams): Promise<void> {
  const isWatch = isWatchRequest(q)
  if (t.name === undefined) {
    if (isWatch) {
      requireVerb(t, 'watch')
      const params = watchParams(req, t, q)
      const isProtobuf = !params.table && wantsProtobuf(req) && messageForKind(apiVersionOf(t.info), t.info.kind) !== undefined
      const sink = params.table ? httpWatchSink(res, tableContentType)
        : isProtobuf ? httpWatchSink(res, `${protobufType};stream=watch`, protobufWatchFrame) : httpWatchSink(res, 'application/json')
      startWatch(deps.watch, params, sink)
      return
    }
    requireVerb(t, 'list')
    validateListOptions(q)
    const { items, resourceVersion } = listObjects(deps, t, q)
    if (wantsTable(req)) {
      sendJson(res, 200, buildTable(t.info, items, { now: deps.clock.now(), includeObject: parseIncludeObject(q.get('includeObject')), resourceVersion: String(resourceVersion) }), tableContentType)
    } else {
      await sendList(res, { kind: `${t.info.kind}List`, apiVersion: apiVersionOf(t.info), metadata: { resourceVersion: String(resourceVersion) } }, items, { protobuf: wantsProtobuf(req) })
    }
    return
  }
  requireVerb(t, 'get')
  const o = getExisting(deps, t, t.name)
  sendReadObject(req, res, deps, t, 200, t.subresource === 'scale' ? scaleOf(o, t.info.custom?.scale) : o, q)
}

async function handlePut(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps, t: ResourceTarget, q: URLSearchParams): Promise<void> {
  requireVerb(t, 'update')
  const name = t.name ?? ''
  const body = decodeObjectBody(await readBody(req), mediaType(req))
  const pinned = isPlainObject(body['metadata']) && typeof body['metadata']['resourceVersion'] === 'string' && body['metadata']['resourceVersion'] !== ''
    ? body['metadata']['resourceVersion'] : undefined
  if (t.subresource === 'scale') {
    const replicas = replicasOf(decodeWriteBody(t.info, body, 'Ignore', { apiVersion: 'autoscaling/v1', kind: 'Scale' }).object)
    const result = await retryOnConflict(deps, async () => {
      const old = getExisting(deps, t, name)
      return { result: await updateObject(deps, { ...t, subresource: undefined }, old, withReplicas(old, replicas, t.info.custom?.scale), q, { pinnedVersion: pinned, managerSubresource: 'scale' }) }
    })
    sendObject(req, res, 200, scaleOf(result.object, t.info.custom?.scale))
    return
  }
  const old = getExisting(deps, t, name)
  const incoming = normalizeBody(t, body)
  const result = await updateObject(deps, t, old, incoming, q, { pinnedVersion: pinned })
  sendWrite(req, res, t, 200, result)
}

/** gracePeriodSeconds from the body, else from the query (kubectl sends both forms). */
function gracePeriodOf(body: Record<string, unknown>, q: URLSearchParams): { gracePeriodSeconds?: number } {
  const fromBody = body['gracePeriodSeconds']
  const fromQuery = q.get('gracePeriodSeconds')
  const v = typeof fromBody === 'number' ? fromBody : fromQuery !== null && /^-?\d+$/.test(fromQuery) ? Number(fromQuery) : undefined
  return v === undefined ? {} : { gracePeriodSeconds: Math.max(0, v) }
}

/** The DELETE body's options, and the query with the body's dryRun folded in. */
function parseDeleteOptions(t: ResourceTarget, buf: Buffer, type: string, q: URLSearchParams): { opts: DeleteOptions; query: URLSearchParams } {
  if (buf.length === 0) return { opts: gracePeriodOf({}, q), query: q }
  const raw = decodeBody(buf, type)
  if (!isPlainObject(raw)) throw badRequest('DeleteOptions must be an object')
  const body = decodeWriteBody(t.info, raw, 'Ignore', { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' }).object
  return { opts: deleteOptionsOf(body, q), query: withBodyDryRun(body, q) }
}

/** DeleteOptions from a decoded body (a DELETE's, or an Eviction's deleteOptions) and the query. */
export function deleteOptionsOf(body: Record<string, unknown>, q: URLSearchParams): DeleteOptions {
  const policy = body['propagationPolicy']
  const pre = isPlainObject(body['preconditions']) ? body['preconditions'] : undefined
  return {
    ...gracePeriodOf(body, q),
    ...(policy === 'Orphan' || policy === 'Background' || policy === 'Foreground' ? { propagationPolicy: policy } : {}),
    ...(pre ? { preconditions: { ...(typeof pre['uid'] === 'string' ? { uid: pre['uid'] } : {}), ...(typeof pre['resourceVersion'] === 'string' ? { resourceVersion: pre['resourceVersion'] } : {}) } } : {}),
  }
}

async function handleDelete(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps, t: ResourceTarget, query: URLSearchParams): Promise<void> {
  const { opts, query: q } = parseDeleteOptions(t, await readBody(req), mediaType(req), query)
  if (t.name === undefined) {
    requireVerb(t, 'deletecollection')
    const { items, resourceVersion } = listObjects(deps, t, q)
    for (const o of items) await deleteObject(deps, t, o.metadata.name ?? '', opts, q).catch(() => undefined)
    sendObject(req, res, 200, { kind: `${t.info.kind}List`, apiVersion: apiVersionOf(t.info), metadata: { resourceVersion: String(resourceVersion) }, items })
    return
  }
  requireVerb(t, 'delete')
  sendObject(req, res, 200, servedAs(t.info, await deleteObject(deps, t, t.name, opts, q)))
}

/** pods/NAME/eviction takes only POST (create), as kube-apiserver serves it. */
async function handleEviction(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps, t: ResourceTarget, q: URLSearchParams): Promise<void> {
  if (req.method !== 'POST' || t.name === undefined) throw verbNotSupported(t.info, req.method === 'GET' ? 'get' : (req.method ?? '').toLowerCase(), t.subresource)
  const body = decodeObjectBody(await readBody(req), mediaType(req))
  sendObject(req, res, 201, await evictPod(deps, t, t.name, body, q, (raw) => deleteOptionsOf(raw, q)))
}

/**
 * POST pods/NAME/binding, or POST namespaces/NS/bindings (deprecated: the Pod's name is the
 * Binding's). Any other verb on pods/binding is 405, as kube-apiserver serves it.
 */
async function handleBinding(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps, t: ResourceTarget, q: URLSearchParams): Promise<void> {
  const isSubresource = t.subresource === 'binding'
  if (isSubresource && (req.method !== 'POST' || t.name === undefined)) throw verbNotSupported(t.info, req.method === 'GET' ? 'get' : (req.method ?? '').toLowerCase(), t.subresource)
  const body = decodeObjectBody(await readBody(req), mediaType(req))
  const namespace = t.namespace ?? ''
  await bindPod(deps, namespace, parseBinding(body, namespace, isSubresource ? t.name : undefined, q), q)
  sendObject(req, res, 201, createdStatus())
}

const isLegacyBindingPost = (req: IncomingMessage, t: ResourceTarget): boolean =>
  req.method === 'POST' && t.info.group === '' && t.info.resource === 'bindings' && t.name === undefined && t.subresource === undefined

export async function handleResource(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps, t: ResourceTarget, q: URLSearchParams): Promise<void> {
  checkSubresource(t)
  if (t.info.namespaced && t.namespace === undefined && req.method !== 'GET') throw methodNotAllowed('namespaced resources are written through /namespaces/{namespace}/…')
  if (t.subresource === 'eviction') return handleEviction(req, res, deps, t, q)
  if (t.subresource === 'binding' || isLegacyBindingPost(req, t)) return handleBinding(req, res, deps, t, q)
  switch (req.method) {
    case 'GET': return handleGet(req, res, deps, t, q)
    case 'POST': {
      if (t.name !== undefined) throw methodNotAllowed()
      requireVerb(t, 'create')
      const body = decodeObjectBody(await readBody(req), mediaType(req))
      sendWrite(req, res, t, 201, await createObject(deps, t, body, q))
      return
    }
    case 'PUT':
      if (t.name === undefined) throw methodNotAllowed()
      return handlePut(req, res, deps, t, q)
    case 'PATCH': {
      if (t.name === undefined) throw methodNotAllowed()
      requireVerb(t, 'patch')
      const { result, created } = await patchObject(deps, t, t.name, patchTypeOf(mediaType(req), t.info.custom !== undefined), await readBody(req), q)
      if (t.subresource === 'scale') sendObject(req, res, 200, scaleOf(result.object, t.info.custom?.scale))
      else sendWrite(req, res, t, created ? 201 : 200, result)
      return
    }
    case 'DELETE': return handleDelete(req, res, deps, t, q)
    default: throw methodNotAllowed()
  }
}

