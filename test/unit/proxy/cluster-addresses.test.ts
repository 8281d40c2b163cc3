import { describe, expect, it } from 'vitest'
import type { Service } from '../../../src/api/index.js'
import { clusterAddresses, parseServiceDnsName, servicePortsFromService } from '../../../src/proxy/model/index.js'
import { resolveDestination } from '../../../src/proxy/trace/trace-request.js'
import { buildClusterIndex, decideDestination } from '../../../src/proxy/userspace/index.js'

function loadBalancer(ingress: { ip: string; ipMode?: 'VIP' | 'Proxy' }[], spec: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }], externalIPs: ['192.0.2.7'], ...spec },
    status: { loadBalancer: { ingress } },
  } as Service
}

describe('clusterAddresses: one decoding of a Service for rules, userspace index and trace', () => {
  it('an ipMode: Proxy load-balancer IP is captured by neither the rules nor the userspace index (as upstream kube-proxy)', () => {
    const svc = loadBalancer([{ ip: '203.0.113.1', ipMode: 'VIP' }, { ip: '203.0.113.2', ipMode: 'Proxy' }, { ip: '203.0.113.3' }])
    expect(clusterAddresses(svc).loadBalancerIPs).toEqual(['203.0.113.1', '203.0.113.3'])
    const [port] = servicePortsFromService(svc, 'IPv4')
    const index = buildClusterIndex({ services: [svc], pods: [], nodes: [] })
    const indexed = [...index.addresses].filter(([, a]) => a.kind === 'load-balancer-ip').map(([ip]) => ip)
    expect(port!.loadBalancerVIPs).toEqual(indexed)
    expect(decideDestination('203.0.113.2', 80, 'tcp', index).kind).toBe('refuse')
    expect(decideDestination('203.0.113.1', 80, 'tcp', index).kind).toBe('allow')
  })

  it('an empty clusterIPs list falls back to clusterIP in the rules, the index and trace alike', () => {
    const svc = loadBalancer([], { clusterIPs: [] })
    expect(clusterAddresses(svc).clusterIPs).toEqual(['10.96.0.10'])
    expect(servicePortsFromService(svc, 'IPv4')[0]!.clusterIP).toBe('10.96.0.10')
    const index = buildClusterIndex({ services: [svc], pods: [], nodes: [] })
    expect(index.addresses.get('10.96.0.10')?.kind).toBe('cluster-ip')
    expect(index.services.get('web.shop')).toEqual(['10.96.0.10'])
    expect(resolveDestination('web.shop.svc.cluster.local:80', { services: [svc], pods: [], nodes: [] }, 'IPv4', 'default').ip).toBe('10.96.0.10')
  })

  it('a list field of the wrong type (as an older store may hold) throws naming the field, so the consumer skips that Service', () => {
    const svc = loadBalancer([], { externalIPs: 'x' as never })
    expect(() => clusterAddresses(svc)).toThrow('spec.externalIPs')
    expect(buildClusterIndex({ services: [svc], pods: [], nodes: [] }).skipped.map((s) => s.key)).toEqual(['shop/web'])
  })

  it('a headless Service has no cluster address anywhere', () => {
    const svc = loadBalancer([], { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], externalIPs: [] })
    expect(clusterAddresses(svc).clusterIPs).toEqual([])
    expect(servicePortsFromService(svc, 'IPv4')).toEqual([])
    expect(buildClusterIndex({ services: [svc], pods: [], nodes: [] }).services.get('web.shop')).toEqual([])
  })
})

describe('parseServiceDnsName: the names trace and the userspace entry points accept', () => {
  it('accepts NAME.NS.svc with or without the cluster domain and a trailing dot, and nothing else', () => {
    expect(parseServiceDnsName('web.shop.svc', 'cluster.local')).toEqual({ namespace: 'shop', name: 'web' })
    expect(parseServiceDnsName('WEB.shop.svc.cluster.local.', 'cluster.local')).toEqual({ namespace: 'shop', name: 'web' })
    expect(parseServiceDnsName('web.shop.svc.other.domain', 'cluster.local')).toBeUndefined()
    expect(parseServiceDnsName('web.shop.svc.other.domain', 'other.domain')).toEqual({ namespace: 'shop', name: 'web' })
    expect(parseServiceDnsName('web.shop', 'cluster.local')).toBeUndefined()
    expect(parseServiceDnsName('-web.shop.svc', 'cluster.local')).toBeUndefined()
  })
})
