/**
 * Random small clusters that fit one fixed lab topology: three nodes (192.168.77.10-12, pod CIDRs
 * 10.244.{0,1,2}.0/24) with two pods each serving TCP 8080/8081 and UDP 5353, and random
 * Services over them (every type, traffic policies, affinity, source ranges, external IPs, LB
 * ingress) with EndpointSlices of random readiness, serving and terminating conditions. The
 * topology never changes, so one lab serves every cluster through `sync`. (The shared
 * test/helpers/cluster-arbitrary.ts places endpoints on addresses no lab pod has.)
 */
import fc from 'fast-check'
import { stringify } from 'yaml'
import { loadManifestText, type ManifestSet } from '../../src/api/index.js'

export const labNodes = [
  { name: 'node-a', ip: '192.168.77.10', cidr: '10.244.0.0/24', prefix: '10.244.0' },
  { name: 'node-b', ip: '192.168.77.11', cidr: '10.244.1.0/24', prefix: '10.244.1' },
  { name: 'node-c', ip: '192.168.77.12', cidr: '10.244.2.0/24', prefix: '10.244.2' },
] as const

export const labPods = labNodes.flatMap((n, i) =>
  [1, 2].map((k) => ({ name: `pod-${n.name.slice(-1)}${k}`, node: n.name, ip: `${n.prefix}.${k + 1}`, index: i * 2 + k - 1 })),
)

function baseObjects(): object[] {
  return [
    { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'iptables', clusterCIDR: '10.244.0.0/16', detectLocalMode: 'ClusterCIDR' },
    ...labNodes.map((n) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } },
      spec: { podCIDR: n.cidr, podCIDRs: [n.cidr] },
      status: { addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }], conditions: [{ type: 'Ready', status: 'True' }] },
    })),
    ...labPods.map((p) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: 'default', labels: { app: 'lab' } },
      spec: {
        nodeName: p.node,
        containers: [{ name: 'srv', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'alt', containerPort: 8081, protocol: 'TCP' }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }] }],
      },
      status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }], conditions: [{ type: 'Ready', status: 'True' }] },
    })),
  ]
}

const portArb = fc.oneof(
  fc.record({ protocol: fc.constant('TCP' as const), targetPort: fc.constantFrom(8080, 8081, 9999) }),
  fc.record({ protocol: fc.constant('UDP' as const), targetPort: fc.constantFrom(5353, 9999) }),
)

const endpointArb = fc.record({
  pod: fc.integer({ min: 0, max: labPods.length - 1 }),
  ready: fc.option(fc.boolean(), { nil: undefined }),
  serving: fc.option(fc.boolean(), { nil: undefined }),
  terminating: fc.option(fc.boolean(), { nil: undefined }),
})

function serviceArb(i: number): fc.Arbitrary<object[]> {
  return fc
    .record({
      type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer'),
      ports: fc.array(portArb, { minLength: 1, maxLength: 2 }),
      externalIP: fc.boolean(),
      lbIngress: fc.constantFrom('none', 'lan', 'remote'),
      sourceRanges: fc.subarray(['203.0.113.0/24', '192.168.77.0/28', '10.244.0.0/16']),
      eLocal: fc.boolean(),
      iLocal: fc.boolean(),
      affinity: fc.option(fc.integer({ min: 60, max: 86400 }), { nil: undefined }),
      endpoints: fc.uniqueArray(endpointArb, { maxLength: 4, selector: (e) => e.pod }),
      withSlice: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x < 0.9),
    })
    .map((s) => {
      const name = `svc${i}`
      const ports = s.ports.map((p, j) => ({ name: `p${j}`, port: 80 + j, protocol: p.protocol, targetPort: p.targetPort, ...(s.type !== 'ClusterIP' ? { nodePort: 30000 + i * 10 + j } : {}) }))
      const lb = s.type === 'LoadBalancer' && s.lbIngress !== 'none' ? (s.lbIngress === 'lan' ? `192.168.77.${200 + i}` : `5.6.7.${8 + i}`) : undefined
      const service = {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'default' },
        spec: {
          type: s.type,
          clusterIP: `10.96.0.${10 + i}`,
          ports,
          ...(s.externalIP ? { externalIPs: [`192.168.99.${10 + i}`] } : {}),
          ...(s.type === 'LoadBalancer' && s.sourceRanges.length > 0 ? { loadBalancerSourceRanges: s.sourceRanges } : {}),
          ...(s.eLocal && s.type !== 'ClusterIP' ? { externalTrafficPolicy: 'Local' } : {}),
          ...(s.iLocal ? { internalTrafficPolicy: 'Local' } : {}),
          ...(s.type === 'LoadBalancer' && s.eLocal ? { healthCheckNodePort: 32000 + i } : {}),
          ...(s.affinity !== undefined ? { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: s.affinity } } } : {}),
        },
        ...(lb ? { status: { loadBalancer: { ingress: [{ ip: lb }] } } } : {}),
      }
      if (!s.withSlice) return [service]
      const slice = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        endpoints: s.endpoints.map((e) => {
          const pod = labPods[e.pod]!
          const conditions = { ...(e.ready !== undefined ? { ready: e.ready } : {}), ...(e.serving !== undefined ? { serving: e.serving } : {}), ...(e.terminating !== undefined ? { terminating: e.terminating } : {}) }
          return { addresses: [pod.ip], nodeName: pod.node, ...(Object.keys(conditions).length > 0 ? { conditions } : {}) }
        }),
        ports: ports.map((p) => ({ name: p.name, port: p.targetPort, protocol: p.protocol })),
      }
      return [service, slice]
    })
}

/** The manifests of one random cluster (0-3 Services) on the fixed lab topology, as YAML. */
export function labClusterArb(maxServices = 3): fc.Arbitrary<string> {
  return fc
    .integer({ min: 0, max: maxServices })
    .chain((n) => (n === 0 ? fc.constant([] as object[][]) : fc.tuple(...Array.from({ length: n }, (_, i) => serviceArb(i)))))
    .map((svcs) => [...baseObjects(), ...svcs.flat()].map((o) => stringify(o)).join('---\n'))
}

export function loadLabCluster(yamlText: string): ManifestSet {
  return loadManifestText(yamlText, 'random-cluster.yaml')
}
