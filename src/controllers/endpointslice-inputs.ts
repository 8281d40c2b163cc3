/**
 * What one EndpointSlice reconcile reads, from indexes instead of lists (upstream reads its
 * informer caches by label selector): the Service's managed slices, the pods its selector can
 * match, the Nodes those pods run on, and the Services with a selector. A reconcile then costs
 * what the Service concerns, not the namespace's size: with 10,000 Services, listing every
 * slice on each reconcile made creating them quadratic.
 */
import {
  endpointSliceControllerName, managedByLabel, serviceNameLabel, usesAutoHints,
  type EndpointSlice, type Node, type Pod, type Service,
} from '../api/index.js'
import type { KubeObject } from '../store/index.js'
import { storage } from './api-client.js'
import { Indexer, type IndexedSource } from './indexer.js'

/** A managed slice's owner: namespace/service-name, as the reconcile keys name Services. */
function managedSliceOwner(s: KubeObject): readonly string[] {
  const labels = s.metadata.labels ?? {}
  const svc = labels[serviceNameLabel]
  return svc !== undefined && labels[managedByLabel] === endpointSliceControllerName ? [`${s.metadata.namespace ?? ''}/${svc}`] : []
}

/** One entry per label: namespace, key and value (NUL cannot occur in any of them). */
const labelEntry = (namespace: string, key: string, value: string): string => `${namespace}\u0000${key}\u0000${value}`

function podLabelEntries(p: KubeObject): readonly string[] {
  return Object.entries(p.metadata.labels ?? {}).map(([k, v]) => labelEntry(p.metadata.namespace ?? '', k, v))
}

function hasSelector(s: KubeObject): readonly string[] {
  const selector = (s as unknown as Service).spec?.selector
  return selector && Object.keys(selector).length > 0 ? [s.metadata.namespace ?? ''] : []
}

export class EndpointSliceInputs {
  readonly #store: IndexedSource
  readonly #slices: Indexer
  readonly #pods: Indexer
  readonly #selecting: Indexer

  constructor(store: IndexedSource) {
    this.#store = store
    this.#slices = new Indexer(store, storage.endpointSlices, managedSliceOwner)
    this.#pods = new Indexer(store, storage.pods, podLabelEntries)
    this.#selecting = new Indexer(store, storage.services, hasSelector)
  }

  /** The slices this controller manages for the Service `namespace/name` (upstream: service-name and managed-by labels). */
  managedSlices(namespace: string, name: string): EndpointSlice[] {
    return this.#slices.byIndex(`${namespace}/${name}`) as unknown as EndpointSlice[]
  }

  /**
   * The namespace's pods that carry the rarest of the selector's labels: every pod the selector
   * matches is among them (the caller still matches the whole selector). None without a selector.
   */
  candidatePods(namespace: string, selector: Readonly<Record<string, string>> | undefined): Pod[] {
    let fewest: { entry: string; count: number } | undefined
    for (const [k, v] of Object.entries(selector ?? {})) {
      const entry = labelEntry(namespace, k, v)
      const count = this.#pods.count(entry)
      if (!fewest || count < fewest.count) fewest = { entry, count }
      if (count === 0) break
    }
    return (fewest ? this.#pods.byIndex(fewest.entry) : []) as unknown as Pod[]
  }

  /** The Nodes the slices depend on: those the pods run on, or every Node when Auto hints weigh them all. */
  nodesFor(svc: Service | undefined, pods: readonly Pod[]): Node[] {
    if (svc && usesAutoHints(svc)) return this.#store.list(storage.nodes).items as unknown as Node[]
    const names = new Set(pods.map((p) => p.spec.nodeName).filter((n): n is string => !!n))
    return [...names].flatMap((name) => {
      const n = this.#store.get({ resource: storage.nodes, namespace: '', name })
      return n ? [n as unknown as Node] : []
    })
  }

  /** The namespace's Services that have a selector, in key order. */
  selectingServices(namespace: string): Service[] {
    return this.#selecting.byIndex(namespace) as unknown as Service[]
  }

  stop(): void {
    this.#slices.stop()
    this.#pods.stop()
    this.#selecting.stop()
  }
}
