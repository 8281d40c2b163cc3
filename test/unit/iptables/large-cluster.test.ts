import { describe, expect, it } from 'vitest'
import { syntheticCluster } from '../../../bench/synthetic-cluster.js'
import { buildIptablesRules } from '../../../src/proxy/iptables/index.js'
import { buildProxyState, resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { renderIptablesRestore } from '../../../src/proxy/netfilter/index.js'

const config = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.244.0.0/16' },
  ipFamily: 'IPv4',
  node: undefined,
  nodeName: 'node-a',
})

function render(services: number, endpoints: number): string {
  const c = syntheticCluster(services, endpoints)
  return renderIptablesRestore(buildIptablesRules({ state: buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a'), config }))
}

describe('large-cluster mode (more than 1000 endpoints)', () => {
  it('keeps comments at exactly 1000 endpoints', () => {
    const text = render(100, 10)
    expect(text).toMatch(/^-A KUBE-SEP-\w+ -m comment --comment bench\/svc-0:http -m tcp -p tcp -j DNAT/m)
  })

  it('drops the comments of SEP and dispatch rules above 1000, and only those', () => {
    const text = render(101, 10)
    expect(text).toMatch(/^-A KUBE-SEP-\w+ -m tcp -p tcp -j DNAT --to-destination [\d.]+:8080$/m)
    expect(text).toMatch(/^-A KUBE-SEP-\w+ -s [\d.]+ -j KUBE-MARK-MASQ$/m)
    expect(text).toMatch(/^-A KUBE-SVC-\w+ -m statistic --mode random --probability 0\.1000000000 -j KUBE-SEP-\w+$/m)
    expect(text).not.toMatch(/^-A KUBE-SEP-.*--comment/m)
    expect(text).toMatch(/^-A KUBE-SVC-\w+ -m comment --comment "bench\/svc-0:http cluster IP"/m)
    expect(text).toMatch(/^-A KUBE-SERVICES -m comment --comment "bench\/svc-0:http cluster IP"/m)
  })
})
