import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { builtInDirectories, etcdKeyOf, parseEtcdKey, resourcePrefix } from '../../../src/store/index.js'
import { servedResources, storageResource } from '../../../src/api/index.js'

const builtIns = builtInDirectories(servedResources.map(storageResource))

describe('etcd key layout', () => {
  it.each([
    ['services', 'default', 'web', '/registry/services/specs/default/web'],
    ['endpoints', 'default', 'web', '/registry/services/endpoints/default/web'],
    ['nodes', '', 'node-a', '/registry/minions/node-a'],
    ['replicationcontrollers', 'default', 'rc', '/registry/controllers/default/rc'],
    ['ingresses.networking.k8s.io', 'default', 'ing', '/registry/ingress/default/ing'],
    ['endpointslices.discovery.k8s.io', 'default', 'web-abc', '/registry/endpointslices/default/web-abc'],
    ['deployments.apps', 'default', 'web', '/registry/deployments/default/web'],
    ['leases.coordination.k8s.io', 'kube-node-lease', 'node-a', '/registry/leases/kube-node-lease/node-a'],
    ['namespaces', '', 'default', '/registry/namespaces/default'],
    ['clusterroles.rbac.authorization.k8s.io', '', 'admin', '/registry/clusterroles/admin'],
    ['customresourcedefinitions.apiextensions.k8s.io', '', 'widgets.example.com', '/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com'],
    ['widgets.example.com', 'default', 'w1', '/registry/example.com/widgets/default/w1'],
    ['clusterwidgets.example.com', '', 'w1', '/registry/example.com/clusterwidgets/w1'],
  ])('%s %s/%s is stored under %s, and that key reads back', (resource, namespace, name, etcdKey) => {
    expect(etcdKeyOf('/registry', { resource, namespace, name })).toBe(etcdKey)
    expect(parseEtcdKey('/registry', etcdKey, builtIns)).toEqual({ resource, namespace, name })
  })

  it('every served built-in resource reads back from its own key', () => {
    for (const r of new Set(servedResources.map(storageResource))) {
      const k = { resource: r, namespace: 'ns', name: 'n' }
      expect(parseEtcdKey('/registry', etcdKeyOf('/registry', k), builtIns), r).toEqual(k)
    }
  })

  it('keys outside the layout are refused, not misread', () => {
    for (const k of ['/other/pods/default/a', '/registry/pods', '/registry/pods/a/b/c', '/registry//pods/a', '/registry/example.com/widgets']) {
      expect(parseEtcdKey('/registry', k, builtIns), k).toBeUndefined()
    }
    expect(resourcePrefix('pods')).toBe('pods')
  })

  it('any DNS-style names round-trip for namespaced and cluster-scoped custom resources', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/)
    fc.assert(fc.property(label, label, fc.constantFrom('', 'ns-1', 'kube-system'), label, (plural, domain, namespace, name) => {
      const k = { resource: `${plural}.${domain}.io`, namespace, name }
      expect(parseEtcdKey('/registry', etcdKeyOf('/registry', k), builtIns)).toEqual(k)
    }), { seed: 17, numRuns: 300 })
  })
})
