/**
 * Reads a kubeconfig (clientcmd's v1 Config) into what one connection needs: the server URL, the
 * CA, a client certificate or bearer token. Pure over the text and a file reader, so relative
 * paths resolve against the kubeconfig's folder as kubectl resolves them. Exec and auth-provider
 * plugins run programs; kpe does not, and says so.
 */
import { dirname, isAbsolute, join } from 'node:path'
import { parse as parseYaml } from 'yaml'

export interface ClusterAccess {
  readonly server: string
  /** The context used, for messages. */
  readonly context: string
  readonly caPem?: string
  readonly certPem?: string
  readonly keyPem?: string
  readonly token?: string
  readonly insecureSkipTlsVerify: boolean
  readonly tlsServerName?: string
}

/** A kubeconfig that cannot be used: names the file and the field. */
export class KubeconfigError extends Error {
  constructor(file: string, field: string, message: string) {
    super(`${file}: ${field}: ${message}`)
    this.name = 'KubeconfigError'
  }
}

type Json = Record<string, unknown>

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Json : {}
}

function named(list: unknown, name: string, what: string, file: string, field: string): Json {
  const entries = Array.isArray(list) ? list.map(obj) : []
  const at = entries.findIndex((e) => e['name'] === name)
  if (at < 0) throw new KubeconfigError(file, field, `no ${what} named "${name}"`)
  return obj(entries[at]![what])
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

/**
 * The access of `context` (default: current-context). `readFile` reads files the kubeconfig
 * names (certificate-authority, client-certificate, client-key, tokenFile).
 */
export function clusterAccessFrom(text: string, file: string, readFile: (path: string) => string, context?: string): ClusterAccess {
  let doc: Json
  try {
    doc = obj(parseYaml(text))
  } catch (e) {
    throw new KubeconfigError(file, '(document)', `not YAML: ${e instanceof Error ? e.message : String(e)}`)
  }
  const contextName = context ?? str(doc['current-context'])
  if (contextName === undefined) throw new KubeconfigError(file, 'current-context', 'not set; pass --context NAME')
  const ctx = named(doc['contexts'], contextName, 'context', file, 'contexts')
  const clusterName = str(ctx['cluster'])
  if (clusterName === undefined) throw new KubeconfigError(file, `contexts[${contextName}].context.cluster`, 'not set')
  const cluster = named(doc['clusters'], clusterName, 'cluster', file, 'clusters')
  const userName = str(ctx['user'])
  const user = userName === undefined ? {} : named(doc['users'], userName, 'user', file, 'users')
  const server = str(cluster['server'])
  if (server === undefined) throw new KubeconfigError(file, `clusters[${clusterName}].cluster.server`, 'not set')
  if (!/^https?:\/\//.test(server)) throw new KubeconfigError(file, `clusters[${clusterName}].cluster.server`, `"${server}" is not an http(s) URL`)
  for (const plugin of ['exec', 'auth-provider'] as const) {
    if (user[plugin] !== undefined) throw new KubeconfigError(file, `users[${userName}].user.${plugin}`, 'credential plugins run programs; kpe does not: use a kubeconfig with a token or client certificate')
  }
  const resolve = (p: string): string => (isAbsolute(p) ? p : join(dirname(file), p))
  const pem = (data: unknown, path: unknown, field: string): string | undefined => {
    const d = str(data)
    if (d !== undefined) return Buffer.from(d, 'base64').toString('utf8')
    const p = str(path)
    if (p === undefined) return undefined
    try {
      return readFile(resolve(p))
    } catch (e) {
      throw new KubeconfigError(file, field, `cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
    }
  }
  const caPem = pem(cluster['certificate-authority-data'], cluster['certificate-authority'], `clusters[${clusterName}].cluster.certificate-authority`)
  const certPem = pem(user['client-certificate-data'], user['client-certificate'], `users[${userName}].user.client-certificate`)
  const keyPem = pem(user['client-key-data'], user['client-key'], `users[${userName}].user.client-key`)
  const token = str(user['token']) ?? pem(undefined, user['tokenFile'], `users[${userName}].user.tokenFile`)?.trim()
  const tlsServerName = str(cluster['tls-server-name'])
  return {
    server: server.replace(/\/+$/, ''), context: contextName, insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    ...(caPem !== undefined ? { caPem } : {}), ...(certPem !== undefined ? { certPem } : {}), ...(keyPem !== undefined ? { keyPem } : {}),
    ...(token !== undefined ? { token } : {}), ...(tlsServerName !== undefined ? { tlsServerName } : {}),
  }
}
