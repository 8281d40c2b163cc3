import { describe, expect, it } from 'vitest'
import type { EndpointSlice, Node, Service } from '../../../src/api/index.js'
import { renderUpSummary } from '../../../src/up/summary.js'

describe('kpe up summary', () => {
  it('counts an EndpointSlice without an endpoints list as no ready endpoints (the field is optional in the API)', () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.9', ports: [{ port: 80 }] } } as Service
    const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4' } as unknown as EndpointSlice
    const text = renderUpSummary({
      nodes: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } } as Node], services: [service], endpointSlices: [slice],
      nodeLoopbacks: new Map(), apiUrl: 'http://127.0.0.1:6443', kubeconfigPath: '/tmp/k', socksPort: undefined, httpProxyPort: undefined, agentsUrl: 'http://127.0.0.1:1', manifests: [],
    })
    expect(text).toContain('web')
  })

  it('says where the state stays: the data dir, or etcd with --store', () => {
    const base = { nodes: [], services: [], endpointSlices: [], nodeLoopbacks: new Map(), apiUrl: 'http://127.0.0.1:6443', kubeconfigPath: '/tmp/k', socksPort: undefined, httpProxyPort: undefined, agentsUrl: 'http://127.0.0.1:1', manifests: [] }
    expect(renderUpSummary(base)).toContain('state stays in the data dir.')
    expect(renderUpSummary({ ...base, store: 'etcd (127.0.0.1:2379, under /registry)' })).toContain('state stays in etcd (127.0.0.1:2379, under /registry).')
  })
})
