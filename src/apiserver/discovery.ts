/**
 * Discovery documents: legacy APIVersions / APIGroupList / APIGroup / APIResourceList and
 * aggregated apidiscovery.k8s.io/v2 APIGroupDiscoveryList, all derived from a resource catalogue.
 */
import { apiVersionOf, builtInCatalogue, type ResourceCatalogue, type ResourceInfo, type Subresource } from '../api/index.js'

const subresourceVerbs = ['get', 'patch', 'update'] as const

export function apiVersions(serverAddress: string): unknown {
  return {
    kind: 'APIVersions', versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  }
}

function groupEntry(c: ResourceCatalogue, group: string): unknown {
  const versions = c.groupVersions().filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${gv.group}/${gv.version}`, version: gv.version }))
  return { name: group, versions, preferredVersion: versions[0] }
}

function namedGroups(c: ResourceCatalogue): string[] {
  return [...new Set(c.groupVersions().map((gv) => gv.group).filter((g) => g !== ''))]
}

export function apiGroupList(c: ResourceCatalogue = builtInCatalogue): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: namedGroups(c).map((g) => groupEntry(c, g)) }
}

export function apiGroup(group: string, c: ResourceCatalogue = builtInCatalogue): unknown | undefined {
  if (!namedGroups(c).includes(group)) return undefined
  return { kind: 'APIGroup', apiVersion: 'v1', ...(groupEntry(c, group) as object) }
}

/** The kind a subresource takes and answers, and its verbs: Scale for scale, Eviction and Binding (create only) for eviction and binding. */
function subresourceKind(r: ResourceInfo, sub: Subresource): { kind: { group: string; version: string; kind: string }; verbs: readonly string[] } {
  switch (sub) {
    case 'scale': return { kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: subresourceVerbs }
    case 'eviction': return { kind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] }
    case 'binding': return { kind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] }
    case 'status': return { kind: { group: r.group, version: r.version, kind: r.kind }, verbs: subresourceVerbs }
  }
}

export function apiResourceList(group: string, version: string, c: ResourceCatalogue = builtInCatalogue): unknown | undefined {
  const rs = c.resources.filter((r) => r.group === group && r.version === version)
  if (rs.length === 0) return undefined
  const resources: unknown[] = []
  for (const r of rs) {
    resources.push({
      name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    })
    for (const sub of r.subresources) {
      const { kind, verbs } = subresourceKind(r, sub)
      const other = kind.group !== r.group || kind.version !== r.version ? { group: kind.group, version: kind.version } : {}
      resources.push({ name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced, ...other, kind: kind.kind, verbs })
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(rs[0] as ResourceInfo), resources }
}

function aggregatedResource(r: ResourceInfo): unknown {
  return {
    resource: r.resource,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length ? { categories: r.categories } : {}),
    ...(r.subresources.length ? {
      subresources: r.subresources.map((sub) => {
        const { kind, verbs } = subresourceKind(r, sub)
        return { subresource: sub, responseKind: kind, verbs }
      }),
    } : {}),
  }
}

function aggregatedGroup(c: ResourceCatalogue, group: string): unknown {
  const versions = c.groupVersions().filter((gv) => gv.group === group).map((gv) => ({
    version: gv.version,
    freshness: 'Current',
    resources: c.resources.filter((r) => r.group === gv.group && r.version === gv.version).map(aggregatedResource),
  }))
  return { metadata: group === '' ? { creationTimestamp: null } : { name: group, creationTimestamp: null }, versions }
}

/** `/api` (core only) or `/apis` (named groups) in aggregated form. */
export function aggregatedDiscovery(which: 'core' | 'groups', c: ResourceCatalogue = builtInCatalogue): unknown {
  const groups = which === 'core' ? [''] : namedGroups(c)
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items: groups.map((g) => aggregatedGroup(c, g)) }
}
