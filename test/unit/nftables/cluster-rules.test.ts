/**
 * ClusterNftablesRules when two Services write the same element key (an externalIP and port
 * they share): the builder keeps the first port's element, so a node whose variant of that port
 * writes the key differently must still get what its own build gives.
 */
import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Service } from '../../../src/api/index.js'
import { buildProxyState, resolveProxierConfig, type ProxierConfig } from '../../../src/proxy/model/index.js'
import { buildNftablesRules, ClusterNftablesRules, renderNftablesTransaction } from '../../../src/proxy/nftables/index.js'

const config = (nodeName: string, ip: string): ProxierConfig => resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'nftables', clusterCIDR: '10.0.0.0/8' },
  ipFamily: 'IPv4',
  node: { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName }, status: { addresses: [{ type: 'InternalIP', address: ip }] } },
  nodeName,
})

const service = (name: string, clusterIP: string, local: boolean): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { type: 'NodePort', clusterIP, externalIPs: ['192.168.99.10'], ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: name === 'a' ? 30080 : 30081 }], ...(local ? { externalTrafficPolicy: 'Local' as const } : {}) },
})

const slice: EndpointSlice = {
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'a-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'a' } },
  addressType: 'IPv4', endpoints: [{ addresses: ['10.1.0.5'], nodeName: 'node-a' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
}

describe('ClusterNftablesRules with one element key written by two Services', () => {
  it('each node equals its own build: the Local Service with a local endpoint stops dropping, the other one then rejects', () => {
    // a (Local, endpoint on node-a) sorts before b (no endpoints): both write 192.168.99.10 . tcp . 80.
    const services = [service('a', '10.96.0.10', true), service('b', '10.96.0.11', false)]
    const shared = new ClusterNftablesRules(buildProxyState(services, [slice], 'IPv4', 'node-b'))
    const texts = new Set<string>()
    for (const c of [config('node-a', '192.168.0.1'), config('node-b', '192.168.0.2'), config('node-c', '192.168.0.3')]) {
      const alone = renderNftablesTransaction(buildNftablesRules({ state: buildProxyState(services, [slice], 'IPv4', c.nodeName), config: c }))
      const got = shared.forNode(c).text
      expect(got).toBe(alone)
      texts.add(alone.replaceAll(/192\.168\.0\.\d/g, 'NODE'))
    }
    // node-a's rules really differ from the others' (not only by its own IP).
    expect(texts.size).toBe(2)
  })
})
