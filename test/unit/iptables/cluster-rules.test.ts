/**
 * ClusterIptablesRules' edges: a model in which two ports name the same chain (only a hash
 * collision does that upstream) falls back to the unshared build instead of mis-slicing, and
 * nodes of one class hold the class's rules and text once.
 */
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Service } from '../../../src/api/index.js'
import { buildIptablesRules, ClusterIptablesRules } from '../../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig, type ProxierConfig } from '../../../src/proxy/model/index.js'
import { renderIptablesRestore } from '../../../src/proxy/netfilter/index.js'

const config = (nodeName: string): ProxierConfig => resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' },
  ipFamily: 'IPv4',
  node: undefined,
  nodeName,
})

const slices: EndpointSlice[] = [{
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4', endpoints: [{ addresses: ['10.1.0.5'], nodeName: 'node-a' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
}]

const web: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } }

describe('ClusterIptablesRules edges', () => {
  it('two ports with one chain name: each node still equals its unshared build', () => {
    const state = buildProxyState([web], slices, 'IPv4', 'node-a')
    const doubled = { servicePorts: [state.servicePorts[0]!, state.servicePorts[0]!], endpoints: state.endpoints }
    const shared = new ClusterIptablesRules(doubled)
    for (const name of ['node-a', 'node-b']) {
      const expected = buildIptablesRules({ state: buildProxyState([web], slices, 'IPv4', name), config: config(name) })
      const alone = buildIptablesRules({ state: { ...doubled, endpoints: buildProxyState([web], slices, 'IPv4', name).endpoints }, config: config(name) })
      const got = shared.forNode(config(name))
      expect(got.text).toBe(renderIptablesRestore(alone))
      // The doubled port writes its capture rule twice: the fallback really built both.
      expect(got.text).not.toBe(renderIptablesRestore(expected))
    }
  })

  it('nodes of a class hold the same chain objects for the service chains', () => {
    const shared = new ClusterIptablesRules(buildProxyState([web], slices, 'IPv4', 'node-a'))
    const a = shared.forNode(config('node-x'))
    const b = shared.forNode(config('node-y'))
    expect(a.text).toBe(b.text)
    const svc = (r: typeof a) => r.table().tables[1]!.chains.find((c) => c.name.startsWith('KUBE-SVC-'))
    expect(svc(a)).toBeDefined()
    expect(svc(a)).toBe(svc(b))
  })
})
