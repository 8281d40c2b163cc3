import { describe, expect, it } from 'vitest'
import { buildClusterIndex, decideDestination, parseProxyUser, externalClientAddress, resolveClient } from '../../../src/proxy/userspace/index.js'
import { loadFixture } from '../../helpers/fixtures.js'
import type { EndpointSlice } from '../../../src/api/index.js'
import { buildDnsZone, lookupHost } from '../../../src/dns/index.js'

const set = loadFixture('demo')
const index = buildClusterIndex({ services: set.services.map((l) => l.object), pods: set.pods.map((l) => l.object), nodes: set.nodes.map((l) => l.object) })

describe('decideDestination (no socket, no DNS)', () => {
  it.each([
    ['a ClusterIP', '10.96.0.100', 80, 'cluster-ip'],
    ['a LoadBalancer ingress IP', '192.168.77.200', 80, 'load-balancer-ip'],
    ['a pod IP', '10.244.1.2', 8080, 'pod-ip'],
    ['a node IP', '192.168.77.11', 30080, 'node-ip'],
    ['a service DNS name', 'web.default.svc.cluster.local', 80, 'cluster-ip'],
    ['a short service name with .svc', 'echo.default.svc', 80, 'cluster-ip'],
    ['a name with a trailing dot', 'web.default.svc.cluster.local.', 80, 'cluster-ip'],
  ])('allows %s', (_what, host, port, kind) => {
    expect(decideDestination(host, port, 'tcp', index)).toMatchObject({ kind: 'allow', addressKind: kind })
  })

  it('resolves a service name to its ClusterIP', () => {
    expect(decideDestination('web.default.svc.cluster.local', 80, 'tcp', index)).toMatchObject({ ip: '10.96.0.100' })
  })

  it.each([
    ['loopback', '127.0.0.1', 22, /loopback/],
    ['IPv6 loopback', '[::1]', 22, /loopback/],
    ['a public IP', '8.8.8.8', 53, /outside the cluster/],
    ['a public IPv6 address', '2001:4860:4860::8888', 443, /outside the cluster/],
    ['a private IP that is not a cluster address', '10.1.2.3', 80, /private address that no Service, pod or node/],
    ['a private 192.168 address outside the cluster', '192.168.1.1', 80, /private address/],
    ['a public DNS name', 'example.com', 80, /not a cluster name/],
    ['localhost', 'localhost', 80, /not a cluster name/],
    ['a service of another cluster domain', 'web.default.svc.other.local', 80, /not a cluster name/],
    ['a missing Service', 'nope.default.svc.cluster.local', 80, /no Service default\/nope/],
    ['a port out of range', '10.96.0.100', 70000, /out of range/],
  ])('refuses %s with a reason', (_what, host, port, reason) => {
    const d = decideDestination(host, port, 'tcp', index)
    expect(d.kind).toBe('refuse')
    expect(d.kind === 'refuse' ? d.reason : '').toMatch(reason)
  })
})

describe('proxy user convention', () => {
  it.each([
    [undefined, { kind: 'external', via: undefined }],
    ['via.node-b', { kind: 'external', via: 'node-b' }],
    ['pod.default.client', { kind: 'pod', namespace: 'default', name: 'client' }],
    ['pod.default.web-1.x', { kind: 'pod', namespace: 'default', name: 'web-1.x' }],
    ['node.node-c', { kind: 'node', node: 'node-c' }],
  ])('%s', (user, want) => {
    expect(parseProxyUser(user)).toEqual(want)
  })

  it('rejects anything else', () => {
    expect(parseProxyUser('root').kind).toBe('invalid')
  })

  it('a pod the index has not caught up with leaves from the address its caller read, the index winning once it has it', () => {
    const started = { ip: '10.244.0.99', node: 'node-b' }
    expect(resolveClient({ kind: 'pod', namespace: 'default', name: 'just-started' }, undefined, index, 'node-a')).toEqual({ error: 'no running pod default/just-started with an IP' })
    expect(resolveClient({ kind: 'pod', namespace: 'default', name: 'just-started', started }, undefined, index, 'node-a'))
      .toEqual({ src: '10.244.0.99', origin: 'external', node: 'node-b', describe: 'pod default/just-started (10.244.0.99)' })
    const client = index.pods.get('default/client')!
    expect(resolveClient({ kind: 'pod', namespace: 'default', name: 'client', started }, undefined, index, 'node-a')).toMatchObject({ src: client.ip, node: client.node })
  })

  it('maps loopback clients into the benchmarking range, keeping them distinct', () => {
    expect(externalClientAddress('127.0.0.1')).toBe('198.18.0.1')
    expect(externalClientAddress('127.0.3.7')).toBe('198.18.3.7')
  })
})

describe('decideDestination through cluster DNS', () => {
  const services = set.services.map((l) => l.object)
  const pods = set.pods.map((l) => l.object)
  const headless = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name: 'hl' }, spec: { clusterIP: 'None', ports: [{ port: 8080 }] } } as (typeof services)[number]
  const podIP = pods[0]!.status!.podIP!
  const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { namespace: 'default', name: 'hl-1', labels: { 'kubernetes.io/service-name': 'hl' } }, addressType: 'IPv4', endpoints: [{ addresses: [podIP], hostname: 'first' }] } as EndpointSlice
  const zone = buildDnsZone({ services: [...services, headless], endpointSlices: [slice], pods, clusterDomain: 'corp.internal' })
  const resolver = { lookupHost: (name: string, conf: { search: readonly string[]; ndots: number }) => lookupHost(zone, name, conf) }
  const dnsIndex = buildClusterIndex({ services: [...services, headless], pods, nodes: set.nodes.map((l) => l.object), clusterDomain: 'corp.internal', resolver })

  it.each([
    ['a Service in the configured domain', 'web.default.svc.corp.internal', '10.96.0.100'],
    ['a .svc name without the domain', 'web.default.svc', '10.96.0.100'],
    ['a headless Service (its ready endpoint)', 'hl.default.svc.corp.internal', podIP],
    ['an endpoint by hostname', 'first.hl.default.svc', podIP],
    ['a pod by its dashed address', `${podIP.replace(/\./g, '-')}.default.pod.corp.internal`, podIP],
  ])('allows %s', (_what, host, ip) => {
    expect(decideDestination(host, 80, 'tcp', dnsIndex)).toMatchObject({ kind: 'allow', ip })
  })

  it('refuses names DNS does not answer, and answers that are not cluster addresses', () => {
    expect(decideDestination('web.default.svc.cluster.local', 80, 'tcp', dnsIndex)).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/does not resolve in the cluster/) })
    expect(decideDestination('1-2-3-4.default.pod.corp.internal', 80, 'tcp', dnsIndex)).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/resolves to 1\.2\.3\.4, which no Service, pod or node/) })
  })
})
