/**
 * Synthetic clusters for benchmarks: N ClusterIP+NodePort services with M endpoints each,
 * spread over three nodes. Deterministic, so every round measures the same input.
 */
import type { EndpointSlice, Service } from '../src/api/index.js'

export interface SyntheticCluster {
  readonly services: Service[]
  readonly endpointSlices: EndpointSlice[]
}

const nodes = ['node-a', 'node-b', 'node-c']

function ip(base: number, n: number): string {
  return `${base}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
}

export function syntheticCluster(services: number, endpointsPerService: number): SyntheticCluster {
  const out: SyntheticCluster = { services: [], endpointSlices: [] }
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`
    out.services.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'bench' },
      spec: { type: 'NodePort', clusterIP: ip(10, 0x600000 + i), ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30000 + (i % 2768) }] },
    })
    out.endpointSlices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: endpointsPerService }, (_, e) => ({
        addresses: [ip(10, 0xf40000 + ((i * endpointsPerService + e) % 0xbffff))],
        nodeName: nodes[(i + e) % nodes.length]!,
      })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    })
  }
  return out
}
