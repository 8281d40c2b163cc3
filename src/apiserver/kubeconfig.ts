/**
 * Renders a kubeconfig (YAML) pointing at a kpe apiserver: plain HTTP, or HTTPS with the CA that
 * signed its serving certificate inline; with a bearer token when the server asks for one. Pure;
 * callers write it to a file of their choosing (0600: it may hold a token).
 */
import { stringify } from 'yaml'

export interface KubeconfigOptions {
  readonly clusterName?: string
  readonly namespace?: string
  /** `users[].user.token` (kpe up --token-file). */
  readonly token?: string
  /** PEM of the CA for an https server (kpe up --tls): `certificate-authority-data`. */
  readonly certificateAuthorityPem?: string
}

export function renderKubeconfig(serverUrl: string, opts: KubeconfigOptions = {}): string {
  const cluster = opts.clusterName ?? 'kpe'
  const caData = opts.certificateAuthorityPem === undefined ? {} : { 'certificate-authority-data': Buffer.from(opts.certificateAuthorityPem).toString('base64') }
  return stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: serverUrl, ...caData } }],
    users: [{ name: `${cluster}-user`, user: opts.token === undefined ? {} : { token: opts.token } }],
    contexts: [{ name: cluster, context: { cluster, user: `${cluster}-user`, namespace: opts.namespace ?? 'default' } }],
    'current-context': cluster,
    preferences: {},
  })
}
