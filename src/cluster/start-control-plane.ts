/**
 * Wires the control plane together: durable store in the data dir, admission hooks (node IPAM,
 * Service allocation, graceful pod deletion), the API server, bootstrap objects, the controllers
 * and, on request, the stand-in kubelet. Writes a kubeconfig and server.json (0600) into the data dir.
 */
import { systemClock, type Clock } from '../runtime/index.js'
import { rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  ApiServer, LocalApiClient, loadOrCreateServingCertificates, randomIds, renderKubeconfig,
  type AdmissionHook, type ApiServerLimits, type PodLogBackend, type PortForwardBackend, type RemoteCommandBackend, type ServiceProxyBackend, type StaticTokens,
} from '../apiserver/index.js'
import { ControllerManager, defaultTolerationSecondsHook, FakeKubelet, gracefulDeletionHook, nodeIpamHook, serviceAllocationHook, type DefaultTolerations } from '../controllers/index.js'
import { validateStoredObject } from '../api/index.js'
import { InputError } from '../errors.js'
import { ensurePrivateDir, isStoreError, openDurableStore, writePrivateFile, type KubeObject, type ObjectStore, type StoredObjectCheck, type VersionedStore } from '../store/index.js'
import { openEtcdClusterStore, type EtcdConnection } from './open-etcd-store.js'
import { bootstrapCluster } from './bootstrap.js'
import { defaultClusterConfig, type ClusterConfig } from './cluster-config.js'

export interface StartControlPlaneOptions {
  readonly dataDir: string
  /** 0 picks a free port. Default 6443. */
  readonly port?: number
  readonly host?: string
  readonly config?: ClusterConfig
  readonly clock?: Clock
  /** Run the stand-in kubelet on every Node (Pods become Running and Ready). */
  readonly fakeKubelet?: boolean | { readonly terminationDelayMs?: number }
  readonly onControllerError?: (controller: string, key: string, error: unknown) => void
  /** Carries the services/pods proxy subresources (kpe up wires the userspace dataplane). */
  readonly serviceProxy?: ServiceProxyBackend
  /** Dials into pods for pods/portforward (kpe up wires the pod network table). */
  readonly portForward?: PortForwardBackend
  /** Runs commands for pods/exec and pods/attach (kpe up's kubelets). */
  readonly remoteCommand?: RemoteCommandBackend
  /** Reads container logs on the nodes for pods/log (kpe up's kubelets). */
  readonly podLogs?: PodLogBackend
  /** Store recovery warnings (a torn WAL tail, skipped objects, tightened permissions). */
  readonly onWarning?: (message: string) => void
  /** Checks each object loaded from the data dir; problems keep it out of the served state. Default: the API's own validation. */
  readonly admit?: StoredObjectCheck
  /** Live state limit of the store in serialized bytes. Default 2 GiB. */
  readonly storeQuotaBytes?: number
  /** Keep every object in etcd instead of the data dir's store (kpe up --store etcd://...). */
  readonly etcd?: EtcdConnection
  /** The API server's connection, timeout and watch-buffer limits. */
  readonly apiLimits?: Partial<ApiServerLimits>
  /** Tokens from a kube-apiserver static token file: requests must carry one (kpe up --token-file). */
  readonly tokenFile?: { readonly path: string; readonly tokens: StaticTokens }
  /** Serve HTTPS with a self-signed CA kept in DATA_DIR/pki (kpe up --tls). */
  readonly tls?: boolean
  /** Events are deleted this long after their last write (kpe up --event-ttl). Default 1 h. */
  readonly eventTtlMs?: number
  /** Run the node lifecycle controller (only where kubelets renew their Leases: kpe up). */
  readonly nodeLifecycle?: { readonly gracePeriodMs?: number; readonly monitorPeriodMs?: number }
  /** tolerationSeconds the DefaultTolerationSeconds admission gives new Pods (default 300 each). */
  readonly defaultTolerations?: DefaultTolerations
}

/** What server.json holds: where the API server is, and what a client needs to reach it. */
export interface ServerInfo {
  readonly url: string
  readonly pid: number
  /** The token file whose first token the kubeconfig carries. */
  readonly tokenFile?: string
  /** PEM file of the CA that signed the serving certificate. */
  readonly certificateAuthority?: string
}

export interface ControlPlane {
  readonly url: string
  readonly kubeconfigPath: string
  readonly store: ObjectStore
  readonly client: LocalApiClient
  readonly controllers: ControllerManager
  readonly kubelet: FakeKubelet | undefined
  stop(): Promise<void>
}

export const kubeconfigFileName = 'kubeconfig'
export const serverInfoFileName = 'server.json'

export function admissionHooks(config: ClusterConfig, clock: Clock, tolerations: DefaultTolerations = {}): AdmissionHook[] {
  return [
    defaultTolerationSecondsHook(tolerations),
    nodeIpamHook(config.clusterCIDRs),
    serviceAllocationHook({ serviceRanges: config.serviceRanges, nodePortRange: config.nodePortRange, loadBalancerPool: config.loadBalancerPool }),
    gracefulDeletionHook(clock),
  ]
}

/** Where the store lives inside a kpe data dir. */
export function storeDirOf(dataDir: string): string {
  return join(dataDir, 'store')
}

/** Opens the data dir's store; a corrupt log becomes an input error that names the fix. */
export async function openClusterStore(dataDir: string, opts: Pick<StartControlPlaneOptions, 'onWarning' | 'admit' | 'storeQuotaBytes'> = {}): Promise<VersionedStore> {
  // the user may have named a dir that holds other things: report a loose mode, tighten only store/
  const loose = await ensurePrivateDir(dataDir, { tighten: false })
  if (loose) opts.onWarning?.(loose)
  try {
    return await openDurableStore({
      dataDir: storeDirOf(dataDir),
      ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
      // every object a previous kpe wrote is checked as a write would be: one that no longer validates is skipped and reported
      admit: opts.admit ?? validateStoredObject,
      ...(opts.storeQuotaBytes === undefined ? {} : { quotaBytes: opts.storeQuotaBytes }),
    })
  } catch (e) {
    if (!isStoreError(e, 'Corrupt')) throw e
    throw new InputError({}, e.message, {
      cause: e,
      hint: `see what is damaged with 'kpe store check --data-dir ${dataDir}'; 'kpe store repair --data-dir ${dataDir}' keeps every record before the damage, after a backup`,
    })
  }
}

export async function startControlPlane(opts: StartControlPlaneOptions): Promise<ControlPlane> {
  const config = opts.config ?? defaultClusterConfig()
  const clock = opts.clock ?? systemClock
  // Certificates before the store: a failure here leaves nothing open.
  const pki = join(opts.dataDir, 'pki')
  const tls = opts.tls ? await loadOrCreateServingCertificates(pki) : undefined
  const tokens = opts.tokenFile?.tokens
  const store = opts.etcd ? await openEtcdClusterStore(opts.dataDir, opts.etcd, opts) : await openClusterStore(opts.dataDir, opts)
  const hooks = admissionHooks(config, clock, opts.defaultTolerations)
  let server: ApiServer
  try {
    server = await ApiServer.start({
      store, port: opts.port ?? 6443, ...(opts.host ? { host: opts.host } : {}), clock, admissionHooks: hooks,
      ...(opts.serviceProxy ? { serviceProxy: opts.serviceProxy } : {}), ...(opts.portForward ? { portForward: opts.portForward } : {}),
      ...(opts.remoteCommand ? { remoteCommand: opts.remoteCommand } : {}),
      ...(opts.podLogs ? { podLogs: opts.podLogs } : {}),
      ...(opts.apiLimits ? { limits: opts.apiLimits } : {}), ...(tokens ? { tokens } : {}), ...(tls ? { tls } : {}),
    })
  } catch (e) {
    await store.close()
    throw e
  }
  // The server's catalogue and admission chain, so `kpe up -f` can write custom resources too.
  const client = new LocalApiClient({ store, clock, ids: randomIds, admissionHooks: server.admissionHooks, catalogue: server.catalogue, afterDelete: server.garbageCollector.deps.afterDelete })
  await bootstrapCluster(client, store, config.nodes)
  const controllers = new ControllerManager({
    store, client, clock, ...(opts.onControllerError ? { onError: opts.onControllerError } : {}), ...(opts.eventTtlMs !== undefined ? { eventTtlMs: opts.eventTtlMs } : {}),
    ...(opts.nodeLifecycle ? { nodeLifecycle: opts.nodeLifecycle } : {}),
  })
  controllers.start()
  const kubeletOpts = typeof opts.fakeKubelet === 'object' ? opts.fakeKubelet : {}
  const kubelet = opts.fakeKubelet ? new FakeKubelet({ store, client, clock, ...kubeletOpts }) : undefined
  kubelet?.start()
  const kubeconfigPath = join(opts.dataDir, kubeconfigFileName)
  await writePrivateFile(kubeconfigPath, renderKubeconfig(server.url, { ...(tokens ? { token: tokens.first } : {}), ...(tls ? { certificateAuthorityPem: tls.caPem } : {}) }))
  const info: ServerInfo = {
    url: server.url, pid: process.pid,
    ...(opts.tokenFile !== undefined ? { tokenFile: resolve(opts.tokenFile.path) } : {}), ...(tls ? { certificateAuthority: join(resolve(pki), 'ca.crt') } : {}),
  }
  await writePrivateFile(join(opts.dataDir, serverInfoFileName), `${JSON.stringify(info)}\n`)
  let stopped = false
  return {
    url: server.url, kubeconfigPath, store, client, controllers, kubelet,
    stop: async () => {
      if (stopped) return
      stopped = true
      kubelet?.stop()
      controllers.stop()
      await server.close()
      await store.close()
      await rm(join(opts.dataDir, serverInfoFileName), { force: true })
    },
  }
}
