/**
 * A synthetic cluster with many nodes for the all-nodes render benchmark: Nodes in three zones,
 * NodePort Services whose endpoints spread over the nodes, one in 20 with
 * externalTrafficPolicy Local, one in 20 with zone hints, one in 50 with internalTrafficPolicy
 * Local. Deterministic, so every round measures the same input.
 */
import type { EndpointSlice, Node, Service } from '../src/api/index.js'
import { zoneLabel } from '../src/api/index.js'

export interface SyntheticNodesCluster {
  readonly nodes: Node[]
  readonly services: Service[]
  readonly endpointSlices: EndpointSlice[]
}

const zones = ['zone-a', 'zone-b', 'zone-c']

function ip(base: number, n: number): string {
  return `${base}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
}

export function syntheticNodesCluster(nodeCount: number, serviceCount: number, endpointsPerService: number): SyntheticNodesCluster {
  const nodes: Node[] = Array.from({ length: nodeCount }, (_, n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `node-${n}`, labels: { [zoneLabel]: zones[n % zones.length]! } },
    spec: { podCIDR: `10.244.${n & 255}.0/24` },
    status: { addresses: [{ type: 'InternalIP', address: ip(172, 0x100000 + n) }] },
  }))
  const services: Service[] = []
  const endpointSlices: EndpointSlice[] = []
  for (let i = 0; i < serviceCount; i++) {
    const name = `svc-${i}`
    const eLocal = i % 20 === 0
    const hinted = i % 20 === 10
    const iLocal = i % 50 === 25
    services.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'bench' },
      spec: {
        type: 'NodePort',
        clusterIP: ip(10, 0x600000 + i),
        ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30000 + (i % 2768) }],
        ...(eLocal ? { externalTrafficPolicy: 'Local' as const } : {}),
        ...(iLocal ? { internalTrafficPolicy: 'Local' as const } : {}),
      },
    })
    endpointSlices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: endpointsPerService }, (_, e) => {
        // Spread a Service's endpoints over distant nodes (and so over the zones).
        const node = ((i * endpointsPerService + e) * 7919) % nodeCount
        return {
          addresses: [ip(10, 0xf40000 + ((i * endpointsPerService + e) % 0xbffff))],
          nodeName: `node-${node}`,
          ...(hinted ? { hints: { forZones: [{ name: zones[node % zones.length]! }] } } : {}),
        }
      }),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    })
  }
  return { nodes, services, endpointSlices }
}
