import { describe, expect, it } from 'vitest'
import { aggregatedDiscovery, apiGroup, apiResourceList } from '../../../src/apiserver/discovery.js'
import { servedResources } from '../../../src/api/resources.js'

interface LegacyResource { name: string; kind: string; namespaced: boolean; verbs: string[]; shortNames?: string[]; categories?: string[]; group?: string }
interface AggregatedResource { resource: string; scope: string; verbs: string[]; shortNames?: string[]; categories?: string[]; subresources?: { subresource: string; responseKind: { kind: string } }[] }
type Aggregated = { items: { metadata: { name?: string }; versions: { version: string; resources: AggregatedResource[] }[] }[] }

const legacy = (group: string, version: string) => (apiResourceList(group, version) as { resources: LegacyResource[] }).resources
const aggregated = (): AggregatedResource[] => [aggregatedDiscovery('core'), aggregatedDiscovery('groups')]
  .flatMap((d) => (d as Aggregated).items.flatMap((g) => g.versions.flatMap((v) => v.resources)))

describe('discovery of the built-in kinds', () => {
  it("puts exactly upstream's `all` category members in it", () => {
    const inAll = [...new Set(aggregated().filter((r) => r.categories?.includes('all')).map((r) => r.resource))].sort()
    expect(inAll).toEqual(['cronjobs', 'daemonsets', 'deployments', 'horizontalpodautoscalers', 'jobs', 'pods', 'replicasets', 'replicationcontrollers', 'services', 'statefulsets'])
  })

  it('advertises short names as kube-apiserver does', () => {
    const short = Object.fromEntries(legacy('', 'v1').filter((r) => !r.name.includes('/')).map((r) => [r.name, r.shortNames ?? []]))
    expect(short).toMatchObject({ serviceaccounts: ['sa'], persistentvolumes: ['pv'], persistentvolumeclaims: ['pvc'], limitranges: ['limits'], resourcequotas: ['quota'], replicationcontrollers: ['rc'] })
    const names = (g: string, v: string) => Object.fromEntries(legacy(g, v).map((r) => [r.name, r.shortNames ?? []]))
    expect(names('apps', 'v1')).toMatchObject({ statefulsets: ['sts'], daemonsets: ['ds'], controllerrevisions: [] })
    expect(names('batch', 'v1')).toMatchObject({ cronjobs: ['cj'], jobs: [] })
    expect(names('networking.k8s.io', 'v1')).toMatchObject({ ingresses: ['ing'], networkpolicies: ['netpol'], ingressclasses: [] })
    expect(names('policy', 'v1')).toMatchObject({ poddisruptionbudgets: ['pdb'] })
    expect(names('scheduling.k8s.io', 'v1')).toMatchObject({ priorityclasses: ['pc'] })
    expect(names('storage.k8s.io', 'v1')).toMatchObject({ storageclasses: ['sc'] })
    expect(names('certificates.k8s.io', 'v1')).toMatchObject({ certificatesigningrequests: ['csr'] })
  })

  it('gives statefulsets a scale subresource answered as autoscaling/v1 Scale, in both forms', () => {
    expect(legacy('apps', 'v1')).toContainEqual(expect.objectContaining({ name: 'statefulsets/scale', kind: 'Scale', group: 'autoscaling' }))
    const sts = aggregated().find((r) => r.resource === 'statefulsets')!
    expect(sts.subresources?.map((s) => [s.subresource, s.responseKind.kind])).toEqual([['status', 'StatefulSet'], ['scale', 'Scale']])
  })

  it('scopes cluster-wide kinds as Cluster and serves the reviews create-only', () => {
    const byName = new Map(aggregated().map((r) => [r.resource, r]))
    for (const name of ['persistentvolumes', 'storageclasses', 'clusterroles', 'clusterrolebindings', 'priorityclasses', 'ingressclasses', 'certificatesigningrequests', 'servicecidrs']) {
      expect(byName.get(name)?.scope, name).toBe('Cluster')
    }
    for (const name of ['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'selfsubjectreviews']) expect(byName.get(name)?.verbs, name).toEqual(['create'])
    expect(byName.get('roles')?.scope).toBe('Namespaced')
  })

  it('serves events in both core and events.k8s.io, and lists every stored kind with list and watch', () => {
    expect(legacy('events.k8s.io', 'v1').map((r) => r.name)).toEqual(['events'])
    for (const r of servedResources.filter((x) => !x.resource.startsWith('selfsubject'))) expect(r.verbs, r.resource).toEqual(expect.arrayContaining(['get', 'list', 'watch']))
    expect(apiGroup('autoscaling')).toMatchObject({ preferredVersion: { groupVersion: 'autoscaling/v2' } })
  })
})
