/**
 * Attach mode: the inputs of `kpe rules`/`kpe trace` read from a running cluster through a
 * kubeconfig instead of manifest files. Read-only (get, list, watch): Services, EndpointSlices,
 * Nodes, and the kube-proxy ConfigMap (kube-system/kube-proxy, key config.conf) when present;
 * Pods only where a trace names one. Objects pass the same validation as manifests.
 */
import { readFileSync } from 'node:fs'
import { emptyManifestSet, loadManifestObjects, parseProxierConfigFile, type ManifestSet, type ProxierConfigFile } from '../api/index.js'
import { ApiStatusError, clusterAccessFrom, KubeconfigError, ListWatcher, RestClient } from '../client/index.js'
import { InputError, KpeError, NotFoundError, UsageError } from '../errors.js'
import { realTimers } from '../runtime/index.js'
import { readText } from './read-inputs.js'

export interface AttachFlags {
  readonly kubeconfig?: string | undefined
  readonly context?: string | undefined
}

/** What attach mode reads, with the path it lists and the kind its items are. */
const collections = [
  { path: '/api/v1/services', apiVersion: 'v1', kind: 'Service' },
  { path: '/apis/discovery.k8s.io/v1/endpointslices', apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' },
  { path: '/api/v1/nodes', apiVersion: 'v1', kind: 'Node' },
] as const
const podsCollection = { path: '/api/v1/pods', apiVersion: 'v1', kind: 'Pod' } as const
type Collection = (typeof collections)[number] | typeof podsCollection

const kubeProxyConfigMap = '/api/v1/namespaces/kube-system/configmaps/kube-proxy'
export const permissionsHint = 'attach mode needs get/list/watch on services, endpointslices.discovery.k8s.io and nodes, and get on configmaps in kube-system'

/** An API answer that stops attach mode, as a kpe error naming the request and what to grant. */
function attachError(err: unknown): KpeError {
  if (err instanceof KpeError) return err
  if (err instanceof KubeconfigError) return new UsageError(err.message)
  if (err instanceof ApiStatusError && (err.code === 401 || err.code === 403)) return new UsageError(err.message, { hint: permissionsHint })
  if (err instanceof Error && /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT/.test(err.message)) return new NotFoundError(`the API server is not answering: ${err.message}`, { hint: 'is the cluster (or kpe up) running?' })
  return new InputError({ file: 'cluster' }, err instanceof Error ? err.message : String(err))
}

export function restClientFor(flags: AttachFlags): RestClient {
  const file = flags.kubeconfig
  if (file === undefined) throw new UsageError('--kubeconfig FILE is needed')
  try {
    return new RestClient(clusterAccessFrom(readText(file), file, (p) => readFileSync(p, 'utf8'), flags.context))
  } catch (e) {
    throw attachError(e)
  }
}

function withKind(c: Collection, items: readonly unknown[]): unknown[] {
  // list items carry no apiVersion/kind on the wire; the list's kind says what they are
  return items.map((item) => ({ apiVersion: c.apiVersion, kind: c.kind, ...(item as object) }))
}

function toManifests(lists: ReadonlyMap<Collection, readonly unknown[]>): ManifestSet {
  const set = emptyManifestSet()
  for (const [c, items] of lists) loadManifestObjects(withKind(c, items), `cluster ${c.path}`, set, { strictFields: false })
  return set
}

/** The cluster's kube-proxy configuration, or undefined when it has no kube-proxy ConfigMap. */
async function readKubeProxyConfig(client: RestClient): Promise<ProxierConfigFile | undefined> {
  let cm: Record<string, unknown>
  try {
    cm = await client.get(kubeProxyConfigMap)
  } catch (e) {
    if (e instanceof ApiStatusError && e.code === 404) return undefined
    throw e
  }
  const text = ((cm['data'] ?? {}) as Record<string, unknown>)['config.conf']
  return typeof text === 'string' ? parseProxierConfigFile(text, 'ConfigMap kube-system/kube-proxy, key config.conf') : undefined
}

export interface ClusterInputs {
  readonly manifests: ManifestSet
  readonly config: ProxierConfigFile | undefined
}

/** One snapshot of the cluster's rule inputs (pods too when `withPods`). */
export async function readClusterInputs(client: RestClient, opts: { withPods?: boolean } = {}): Promise<ClusterInputs> {
  try {
    const wanted: Collection[] = [...collections, ...(opts.withPods ? [podsCollection] : [])]
    const lists = await Promise.all(wanted.map(async (c) => [c, (await client.source(c.path).list()).items] as const))
    return { manifests: toManifests(new Map(lists)), config: await readKubeProxyConfig(client) }
  } catch (e) {
    throw attachError(e)
  }
}

/**
 * Calls `render` with fresh inputs after the first complete list and after every change (changes
 * closer than `settleMs` render once), until the process ends. The ConfigMap is read once.
 */
export async function watchClusterInputs(client: RestClient, render: (inputs: ClusterInputs) => void, settleMs = 200): Promise<never> {
  const config = await readKubeProxyConfig(client).catch((e: unknown) => { throw attachError(e) })
  const watchers = new Map<Collection, ListWatcher<{ metadata: { name?: string } }>>()
  const synced = new Set<Collection>()
  let timer: NodeJS.Timeout | undefined
  const schedule = (): void => {
    if (synced.size < collections.length || timer !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      try {
        render({ manifests: toManifests(new Map([...watchers].map(([c, w]) => [c, w.items()] as const))), config })
      } catch (e) {
        process.stderr.write(`kpe: ${e instanceof Error ? e.message : String(e)}\n`)
      }
    }, settleMs)
  }
  return new Promise<never>((_resolve, reject) => {
    for (const c of collections) {
      const watcher = new ListWatcher(client.source<{ metadata: { name?: string } }>(c.path), {
        change: schedule,
        synced: () => { synced.add(c); schedule() },
        error: (e) => {
          if (e instanceof ApiStatusError && (e.code === 401 || e.code === 403)) reject(attachError(e))
        },
      }, { timers: realTimers, kind: c.kind })
      watchers.set(c, watcher)
      void watcher.start()
    }
  })
}
