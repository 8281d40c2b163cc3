/**
 * The served resource catalogue: group, version, plural, kind, scope, short names, verbs and
 * subresources. Discovery, OpenAPI, routing and storage keys are all derived from it; it holds
 * the built-in kinds and grows and shrinks at run time with CustomResourceDefinitions.
 */
import type { StructuralSchema } from './structural/structural-schema.js'


export interface PrinterColumn {
  readonly name: string
  readonly type: 'integer' | 'number' | 'string' | 'boolean' | 'date'
  readonly jsonPath: string
  readonly format?: string
  readonly description?: string
  readonly priority?: number
}

export interface ScalePaths {
  readonly specReplicasPath: string
  readonly statusReplicasPath: string
  readonly labelSelectorPath?: string
}

/** What a catalogue entry of a custom resource carries beyond the built-in facts. */
export interface CustomResourceFacts {
  /** The CRD's metadata.name, which owns the entry. */
  readonly crdName: string
  readonly storageVersion: string
  readonly schema: StructuralSchema
  readonly printerColumns: readonly PrinterColumn[]
  readonly scale: ScalePaths | undefined
}

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch'
export type Subresource = 'status' | 'scale' | 'eviction' | 'binding'

export interface ResourceInfo {
  readonly group: string
  readonly version: string
  readonly resource: string
  readonly singular: string
  readonly kind: string
  readonly namespaced: boolean
  readonly shortNames: readonly string[]
  readonly categories: readonly string[]
  readonly verbs: readonly Verb[]
  readonly subresources: readonly Subresource[]
  /** metadata.generation is maintained (bumped on spec changes). */
  readonly tracksGeneration: boolean
  /** Only for the resources a CustomResourceDefinition defines: its schema, columns and scale paths. */
  readonly custom?: CustomResourceFacts
  /** The store key when another group's resource holds the objects (events.k8s.io Events are core Events). */
  readonly storedIn?: string
}

const allVerbs: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
const readOnlyVerbs: readonly Verb[] = ['get', 'list', 'watch']
const createOnly: readonly Verb[] = ['create']

function res(r: Omit<ResourceInfo, 'verbs' | 'subresources' | 'shortNames' | 'categories' | 'tracksGeneration'> & Partial<ResourceInfo>): ResourceInfo {
  return { verbs: allVerbs, subresources: [], shortNames: [], categories: [], tracksGeneration: false, ...r }
}

export const servedResources: readonly ResourceInfo[] = [
  res({ group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status'] }),
  res({ group: '', version: 'v1', resource: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status'] }),
  res({ group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: ['status', 'binding', 'eviction'] }),
  res({ group: '', version: 'v1', resource: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  res({ group: '', version: 'v1', resource: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'], verbs: readOnlyVerbs }),
  res({ group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] }),
  res({ group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true }),
  res({ group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'] }),
  res({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true }),
  res({ group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'], tracksGeneration: true }),
  res({ group: 'apps', version: 'v1', resource: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', namespaced: true, shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'], tracksGeneration: true }),
  ...storedOnlyResources(),
]

/**
 * The other stable built-in kinds: stored, validated, listed, watched and patched like the rest,
 * though kpe runs no controller for them. Discovery facts (short names, categories,
 * subresources) as kube-apiserver advertises them.
 */
function storedOnlyResources(): ResourceInfo[] {
  const ns = true
  const cluster = false
  return [
    res({ group: '', version: 'v1', resource: 'replicationcontrollers', singular: 'replicationcontroller', kind: 'ReplicationController', namespaced: ns, shortNames: ['rc'], categories: ['all'], subresources: ['status', 'scale'], tracksGeneration: true }),
    res({ group: '', version: 'v1', resource: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: ns, shortNames: ['sa'] }),
    res({ group: '', version: 'v1', resource: 'persistentvolumes', singular: 'persistentvolume', kind: 'PersistentVolume', namespaced: cluster, shortNames: ['pv'], subresources: ['status'] }),
    res({ group: '', version: 'v1', resource: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', kind: 'PersistentVolumeClaim', namespaced: ns, shortNames: ['pvc'], subresources: ['status'] }),
    res({ group: '', version: 'v1', resource: 'limitranges', singular: 'limitrange', kind: 'LimitRange', namespaced: ns, shortNames: ['limits'] }),
    res({ group: '', version: 'v1', resource: 'resourcequotas', singular: 'resourcequota', kind: 'ResourceQuota', namespaced: ns, shortNames: ['quota'], subresources: ['status'] }),
    res({ group: 'apps', version: 'v1', resource: 'statefulsets', singular: 'statefulset', kind: 'StatefulSet', namespaced: ns, shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'], tracksGeneration: true }),
    res({ group: 'apps', version: 'v1', resource: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', namespaced: ns, shortNames: ['ds'], categories: ['all'], subresources: ['status'], tracksGeneration: true }),
    res({ group: 'apps', version: 'v1', resource: 'controllerrevisions', singular: 'controllerrevision', kind: 'ControllerRevision', namespaced: ns }),
    res({ group: 'batch', version: 'v1', resource: 'jobs', singular: 'job', kind: 'Job', namespaced: ns, categories: ['all'], subresources: ['status'], tracksGeneration: true }),
    res({ group: 'batch', version: 'v1', resource: 'cronjobs', singular: 'cronjob', kind: 'CronJob', namespaced: ns, shortNames: ['cj'], categories: ['all'], subresources: ['status'], tracksGeneration: true }),
    res({ group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', kind: 'HorizontalPodAutoscaler', namespaced: ns, shortNames: ['hpa'], categories: ['all'], subresources: ['status'] }),
    // autoscaling/v1 serves the same stored objects (storage version v2) through versions/conversion.ts; v2 stays preferred.
    res({ group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', kind: 'HorizontalPodAutoscaler', namespaced: ns, shortNames: ['hpa'], categories: ['all'], subresources: ['status'] }),
    res({ group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', singular: 'ingress', kind: 'Ingress', namespaced: ns, shortNames: ['ing'], subresources: ['status'], tracksGeneration: true }),
    res({ group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses', singular: 'ingressclass', kind: 'IngressClass', namespaced: cluster }),
    res({ group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies', singular: 'networkpolicy', kind: 'NetworkPolicy', namespaced: ns, shortNames: ['netpol'], tracksGeneration: true }),
    res({ group: 'networking.k8s.io', version: 'v1', resource: 'servicecidrs', singular: 'servicecidr', kind: 'ServiceCIDR', namespaced: cluster, subresources: ['status'] }),
    res({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', singular: 'poddisruptionbudget', kind: 'PodDisruptionBudget', namespaced: ns, shortNames: ['pdb'], subresources: ['status'], tracksGeneration: true }),
    res({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', singular: 'role', kind: 'Role', namespaced: ns }),
    res({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', singular: 'rolebinding', kind: 'RoleBinding', namespaced: ns }),
    res({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', namespaced: cluster }),
    res({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding', namespaced: cluster }),
    res({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', singular: 'storageclass', kind: 'StorageClass', namespaced: cluster, shortNames: ['sc'] }),
    res({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', singular: 'lease', kind: 'Lease', namespaced: ns }),
    // One storage with core/v1 Events, as in kube-apiserver: versions/events-v1.ts converts the fields.
    res({ group: 'events.k8s.io', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: ns, shortNames: ['ev'], storedIn: 'events' }),
    res({ group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', singular: 'priorityclass', kind: 'PriorityClass', namespaced: cluster, shortNames: ['pc'] }),
    res({ group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', singular: 'certificatesigningrequest', kind: 'CertificateSigningRequest', namespaced: cluster, shortNames: ['csr'], subresources: ['status'] }),
    // Create-only reviews: answered from the request (access-reviews.ts), never stored.
    res({ group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview', namespaced: cluster, verbs: createOnly }),
    res({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', namespaced: cluster, verbs: createOnly }),
    res({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', kind: 'SelfSubjectRulesReview', namespaced: cluster, verbs: createOnly }),
  ]
}

/**
 * The deprecated way to post a Binding (the Pod's name in its metadata; pods/binding is the
 * current one). Served by the API server, answered by apiserver/pod-binding.ts, never stored, so
 * it is kept out of servedResources, which lists the stored and answered kinds.
 */
export const bindingsResource: ResourceInfo = res({ group: '', version: 'v1', resource: 'bindings', singular: 'binding', kind: 'Binding', namespaced: true, verbs: createOnly })

export function apiVersionOf(r: ResourceInfo): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`
}

/** The store key prefix: "pods", "deployments.apps". */
export function storageResource(r: ResourceInfo): string {
  if (r.storedIn !== undefined) return r.storedIn
  return r.group === '' ? r.resource : `${r.resource}.${r.group}`
}

/** "deployments.apps" or "pods", as used in Status messages. */
export function qualifiedResource(r: ResourceInfo): string {
  return storageResource(r)
}

export interface GroupVersion {
  readonly group: string
  readonly version: string
}

/**
 * One API server's catalogue: the built-in kinds, then the entries each CRD defines (keyed by
 * the CRD's name, so redefining or deleting a CRD replaces exactly its own entries). The
 * generation changes on every change, for readers that cache documents built from it.
 */
export class ResourceCatalogue {
  #defined = new Map<string, readonly ResourceInfo[]>()
  #all: readonly ResourceInfo[]
  #generation = 0

  constructor(private readonly builtIn: readonly ResourceInfo[]) {
    this.#all = builtIn
  }

  get resources(): readonly ResourceInfo[] {
    return this.#all
  }

  get generation(): number {
    return this.#generation
  }

  /** Replaces what `owner` defined before by `entries` (none: removes them). */
  define(owner: string, entries: readonly ResourceInfo[]): void {
    if (entries.length === 0) this.#defined.delete(owner)
    else this.#defined.set(owner, entries)
    this.#all = [...this.builtIn, ...[...this.#defined.values()].flat()]
    this.#generation++
  }

  find(group: string, version: string, resource: string): ResourceInfo | undefined {
    return this.#all.find((r) => r.group === group && r.version === version && r.resource === resource)
  }

  findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
    return this.#all.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind)
  }

  groupVersions(): GroupVersion[] {
    const seen = new Map<string, GroupVersion>()
    for (const r of this.#all) seen.set(apiVersionOf(r), { group: r.group, version: r.version })
    return [...seen.values()]
  }
}

/** The built-in kinds only: for code that never sees custom resources (controllers, manifests). */
export const builtInCatalogue = new ResourceCatalogue(servedResources)

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return builtInCatalogue.find(group, version, resource)
}

export function findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return builtInCatalogue.findByKind(apiVersion, kind)
}

export function servedGroupVersions(): GroupVersion[] {
  return builtInCatalogue.groupVersions()
}

export function allowsVerb(r: ResourceInfo, verb: Verb): boolean {
  return r.verbs.includes(verb)
}
