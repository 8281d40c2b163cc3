/**
 * Wires the control plane together: durable store in the data dir, admission hooks (node IPAM,
 * Service allocation, graceful pod deletion), the API server, bootstrap objects, the controllers
 * and, on request, the stand-in kubelet. Writes a kubeconfig and server.json into the data dir.
 */
import { rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  ApiServer, LocalApiClient, loadOrCreateServingCertificates, randomIds, renderKubeconfig, systemClock,
  type AdmissionHook, type ApiServerLimits, type Clock, type PortForwardBackend, type ServiceProxyBackend, type StaticTokens,
} from '../apiserver/index.js'
import { ControllerManager, FakeKubelet, gracefulDeletionHook, nodeIpamHook, serviceAllocationHook } from '../controllers/index.js'
import { ensurePrivateDir, writePrivateFile } from '../private-files.js'
import { openDurableStore, type VersionedStore } from '../store/index.js'
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
  /** The API server's connection, timeout and watch-buffer limits. */
  readonly apiLimits?: Partial<ApiServerLimits>
  /** Tokens from a kube-apiserver static token file: requests must carry one (kpe up --token-file). */
  readonly tokenFile?: { readonly path: string; readonly tokens: StaticTokens }
  /** Serve HTTPS with a self-signed CA kept in DATA_DIR/pki (kpe up --tls). */
  readonly tls?: boolean
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
  readonly store: VersionedStore
  readonly client: LocalApiClient
  readonly controllers: ControllerManager
  readonly kubelet: FakeKubelet | undefined
  stop(): Promise<void>
}

export const kubeconfigFileName = 'kubeconfig'
export const serverInfoFileName = 'server.json'

export function admissionHooks(config: ClusterConfig, clock: Clock): AdmissionHook[] {
  return [
    nodeIpamHook(config.clusterCIDRs),
    serviceAllocationHook({ serviceRanges: config.serviceRanges, nodePortRange: config.nodePortRange, loadBalancerPool: config.loadBalancerPool }),
    gracefulDeletionHook(clock),
  ]
}

export async function startControlPlane(opts: StartControlPlaneOptions): Promise<ControlPlane> {
  const config = opts.config ?? defaultClusterConfig()
  const clock = opts.clock ?? systemClock
  await ensurePrivateDir(opts.dataDir)
  const tokens = opts.tokenFile?.tokens
  const pki = join(opts.dataDir, 'pki')
  const tls = opts.tls ? await loadOrCreateServingCertificates(pki) : undefined
  const store = await openDurableStore({ dataDir: join(opts.dataDir, 'store') })
  const hooks = admissionHooks(config, clock)
  let server: ApiServer
  try {
    server = await ApiServer.start({
      store, port: opts.port ?? 6443, ...(opts.host ? { host: opts.host } : {}), clock, admissionHooks: hooks,
      ...(opts.serviceProxy ? { serviceProxy: opts.serviceProxy } : {}), ...(opts.portForward ? { portForward: opts.portForward } : {}),
      ...(opts.apiLimits ? { limits: opts.apiLimits } : {}), ...(tokens ? { tokens } : {}), ...(tls ? { tls } : {}),
    })
  } catch (e) {
    await store.close()
    throw e
  }
  const client = new LocalApiClient({ store, clock, ids: randomIds, admissionHooks: hooks })
  await bootstrapCluster(client, store, config.nodes)
  const controllers = new ControllerManager({ store, client, clock, ...(opts.onControllerError ? { onError: opts.onControllerError } : {}) })
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
