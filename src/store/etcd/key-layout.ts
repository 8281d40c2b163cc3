/**
 * kube-apiserver's etcd key layout: /registry/<prefix>/<namespace>/<name>, where the prefix is the
 * resource's plural, a few historical names, or group/plural outside the built-in groups. Pure:
 * store keys to etcd keys and back.
 */
import type { ObjectKey } from '../types.js'

/** kube-apiserver's default --etcd-prefix. */
export const defaultEtcdPrefix = '/registry'

/**
 * Resources whose etcd directory is not their plural: upstream's SpecialDefaultResourcePrefixes
 * (pkg/kubeapiserver/default_storage_factory_builder.go). Keys are kpe's storage resources.
 */
const specialPrefixes: Readonly<Record<string, string>> = {
  replicationcontrollers: 'controllers',
  endpoints: 'services/endpoints',
  nodes: 'minions',
  services: 'services/specs',
  'ingresses.networking.k8s.io': 'ingress',
  'ingresses.extensions': 'ingress',
}

/**
 * Groups compiled into kube-apiserver: their resources live under the bare plural
 * (/registry/deployments/..., /registry/endpointslices/...). The aggregated servers' groups
 * (apiextensions.k8s.io, apiregistration.k8s.io) and custom resources use group/plural.
 */
const builtInGroups: ReadonlySet<string> = new Set([
  'apps', 'batch', 'autoscaling', 'policy', 'extensions', 'networking.k8s.io', 'discovery.k8s.io',
  'rbac.authorization.k8s.io', 'storage.k8s.io', 'coordination.k8s.io', 'events.k8s.io', 'scheduling.k8s.io',
  'certificates.k8s.io', 'admissionregistration.k8s.io', 'node.k8s.io', 'flowcontrol.apiserver.k8s.io',
  'resource.k8s.io', 'storagemigration.k8s.io', 'internal.apiserver.k8s.io',
])

/** Groups whose objects kube-apiserver stores as JSON even when a protobuf message exists. */
export const jsonStoredGroups: ReadonlySet<string> = new Set(['apiextensions.k8s.io', 'apiregistration.k8s.io'])

/** "deployments.apps" -> { plural: 'deployments', group: 'apps' }; core resources have group ''. */
export function splitResource(resource: string): { readonly plural: string; readonly group: string } {
  const dot = resource.indexOf('.')
  return dot < 0 ? { plural: resource, group: '' } : { plural: resource.slice(0, dot), group: resource.slice(dot + 1) }
}

/** The directory under the etcd prefix that holds a resource's objects. */
export function resourcePrefix(resource: string): string {
  const special = specialPrefixes[resource]
  if (special !== undefined) return special
  const { plural, group } = splitResource(resource)
  return group === '' || builtInGroups.has(group) ? plural : `${group}/${plural}`
}

/** The directory key (with trailing slash) listing every object of a resource. */
export function etcdResourceKey(prefix: string, resource: string): string {
  return `${prefix}/${resourcePrefix(resource)}/`
}

export function etcdKeyOf(prefix: string, key: ObjectKey): string {
  const ns = key.namespace === '' ? '' : `${key.namespace}/`
  return `${etcdResourceKey(prefix, key.resource)}${ns}${key.name}`
}

/** Directory -> storage resource, for the built-in directories (special names and bare plurals). */
const builtInByDirectory: ReadonlyMap<string, string> = new Map(Object.entries(specialPrefixes).filter(([r]) => r !== 'ingresses.extensions').map(([r, p]) => [p, r]))

/**
 * The store key an etcd key names, or undefined for a key outside kpe's layout. `builtIns` maps a
 * bare plural to its storage resource ("deployments" -> "deployments.apps"); unknown bare plurals
 * are taken as core resources. Names never hold '/', so the segment count tells namespaced from
 * cluster-scoped keys.
 */
export function parseEtcdKey(prefix: string, etcdKey: string, builtIns: ReadonlyMap<string, string>): ObjectKey | undefined {
  if (!etcdKey.startsWith(`${prefix}/`)) return undefined
  const parts = etcdKey.slice(prefix.length + 1).split('/')
  if (parts.some((p) => p === '')) return undefined
  const two = parts.length >= 3 ? builtInByDirectory.get(`${parts[0]}/${parts[1]}`) : undefined
  if (two !== undefined) return objectKeyFrom(two, parts.slice(2))
  const first = parts[0] ?? ''
  const special = builtInByDirectory.get(first)
  if (special !== undefined) return objectKeyFrom(special, parts.slice(1))
  // a group always holds a dot (CRD validation requires one); built-in dotless groups come through builtIns
  if (first.includes('.')) return parts.length >= 3 ? objectKeyFrom(`${parts[1] ?? ''}.${first}`, parts.slice(2)) : undefined
  return objectKeyFrom(builtIns.get(first) ?? first, parts.slice(1))
}

function objectKeyFrom(resource: string, rest: readonly string[]): ObjectKey | undefined {
  if (rest.length === 1) return { resource, namespace: '', name: rest[0] ?? '' }
  if (rest.length === 2) return { resource, namespace: rest[0] ?? '', name: rest[1] ?? '' }
  return undefined
}

/** Bare plural -> storage resource for every built-in resource kpe serves ("deployments" -> "deployments.apps"). */
export function builtInDirectories(storageResources: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>()
  for (const r of storageResources) {
    const { plural, group } = splitResource(r)
    if (group === '' || builtInGroups.has(group)) out.set(plural, r)
  }
  return out
}
