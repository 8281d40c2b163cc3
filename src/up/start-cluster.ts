/**
 * `kpe up`: the control plane, then one node agent set per Node (kubelet, kube-proxy loop,
 * userspace dataplane) fed from the store in process, the entry points, and the agents' local
 * HTTP endpoint. Everything listens on loopback only; stop() undoes it in reverse order.
 */
import { join } from 'node:path'
import { defaultKubeProxyConfiguration, type EndpointSlice, type KubeProxyConfiguration, type Node, type Pod, type Service } from '../api/index.js'
import { publishKubeProxyConfig } from './kube-proxy-configmap.js'
import { findByKind, ApiError, type ApiServerLimits, type StaticTokens } from '../apiserver/index.js'
import { applyManifestDocuments, startControlPlane, type ClusterConfig, type ControlPlane, type EtcdConnection, type ManifestDocument } from '../cluster/index.js'
import type { PodStatusWriter } from '../kubelet/index.js'
import { mathRandomSource, systemClock, realTimers } from '../runtime/index.js'
import { startNodeAgents, type NodeAgents } from '../node/index.js'
import { decideDestination, type UserspaceLimits } from '../proxy/userspace/index.js'
import { writePrivateFile, type KubeObject } from '../store/index.js'
import { startAgentServer, type AgentServer } from './agent-server.js'
import { DataplaneServiceProxy } from './api-proxy-backend.js'
import { EphemeralPorts } from './ephemeral-ports.js'
import { startKubeDns, type KubeDns } from './kube-dns.js'
import { IngressController, ingressEntry } from './ingress-controller.js'
import { exposeIngressController, ingressServiceIPs } from './ingress-service.js'
import { entryPoints, writeServerInfo, type EntryPoints } from './server-info.js'
import { PodNetworkPortForward } from './port-forward-backend.js'
import { podExecWiring } from './pod-exec-wiring.js'
import { kubeletDialRefusal } from './kubelet-reachability.js'
import { clusterDnsPodResolver } from './pod-toolbox.js'
import { allowExecHostExec } from './host-exec.js'
import { KubeletPodLogs, kubeletContainerOutput } from './pod-log-backend.js'
import { storeObjectSource } from './store-source.js'
import { splitRealNodes, startLightweightNodes, type LightweightNodes } from './lightweight-nodes.js'
import type { StartKernelDataplane } from './kernel-seam.js'

export interface StartClusterOptions {
  readonly dataDir: string
  readonly apiPort: number
  readonly config: ClusterConfig
  readonly manifests: readonly ManifestDocument[]
  readonly socksPort: number
  readonly httpProxyPort: number
  readonly metricsPort: number
  readonly nodeLoopbackPrefix?: string
  readonly allowExec?: boolean
  readonly log?: (line: string) => void
  /** The API server's connection, timeout and watch-buffer limits. */
  readonly apiLimits?: Partial<ApiServerLimits>
  /** Per-listener caps and timeouts of the entry points (NodePort, SOCKS5, HTTP proxy). */
  readonly entryLimits?: Partial<UserspaceLimits>
  readonly tokenFile?: { readonly path: string; readonly tokens: StaticTokens }
  readonly tls?: boolean
  /** The store's live-state quota in bytes (kpe up --store-quota). */
  readonly storeQuotaBytes?: number
  /** Keep the objects in etcd (kpe up --store etcd://...). */
  readonly etcd?: EtcdConnection
  /** Cluster DNS on 127.0.0.1:dnsPort for the host (kpe up --dns-port); 0 or unset: none. */
  readonly dnsPort?: number
  /** dnsPort is the default, not asked for: a taken port is a warning, not a failure. */
  readonly dnsPortIsDefault?: boolean
  /** The Ingress controller's HTTP and HTTPS ports on 127.0.0.1 (kpe up --ingress-port, --ingress-tls-port); 0 or unset: none. */
  readonly ingressPort?: number
  readonly ingressTlsPort?: number
  readonly ingressPortsAreDefault?: boolean
  /** Events, node heartbeats and node failure (kpe up --event-ttl, --node-monitor-grace-period, ...). */
  readonly nodeHealth?: NodeHealthOptions
  /** The nodes that run real agents (kpe up --real-nodes); the others are lightweight. Default: all. */
  readonly realNodes?: readonly string[]
  /** kpe up --dataplane kernel: pods and node rules in network namespaces (src/kernel). */
  readonly kernel?: StartKernelDataplane
}

export interface NodeHealthOptions {
  readonly eventTtlMs?: number
  /** After this long without a Lease renewal a Node turns Unknown (default 40 s). */
  readonly nodeMonitorGracePeriodMs?: number
  /** tolerationSeconds of the unreachable NoExecute taint new Pods get (default 300). */
  readonly unreachableTolerationSeconds?: number
}

export interface RunningCluster {
  readonly controlPlane: ControlPlane
  readonly agents: NodeAgents
  readonly agentServer: AgentServer
  readonly dns: KubeDns
  readonly ingress: IngressController
  /** Where every entry point listens (also in DATA_DIR/server.json). */
  readonly entryPoints: EntryPoints
  readonly applied: readonly string[]
  /** The nodes without agents, whose Pods a fake kubelet reports (kpe up --nodes). */
  readonly lightweight: LightweightNodes | undefined
  stop(): Promise<void>
}

export const agentsInfoFileName = 'agents.json'

const podInfo = findByKind('v1', 'Pod')!
/** Conflicts in a row before a status write gives up (the kubelet then retries it later). */
const statusRetries = 5

/**
 * Status writes from kubelets: re-read on conflict, as a kubelet's status manager does. The
 * store's reads show durable writes only, so each retry first waits for the writes in flight.
 */
function statusWriter(cp: ControlPlane): PodStatusWriter {
  const key = (pod: Pod) => ({ resource: 'pods', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' })
  return {
    async writeStatus(pod, status) {
      for (let attempt = 0; ; attempt++) {
        const current = (cp.store.get(key(pod)) ?? pod) as unknown as KubeObject
        try {
          await cp.client.updateStatus(podInfo, { ...current, status } as KubeObject)
          return
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 409) || attempt >= statusRetries) throw err
          // Reads show only durable writes: wait for the ones in flight before re-reading.
          await cp.store.settled()
        }
      }
    },
    async finalizeDeletion(pod) {
      try {
        await cp.client.delete(podInfo, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0 })
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err
      }
    },
  }
}

/**
 * The kubelets' Lease duration: upstream's 40 s, the default grace period; a shorter grace
 * period (labs) shortens it too, so the renewals (a quarter of it) come well within the grace.
 */
function leaseDurationFor(graceMs: number | undefined): number {
  return graceMs === undefined ? 40 : Math.min(40, Math.max(1, Math.floor(graceMs / 1000)))
}

/** kpe up's kubelets heartbeat, so the node lifecycle controller runs; the flags tune it. */
function nodeHealthOptions(h: NodeHealthOptions): Pick<Parameters<typeof startControlPlane>[0], 'eventTtlMs' | 'nodeLifecycle' | 'defaultTolerations'> {
  return {
    ...(h.eventTtlMs !== undefined ? { eventTtlMs: h.eventTtlMs } : {}),
    nodeLifecycle: h.nodeMonitorGracePeriodMs !== undefined ? { gracePeriodMs: h.nodeMonitorGracePeriodMs } : {},
    ...(h.unreachableTolerationSeconds !== undefined ? { defaultTolerations: { unreachableSeconds: h.unreachableTolerationSeconds } } : {}),
  }
}

export async function startCluster(o: StartClusterOptions): Promise<RunningCluster> {
  // A KubeProxyConfiguration among the manifests configures the node agents; it is not an API object.
  const proxyConfig = o.manifests.find((d) => d.object.kind === 'KubeProxyConfiguration')?.object as KubeProxyConfiguration | undefined
  const apiDocs = o.manifests.filter((d) => d.object.kind !== 'KubeProxyConfiguration')
  const sourcePorts = new EphemeralPorts()
  const serviceProxy = new DataplaneServiceProxy(sourcePorts)
  const portForward = new PodNetworkPortForward(sourcePorts)
  const podLogs = new KubeletPodLogs()
  let proxyPorts: { readonly socks?: number; readonly http?: number } = {}
  // Host processes for exec exist only with --allow-exec (host-exec.ts); otherwise the toolbox runs everything.
  const exec = podExecWiring(sourcePorts, () => controlPlane.store, o.allowExec ? allowExecHostExec(() => proxyPorts) : undefined)
  const controlPlane = await startControlPlane({
    dataDir: o.dataDir, port: o.apiPort, config: o.config, serviceProxy, portForward, podLogs, remoteCommand: exec.backend, onWarning: (w: string) => o.log?.(`kpe up: warning: ${w}`),
    ...(o.apiLimits ? { apiLimits: o.apiLimits } : {}), ...(o.tokenFile ? { tokenFile: o.tokenFile } : {}), ...(o.tls ? { tls: true } : {}),
    ...(o.storeQuotaBytes === undefined ? {} : { storeQuotaBytes: o.storeQuotaBytes }), ...(o.etcd ? { etcd: o.etcd } : {}),
    ...nodeHealthOptions(o.nodeHealth ?? {}),
    // A controller's failure stays in its loop (retried with backoff); here it is reported.
    ...(o.log ? { onControllerError: (controller: string, key: string, err: unknown) => o.log?.(`controller ${controller}: ${key}: ${err instanceof Error ? err.message : String(err)}`) } : {}),
  })
  const stops: (() => Promise<void>)[] = [() => controlPlane.stop()]
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop()
  }
  try {
    const dns = await startKubeDns({ controlPlane, config: o.config, manifests: apiDocs, ...(o.dnsPort ? { hostPort: o.dnsPort, hostPortIsDefault: o.dnsPortIsDefault === true } : {}), ...(o.log ? { log: o.log } : {}) })
    stops.push(async () => dns.stop())
    exec.contexts.useResolver(clusterDnsPodResolver(dns.dns))
    const applied = await applyManifestDocuments(controlPlane.client, apiDocs)
    await publishKubeProxyConfig(controlPlane.client, proxyConfig ?? defaultKubeProxyConfiguration())
    const store = controlPlane.store
    const allNodes = store.list('nodes').items as unknown as Node[]
    const names = allNodes.map((n) => n.metadata.name ?? '')
    const split = splitRealNodes(names, o.realNodes, names)
    const real = new Set(split.real)
    const nodes = allNodes.filter((n) => real.has(n.metadata.name ?? ''))
    const kernel = o.kernel ? await o.kernel({ dataDir: o.dataDir, nodes, kubeProxyConfiguration: proxyConfig, ...(o.log ? { log: o.log } : {}) }) : undefined
    if (kernel) stops.push(() => kernel.stop())
    const agents = await startNodeAgents({
      nodes,
      ...(proxyConfig ? { kubeProxyConfiguration: proxyConfig } : {}),
      pods: storeObjectSource<Pod>(store, 'pods'),
      services: storeObjectSource<Service>(store, 'services'),
      endpointSlices: storeObjectSource<EndpointSlice>(store, 'endpointslices.discovery.k8s.io'),
      status: statusWriter(controlPlane),
      timers: realTimers,
      clock: systemClock,
      random: mathRandomSource,
      socksPort: o.socksPort,
      httpProxyPort: o.httpProxyPort,
      ...(o.nodeLoopbackPrefix ? { nodeLoopbackPrefix: o.nodeLoopbackPrefix } : {}),
      ...(o.allowExec ? { allowExec: true } : {}),
      ...(o.log ? { log: o.log } : {}),
      ...(o.entryLimits ? { limits: o.entryLimits } : {}),
      resolver: dns.dns,
      recorderFor: (source) => controlPlane.controllers.events.recorderFor(source),
      nodeApi: { get: (resource, namespace, name) => controlPlane.store.get({ resource, namespace, name }), client: controlPlane.client },
      leaseDurationSeconds: leaseDurationFor(o.nodeHealth?.nodeMonitorGracePeriodMs),
      ...(kernel ? { kernel: kernel.hooks } : {}),
    })
    if (kernel) {
      exec.contexts.usePodNetwork(kernel.podDialer)
      agents.proxy.dataplane.useHandIn(await kernel.startHandIn({
        log: agents.proxy.log,
        podByIP: (ip) => agents.network.entries().find(([a]) => a.startsWith(`${ip}:`))?.[1].pod,
        describeDestination: (host, port) => {
          const dst = decideDestination(host, port, 'tcp', agents.proxy.dataplane.index)
          return `${dst.kind === 'allow' ? dst.describe : host} port ${port}/tcp`
        },
      }))
    }
    stops.push(() => agents.stop())
    const lightweight = split.lightweight.length === 0 ? undefined : await startLightweightNodes({
      controlPlane, names: split.lightweight, timers: realTimers, clock: systemClock, leaseDurationSeconds: leaseDurationFor(o.nodeHealth?.nodeMonitorGracePeriodMs), ...(o.log ? { log: o.log } : {}),
      kubeProxyConfiguration: proxyConfig ?? defaultKubeProxyConfiguration(),
      services: storeObjectSource<Service>(store, 'services'), endpointSlices: storeObjectSource<EndpointSlice>(store, 'endpointslices.discovery.k8s.io'),
    })
    if (lightweight) stops.push(async () => lightweight.stop())
    await dns.attach(agents.network)
    serviceProxy.attach(agents.proxy.dataplane)
    exec.contexts.attach(agents.proxy.dataplane)
    proxyPorts = agents.proxy.ports
    const reachability = kubeletDialRefusal(agents, (name) => store.get({ resource: 'nodes', namespace: '', name }) as unknown as Node | undefined)
    podLogs.attach(agents.kubelets, reachability)
    exec.backend.attachOutput(kubeletContainerOutput(agents.kubelets))
    exec.backend.useKubeletReachability(reachability)
    portForward.useKubeletReachability(reachability)
    portForward.attach({ network: agents.network, seen: agents.seen, log: agents.proxy.log, connectTimeoutMs: agents.proxy.dataplane.limits.connectTimeoutMs })
    const agentServer = await startAgentServer(agents, o.metricsPort, {
      objects: {
        service: (namespace, name) => store.get({ resource: 'services', namespace, name }) as unknown as Service | undefined,
        pods: (namespace) => store.list('pods', { namespace }).items as unknown as Pod[],
      },
      dialer: portForward,
    }, lightweight?.rules)
    stops.push(() => agentServer.close())
    const ingressDialer = new DataplaneServiceProxy(sourcePorts, ingressEntry, 'ingress controller')
    ingressDialer.attach(agents.proxy.dataplane)
    const ingress = new IngressController({
      controlPlane, dialer: ingressDialer, log: agents.proxy.log,
      ...(o.ingressPort ? { httpPort: o.ingressPort } : {}), ...(o.ingressTlsPort ? { httpsPort: o.ingressTlsPort } : {}),
      ...(o.ingressPortsAreDefault ? { portsAreDefault: true } : {}), ...(o.log ? { logLine: o.log } : {}),
      publishedIPs: () => ingressServiceIPs(controlPlane),
    })
    stops.push(async () => ingress.stop())
    await ingress.start()
    if ((await exposeIngressController({ controlPlane, network: agents.network, listeners: ingress.ports, log: o.log })).length > 0) await ingress.republish()
    await writePrivateFile(join(o.dataDir, agentsInfoFileName), `${JSON.stringify({ url: agentServer.url, pid: process.pid }, null, 2)}\n`)
    const entries = entryPoints({
      apiUrl: controlPlane.url, nodeLoopbacks: agents.nodeLoopbacks, socksPort: agents.proxy.ports.socks, httpProxyPort: agents.proxy.ports.http,
      dns: dns.hostAddress, agentsUrl: agentServer.url, ingress: { httpPort: ingress.ports.http, httpsPort: ingress.ports.https },
    })
    await writeServerInfo(o.dataDir, entries)
    return { controlPlane, agents, agentServer, dns, ingress, entryPoints: entries, applied, lightweight, stop: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}
