/**
 * The pods/log subresource as kube-apiserver serves it (pkg/registry/core/pod/rest/log.go):
 * PodLogOptions read from the query and validated (422 on PodLogOptions), the container chosen
 * (required when the pod has several, upstream's wording), then the log streamed as text/plain
 * from the pod's node through the injected backend, for as long as the backend streams it
 * (`follow`) or until the client goes away, which ends the backend's stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { Pod } from '../api/index.js'
import type { ObjectStore } from '../store/index.js'
import { ApiError, badRequest, invalidKind, notFound, type StatusCause } from './api-error.js'
import type { ParsedPath, ResourceTarget } from './request-path.js'

/** What the node is asked for: one container's log, options already checked. */
export interface PodLogRequest {
  readonly container: string
  readonly follow: boolean
  readonly previous: boolean
  readonly timestamps: boolean
  /** Absolute, ms since the epoch (sinceSeconds is turned into this at request time). */
  readonly sinceMs?: number
  readonly tailLines?: number
  readonly limitBytes?: number
}

export interface PodLogPod {
  readonly namespace: string
  readonly name: string
  readonly uid: string
  readonly nodeName: string
}

/**
 * Reads container logs on the pod's node (a kubelet's job). `kpe up` wires one to its kubelets;
 * without one the subresource answers 503. Rejects with an ApiError (kubelet's 400s and 404s).
 */
export interface PodLogBackend {
  open(pod: PodLogPod, request: PodLogRequest): Promise<Readable>
}

/** pods/NAME/log in the core group. */
export function podLogTarget(p: ParsedPath): (ResourceTarget & { readonly namespace: string; readonly name: string }) | undefined {
  if (p.kind !== 'resource') return undefined
  const t = p.target
  if (t.info.group !== '' || t.info.resource !== 'pods' || t.subresource !== 'log' || t.namespace === undefined || t.name === undefined) return undefined
  return { ...t, namespace: t.namespace, name: t.name }
}

/** Go's strconv.ParseBool. */
function parseBool(params: URLSearchParams, key: string): boolean {
  const v = params.get(key)
  if (v === null || v === '') return false
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  throw badRequest(`${key}: invalid value ${JSON.stringify(v)}: must be a boolean`)
}

function parseInteger(params: URLSearchParams, key: string): number | undefined {
  const v = params.get(key)
  if (v === null || v === '') return undefined
  if (!/^[+-]?\d{1,15}$/.test(v)) throw badRequest(`${key}: invalid value ${JSON.stringify(v)}: must be an integer`)
  return Number(v)
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

export interface PodLogQuery {
  readonly container: string | undefined
  readonly follow: boolean
  readonly previous: boolean
  readonly timestamps: boolean
  readonly sinceSeconds?: number
  readonly sinceTimeMs?: number
  readonly tailLines?: number
  readonly limitBytes?: number
}

/** The query as PodLogOptions: 400 for what does not convert, 422 (ValidatePodLogOptions) for what is out of range. */
export function parsePodLogQuery(params: URLSearchParams, podName: string): PodLogQuery {
  const sinceTime = params.get('sinceTime')
  let sinceTimeMs: number | undefined
  if (sinceTime !== null && sinceTime !== '') {
    const ms = rfc3339.test(sinceTime) ? Date.parse(sinceTime) : NaN
    if (Number.isNaN(ms)) throw badRequest(`sinceTime: invalid value ${JSON.stringify(sinceTime)}: must be an RFC3339 time`)
    sinceTimeMs = ms
  }
  const q: PodLogQuery = {
    container: params.get('container') || undefined,
    follow: parseBool(params, 'follow'),
    previous: parseBool(params, 'previous'),
    timestamps: parseBool(params, 'timestamps'),
    ...optional('sinceSeconds', parseInteger(params, 'sinceSeconds')),
    ...optional('sinceTimeMs', sinceTimeMs),
    ...optional('tailLines', parseInteger(params, 'tailLines')),
    ...optional('limitBytes', parseInteger(params, 'limitBytes')),
  }
  const causes: StatusCause[] = []
  const bad = (field: string, value: number, message: string): void => { causes.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${value}: ${message}` }) }
  if (q.tailLines !== undefined && q.tailLines < 0) bad('tailLines', q.tailLines, 'must be greater than or equal to 0')
  if (q.limitBytes !== undefined && q.limitBytes < 1) bad('limitBytes', q.limitBytes, 'must be greater than 0')
  if (q.sinceSeconds !== undefined && q.sinceTimeMs !== undefined) causes.push({ reason: 'FieldValueForbidden', field: '', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' })
  if (q.sinceSeconds !== undefined && q.sinceSeconds < 1) bad('sinceSeconds', q.sinceSeconds, 'must be greater than 0')
  if (causes.length > 0) throw invalidKind('', 'PodLogOptions', podName, causes)
  return q
}

function optional<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V }
}

/** The container a request reads: the named one, or the only one (upstream's LogLocation). */
export function podLogContainer(pod: Pod, requested: string | undefined): string {
  const name = pod.metadata.name ?? ''
  const names = (list: readonly { name: string }[] | undefined): string[] => (list ?? []).map((c) => c.name)
  const containers = names(pod.spec.containers)
  const init = names(pod.spec['initContainers'] as { name: string }[] | undefined)
  if (requested === undefined) {
    if (containers.length === 1) return containers[0]!
    if (containers.length === 0) throw badRequest(`no containers in pod ${name}`)
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${init.length > 0 ? ` or one of the init containers: [${init.join(' ')}]` : ''}`)
  }
  if (!containers.includes(requested) && !init.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`)
  return requested
}

export interface PodLogDeps {
  readonly store: ObjectStore
  readonly backend: PodLogBackend | undefined
  readonly now: () => number
}

export async function handlePodLog(req: IncomingMessage, res: ServerResponse, target: ResourceTarget & { readonly namespace: string; readonly name: string }, params: URLSearchParams, deps: PodLogDeps): Promise<void> {
  if (req.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', `${req.method ?? ''} is not supported on pods/log`)
  const query = parsePodLogQuery(params, target.name)
  const pod = deps.store.get({ resource: 'pods', namespace: target.namespace, name: target.name }) as Pod | undefined
  if (!pod) throw notFound(target.info, target.name)
  const container = podLogContainer(pod, query.container)
  const nodeName = pod.spec.nodeName
  res.setHeader('Content-Type', 'text/plain')
  // Not scheduled: no node to ask, and upstream streams an empty log.
  if (!nodeName) {
    res.writeHead(200)
    res.end()
    return
  }
  if (!deps.backend) throw new ApiError(503, 'ServiceUnavailable', `no kubelet answers for node ${nodeName}`)
  const sinceMs = query.sinceSeconds !== undefined ? deps.now() - query.sinceSeconds * 1000 : query.sinceTimeMs
  const stream = await deps.backend.open(
    { namespace: target.namespace, name: target.name, uid: pod.metadata.uid ?? '', nodeName },
    { container, follow: query.follow, previous: query.previous, timestamps: query.timestamps, ...optional('sinceMs', sinceMs), ...optional('tailLines', query.tailLines), ...optional('limitBytes', query.limitBytes) },
  )
  // The client leaving ends the node's stream (its follower is removed there).
  res.once('close', () => stream.destroy())
  stream.once('error', () => res.destroy())
  res.writeHead(200)
  res.flushHeaders()
  stream.pipe(res)
}
