/**
 * Renders a kubeconfig (YAML) pointing at a kpe apiserver over plain HTTP. Pure; callers write
 * it to a file of their choosing.
 */
import { stringify } from 'yaml'

export function renderKubeconfig(serverUrl: string, opts: { clusterName?: string; namespace?: string } = {}): string {
  const cluster = opts.clusterName ?? 'kpe'
  return stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: serverUrl } }],
    users: [{ name: `${cluster}-user`, user: {} }],
    contexts: [{ name: cluster, context: { cluster, user: `${cluster}-user`, namespace: opts.namespace ?? 'default' } }],
    'current-context': cluster,
    preferences: {},
  })
}
