/**
 * The served resource catalogue: group, version, plural, kind, scope, short names, verbs and
 * subresources. Discovery, OpenAPI, routing and storage keys are all derived from this table.
 */

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch'
export type Subresource = 'status' | 'scale' | 'eviction'

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
}

const allVerbs: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
const readOnlyVerbs: readonly Verb[] = ['get', 'list', 'watch']

function res(r: Omit<ResourceInfo, 'verbs' | 'subresources' | 'shortNames' | 'categories' | 'tracksGeneration'> & Partial<ResourceInfo>): ResourceInfo {
  return { verbs: allVerbs, subresources: [], shortNames: [], categories: [], tracksGeneration: false, ...r }
}

export const servedResources: readonly ResourceInfo[] = [
  res({ group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status'] }),
  res({ group: '', version: 'v1', resource: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status'] }),
  res({ group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: ['status', 'eviction'] }),
  res({ group: '', version: 'v1', resource: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  res({ group: '', version: 'v1', resource: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'], verbs: readOnlyVerbs }),
  res({ group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] }),
  res({ group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true }),
  res({ group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'] }),
  res({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true }),
  res({ group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'], tracksGeneration: true }),
  res({ group: 'apps', version: 'v1', resource: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', namespaced: true, shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'], tracksGeneration: true }),
]

export function apiVersionOf(r: ResourceInfo): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`
}

/** The store key prefix: "pods", "deployments.apps". */
export function storageResource(r: ResourceInfo): string {
  return r.group === '' ? r.resource : `${r.resource}.${r.group}`
}

/** "deployments.apps" or "pods", as used in Status messages. */
export function qualifiedResource(r: ResourceInfo): string {
  return storageResource(r)
}

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return servedResources.find((r) => r.group === group && r.version === version && r.resource === resource)
}

export function findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return servedResources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind)
}

export interface GroupVersion {
  readonly group: string
  readonly version: string
}

export function servedGroupVersions(): GroupVersion[] {
  const seen = new Map<string, GroupVersion>()
  for (const r of servedResources) seen.set(apiVersionOf(r), { group: r.group, version: r.version })
  return [...seen.values()]
}

export function allowsVerb(r: ResourceInfo, verb: Verb): boolean {
  return r.verbs.includes(verb)
}
