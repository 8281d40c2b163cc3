/**
 * An in-process client for controllers and bootstrap code: the same write pipeline as HTTP
 * requests (system metadata, defaulting, admission hooks, validation, one transaction), without
 * sockets. Reads go straight to the store. Errors are the ApiErrors an HTTP client would see.
 */
import type { KubeObject, ObjectStore } from '../store/index.js'
import type { AdmissionHook } from './admission.js'
import { badRequest } from './api-error.js'
import type { Clock } from '../runtime/index.js'
import type { IdSource } from './object-meta.js'
import { patchObject } from './patch-request.js'
import { builtInCatalogue, type Binding, type ResourceCatalogue, type ResourceInfo } from '../api/index.js'
import { bindPod, parseBinding } from './pod-binding.js'
import { createObject, deleteObject, getExisting, updateObject, type WriteDeps, type WriteTarget } from './writes.js'

export interface LocalClientOptions {
  readonly store: ObjectStore
  readonly clock: Clock
  readonly ids: IdSource
  readonly admissionHooks: readonly AdmissionHook[]
  /** Recorded as the field manager of every write. */
  readonly fieldManager?: string
  /** Where apply looks kinds up; the API server's own catalogue lets it write custom resources. */
  readonly catalogue?: ResourceCatalogue
  /** The API server's garbage collector entry (ApiServer.garbageCollector.deps.afterDelete), so deletions cascade as over HTTP. */
  readonly afterDelete?: WriteDeps['afterDelete']
}

export interface LocalDeleteOptions {
  readonly propagationPolicy?: 'Orphan' | 'Background' | 'Foreground'
  readonly gracePeriodSeconds?: number
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string }
}

export class LocalApiClient {
  readonly #deps: WriteDeps
  readonly #manager: string
  readonly #catalogue: ResourceCatalogue

  constructor(opts: LocalClientOptions) {
    this.#deps = { store: opts.store, clock: opts.clock, ids: opts.ids, hooks: opts.admissionHooks, ...(opts.catalogue ? { catalogue: opts.catalogue } : {}), ...(opts.afterDelete ? { afterDelete: opts.afterDelete } : {}) }
    this.#manager = opts.fieldManager ?? 'kpe-controller-manager'
    this.#catalogue = opts.catalogue ?? builtInCatalogue
  }

  /** The served resource of a kind, as the catalogue knows it now. */
  findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
    return this.#catalogue.findByKind(apiVersion, kind)
  }

  #query(): URLSearchParams {
    return new URLSearchParams({ fieldManager: this.#manager })
  }

  async create(info: ResourceInfo, object: KubeObject): Promise<KubeObject> {
    const t = target(info, object.metadata.namespace, undefined, undefined)
    return (await createObject(this.#deps, t, object as Record<string, unknown>, this.#query())).object
  }

  /** PUT semantics: fails with Conflict when object.metadata.resourceVersion is stale. */
  async update(info: ResourceInfo, object: KubeObject, subresource?: 'status'): Promise<KubeObject> {
    const name = object.metadata.name ?? ''
    const t = target(info, object.metadata.namespace, name, subresource)
    const old = getExisting(this.#deps, t, name)
    const pinned = object.metadata.resourceVersion || undefined
    return (await updateObject(this.#deps, t, old, structuredClone(object) as KubeObject, this.#query(), { pinnedVersion: pinned })).object
  }

  updateStatus(info: ResourceInfo, object: KubeObject): Promise<KubeObject> {
    return this.update(info, object, 'status')
  }

  async delete(info: ResourceInfo, namespace: string | undefined, name: string, opts: LocalDeleteOptions = {}): Promise<KubeObject> {
    return deleteObject(this.#deps, target(info, namespace, name, undefined), name, opts, new URLSearchParams())
  }

  /** POST pods/NAME/binding: one write that sets spec.nodeName and PodScheduled=True; the Binding is checked as an HTTP body is. */
  async bind(namespace: string, binding: Binding): Promise<KubeObject> {
    const q = new URLSearchParams()
    return bindPod(this.#deps, namespace, parseBinding({ ...binding }, namespace, binding.metadata.name, q), q)
  }

  /** Server-side apply (create if absent), as `kubectl apply --server-side` does. */
  async apply(object: KubeObject, manager = this.#manager): Promise<KubeObject> {
    const info = this.findByKind(String(object.apiVersion ?? ''), String(object.kind ?? ''))
    if (!info) throw badRequest(`no kind "${String(object.kind)}" is registered for version "${String(object.apiVersion)}"`)
    const name = object.metadata.name ?? ''
    const ns = info.namespaced ? object.metadata.namespace || 'default' : undefined
    const q = new URLSearchParams({ fieldManager: manager, force: 'true' })
    const { result } = await patchObject(this.#deps, target(info, ns, name, undefined), name, 'apply', Buffer.from(JSON.stringify(object)), q)
    return result.object
  }
}

function target(info: ResourceInfo, namespace: string | undefined, name: string | undefined, subresource: string | undefined): WriteTarget {
  return { info, namespace: info.namespaced ? namespace || 'default' : undefined, name, subresource }
}
