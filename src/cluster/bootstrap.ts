/**
 * Objects a fresh cluster starts with: the `kubernetes` Service in `default` (it takes the
 * service CIDR's first address through the normal allocation path) and the configured Nodes
 * (which get their pod CIDRs through node IPAM). Existing objects are left alone.
 */
import type { LocalApiClient } from '../apiserver/index.js'
import { resources } from '../controllers/index.js'
import type { KubeObject, ObjectStoreReader } from '../store/index.js'
import type { NodeConfig } from './cluster-config.js'

export function kubernetesService(): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None' },
  }
}

export function nodeObject(n: NodeConfig): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...n.labels } },
    spec: n.taints.length > 0 ? { taints: [...n.taints] } : {},
    status: {
      addresses: [...n.internalIPs.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: n.name }],
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kpe node' }],
      nodeInfo: { kubeletVersion: 'v1.32.0-kpe', kubeProxyVersion: 'v1.32.0-kpe', operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'kpe://0', osImage: 'kpe', kernelVersion: '', machineID: '', systemUUID: '', bootID: '' },
    },
  }
}

export async function bootstrapCluster(client: LocalApiClient, store: ObjectStoreReader, nodes: readonly NodeConfig[]): Promise<void> {
  if (!store.get({ resource: 'services', namespace: 'default', name: 'kubernetes' })) await client.create(resources.services, kubernetesService())
  for (const n of nodes) {
    if (!store.get({ resource: 'nodes', namespace: '', name: n.name })) await client.create(resources.nodes, nodeObject(n))
  }
}
