import { describe, expect, it } from 'vitest'
import { parseIP } from '../../../src/net/index.js'
import { ingressEndpointSlice, ingressService } from '../../../src/up/ingress-service.js'

describe('the Ingress controller\'s LoadBalancer Service', () => {
  it('has a port per listener the controller serves, without a selector (kpe writes the endpoint)', () => {
    const both = ingressService({ http: 18088, https: 18443 })
    expect(both.metadata).toMatchObject({ namespace: 'kube-system', name: 'kpe-ingress' })
    expect(both['spec']).toEqual({ type: 'LoadBalancer', ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 80 },
      { name: 'https', port: 443, protocol: 'TCP', targetPort: 443 },
    ] })
    expect((ingressService({ https: 18443 })['spec'] as { ports: { name: string }[] }).ports.map((p) => p.name)).toEqual(['https'])
  })

  it('has one ready endpoint on the node address, in the family of that address', () => {
    const slice = ingressEndpointSlice(parseIP('192.168.77.10')!, 'node-a', { http: 18088 })
    expect(slice.metadata.labels).toMatchObject({ 'kubernetes.io/service-name': 'kpe-ingress' })
    expect(slice).toMatchObject({ addressType: 'IPv4', endpoints: [{ addresses: ['192.168.77.10'], nodeName: 'node-a', conditions: { ready: true } }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] })
    expect(ingressEndpointSlice(parseIP('fd00::10')!, 'node-a', { http: 1 })['addressType']).toBe('IPv6')
  })
})
