/**
 * Publishes the node agents' KubeProxyConfiguration as kubeadm does: ConfigMap
 * kube-system/kube-proxy, key config.conf. Clients that attach to a cluster (kpe rules
 * --kubeconfig, and people reading it with kubectl) learn kube-proxy's settings there.
 */
import { stringify } from 'yaml'
import type { KubeProxyConfiguration } from '../api/index.js'
import type { LocalApiClient } from '../apiserver/index.js'

export const kubeProxyConfigMapName = 'kube-proxy'

export async function publishKubeProxyConfig(client: LocalApiClient, config: KubeProxyConfiguration): Promise<void> {
  // the manifest reader gives every document a metadata; kube-proxy's own config has none
  const { metadata: _metadata, ...kubeProxyConfig } = config as KubeProxyConfiguration & { metadata?: unknown }
  await client.apply({
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: kubeProxyConfigMapName, namespace: 'kube-system', labels: { app: 'kube-proxy' } },
    data: { 'config.conf': stringify(kubeProxyConfig) },
  }, 'kpe-up')
}
