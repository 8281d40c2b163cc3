/**
 * fast-check arbitraries for small clusters: Services of every type with random policies,
 * affinity, externalIPs, LB ingress and source ranges, and EndpointSlices with random
 * readiness, serving, terminating and node placement. Shared by property and lab tests.
 */
import fc from 'fast-check'
import type { EndpointSlice, Service } from '../../src/api/index.js'

export const nodeNames = ['node-a', 'node-b', 'node-c'] as const

export interface ClusterCase {
  readonly services: Service[]
  readonly endpointSlices: EndpointSlice[]
}

const protocolArb = fc.constantFrom('TCP', 'UDP', 'SCTP') as fc.Arbitrary<'TCP' | 'UDP' | 'SCTP'>

const endpointArb = fc.record({
  host: fc.integer({ min: 1, max: 40 }),
  node: fc.option(fc.constantFrom(...nodeNames), { nil: undefined }),
  ready: fc.option(fc.boolean(), { nil: undefined }),
  serving: fc.option(fc.boolean(), { nil: undefined }),
  terminating: fc.option(fc.boolean(), { nil: undefined }),
})

const serviceArb = (index: number) =>
  fc.record({
    type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer') as fc.Arbitrary<'ClusterIP' | 'NodePort' | 'LoadBalancer'>,
    ports: fc.uniqueArray(fc.record({ name: fc.constantFrom('http', 'https', 'dns', 'metrics'), port: fc.integer({ min: 1, max: 9000 }), protocol: protocolArb }), {
      minLength: 1,
      maxLength: 2,
      selector: (p) => p.name,
    }),
    externalIPs: fc.subarray(['192.168.99.10', '192.168.99.11']),
    lbIngress: fc.subarray(['1.2.3.4', '5.6.7.8']),
    sourceRanges: fc.subarray(['203.0.113.0/25', '192.168.0.0/16']),
    eLocal: fc.boolean(),
    iLocal: fc.boolean(),
    affinity: fc.option(fc.integer({ min: 1, max: 86400 }), { nil: undefined }),
    endpoints: fc.array(endpointArb, { maxLength: 5 }),
    withSlice: fc.boolean(),
  }).map((s): { service: Service; slice: EndpointSlice | undefined } => {
    const name = `svc${index}`
    const ns = index % 2 === 0 ? 'ns1' : 'ns2'
    const service: Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns },
      spec: {
        type: s.type,
        clusterIP: `172.30.0.${index + 1}`,
        ports: s.ports.map((p, i) => ({ ...p, ...(s.type !== 'ClusterIP' ? { nodePort: 30000 + index * 10 + i } : {}) })),
        ...(s.externalIPs.length > 0 ? { externalIPs: s.externalIPs } : {}),
        ...(s.type === 'LoadBalancer' && s.sourceRanges.length > 0 ? { loadBalancerSourceRanges: s.sourceRanges } : {}),
        ...(s.eLocal ? { externalTrafficPolicy: 'Local' as const } : {}),
        ...(s.iLocal ? { internalTrafficPolicy: 'Local' as const } : {}),
        ...(s.type === 'LoadBalancer' && s.eLocal ? { healthCheckNodePort: 32000 + index } : {}),
        ...(s.affinity !== undefined ? { sessionAffinity: 'ClientIP' as const, sessionAffinityConfig: { clientIP: { timeoutSeconds: s.affinity } } } : {}),
      },
      ...(s.type === 'LoadBalancer' && s.lbIngress.length > 0 ? { status: { loadBalancer: { ingress: s.lbIngress.map((ip) => ({ ip })) } } } : {}),
    }
    const seen = new Set<number>()
    const endpoints = s.endpoints.filter((e) => !seen.has(e.host) && seen.add(e.host))
    const slice: EndpointSlice | undefined = s.withSlice
      ? {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { name: `${name}-1`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
          addressType: 'IPv4',
          endpoints: endpoints.map((e) => ({
            addresses: [`10.180.${index}.${e.host}`],
            ...(e.node ? { nodeName: e.node } : {}),
            ...(e.ready !== undefined || e.serving !== undefined || e.terminating !== undefined
              ? { conditions: { ...(e.ready !== undefined ? { ready: e.ready } : {}), ...(e.serving !== undefined ? { serving: e.serving } : {}), ...(e.terminating !== undefined ? { terminating: e.terminating } : {}) } }
              : {}),
          })),
          ports: s.ports.map((p) => ({ name: p.name, port: p.port + 1000, protocol: p.protocol })),
        }
      : undefined
    return { service, slice }
  })

/** A cluster of 0..maxServices services, each with an optional slice. */
export function clusterArb(maxServices = 5): fc.Arbitrary<ClusterCase> {
  return fc.integer({ min: 0, max: maxServices }).chain((n) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => serviceArb(i))).map((list) => ({
      services: list.map((x) => x.service),
      endpointSlices: list.flatMap((x) => (x.slice ? [x.slice] : [])),
    })),
  )
}
