/**
 * Composes the node agents of a cluster in one process (what `kpe up` starts after the control
 * plane): per node a kubelet, a kube-proxy loop applying to an InterpreterExecutor (in
 * nftables mode also to an NftInterpreterExecutor, which then carries the traffic), and a
 * dataplane over it; one pod network table; and the entry points. Objects come in through
 * list+watch sources, pod status goes out through a PodStatusWriter.
 */
import type { EndpointSlice, KubeProxyConfiguration, Node, Pod, Service } from '../api/index.js'
import { defaultKubeProxyConfiguration } from '../api/index.js'
import { Kubelet, kubeletNodeFrom, loopbackProber, NodeHeartbeat, PodNetworkTable, SeenSourceTable, type NodeApi, type PodStatusWriter } from '../kubelet/index.js'
import { NotFoundError } from '../errors.js'
import type { ObjectSource } from '../client/index.js'
import type { EventRecorder, EventSource } from '../controllers/index.js'
import { nodeIPs, resolveProxierConfig, serviceHealthChecks } from '../proxy/model/index.js'
import type { Clock, RandomSource, Timers } from '../runtime/index.js'
import { ServiceHealthServer } from '../proxy/healthcheck/index.js'
import { InterpreterExecutor, NftInterpreterExecutor } from '../proxy/netfilter/index.js'
import { Proxier } from '../proxy/proxier/index.js'
import { defaultNodeLoopbacks, NodeDataplane, UserspaceProxy, type NameResolver, type UserspaceLimits } from '../proxy/userspace/index.js'
import { KernelFirstExecutor, KernelFirstNftExecutor } from './kernel-first-executor.js'
import type { KernelNodeHooks, NodeKernel } from './kernel-hooks.js'

export interface NodeAgentsOptions {
  readonly nodes: readonly Node[]
  readonly kubeProxyConfiguration?: KubeProxyConfiguration
  readonly pods: ObjectSource<Pod>
  readonly services: ObjectSource<Service>
  readonly endpointSlices: ObjectSource<EndpointSlice>
  readonly status: PodStatusWriter
  readonly timers: Timers
  readonly clock: Clock
  readonly random: RandomSource
  readonly allowExec?: boolean
  readonly maxGracePeriodSeconds?: number
  /** Node loopback addresses: PREFIX1, PREFIX2, ... in node name order (default "127.0.10."). */
  readonly nodeLoopbackPrefix?: string
  readonly socksPort?: number
  readonly httpProxyPort?: number
  readonly limits?: Partial<UserspaceLimits>
  readonly minSyncPeriodMs?: number
  readonly syncPeriodMs?: number
  readonly log?: (line: string) => void
  /** Cluster DNS for the entry points' names. */
  readonly resolver?: NameResolver & { readonly clusterDomain: string }
  /** A recorder per reporting component (kubelet and kube-proxy of each node). */
  readonly recorderFor?: (source: EventSource) => EventRecorder
  /** Where kubelets renew their Leases and post Node status; without it no heartbeats. */
  readonly nodeApi?: NodeApi
  readonly leaseDurationSeconds?: number
  /** The kernel dataplane: each node's rules also go to its network namespace, each pod gets one. */
  readonly kernel?: KernelNodeHooks
}

export interface NodeAgents {
  readonly network: PodNetworkTable
  readonly seen: SeenSourceTable
  readonly kubelets: ReadonlyMap<string, Kubelet>
  readonly proxiers: ReadonlyMap<string, Proxier>
  readonly executors: ReadonlyMap<string, InterpreterExecutor>
  /** Per node, in nftables mode: the nft executor the dataplane samples. */
  readonly nftExecutors: ReadonlyMap<string, NftInterpreterExecutor>
  readonly dataplanes: ReadonlyMap<string, NodeDataplane>
  /** Per node: the service health server on the node's loopback address. */
  readonly healthServers: ReadonlyMap<string, ServiceHealthServer>
  readonly proxy: UserspaceProxy
  readonly nodeLoopbacks: ReadonlyMap<string, string>
  /**
   * Stops one node's kubelet, heartbeat and kube-proxy as a crash would: no graceful pod
   * shutdown and no status writes; its pods stop answering, the rules last synced stay.
   */
  stopNode(name: string): Promise<void>
  /** Starts a stopped node's kubelet, heartbeat and kube-proxy afresh. */
  startNode(name: string): Promise<void>
  /** Names of the nodes stopped with stopNode. */
  stoppedNodes(): string[]
  stop(): Promise<void>
}

export async function startNodeAgents(o: NodeAgentsOptions): Promise<NodeAgents> {
  const network = new PodNetworkTable()
  const seen = new SeenSourceTable()
  const kpc = o.kubeProxyConfiguration ?? defaultKubeProxyConfiguration()
  const kubelets = new Map<string, Kubelet>()
  const proxiers = new Map<string, Proxier>()
  const executors = new Map<string, InterpreterExecutor>()
  const nftExecutors = new Map<string, NftInterpreterExecutor>()
  const dataplanes = new Map<string, NodeDataplane>()
  const healthServers = new Map<string, ServiceHealthServer>()
  const heartbeats = new Map<string, NodeHeartbeat>()
  const stopped = new Set<string>()
  const log = o.log
  const loopbacks = defaultNodeLoopbacks(o.nodes.map((n) => n.metadata.name ?? ''), o.nodeLoopbackPrefix)
  /** The agents a node crash stops and a restart builds anew: kubelet, heartbeat, kube-proxy and its health server. */
  const kernels = new Map<string, NodeKernel>()
  const processesOf = (node: Node, executor: InterpreterExecutor, nft: NftInterpreterExecutor | undefined): { kubelet: Kubelet; heartbeat: NodeHeartbeat | undefined; health: ServiceHealthServer; proxier: Proxier } => {
    const name = node.metadata.name ?? ''
    const kernel = kernels.get(name)
    const kn = kubeletNodeFrom(node)
    const events = o.recorderFor?.({ controller: 'kubelet', instance: name, host: name })
    const kubelet = new Kubelet({
      node: kn, pods: o.pods, status: o.status, network, seen, timers: o.timers, clock: o.clock, prober: loopbackProber(network),
      ...(o.allowExec ? { allowExec: true } : {}),
      ...(o.maxGracePeriodSeconds !== undefined ? { maxGracePeriodSeconds: o.maxGracePeriodSeconds } : {}),
      ...(log ? { log } : {}),
      ...(events ? { events } : {}),
      ...(kernel ? { sandboxes: kernel.sandboxes } : {}),
    })
    const heartbeat = o.nodeApi && new NodeHeartbeat({
      nodeName: name, api: o.nodeApi, timers: o.timers, clock: o.clock, ...(events ? { events } : {}), ...(log ? { log } : {}),
      ...(o.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: o.leaseDurationSeconds } : {}),
    })
    const health = new ServiceHealthServer({ address: loopbacks.find((l) => l.node === name)!.address, ...(log ? { log } : {}) })
    const config = resolveProxierConfig({ config: kpc, ipFamily: 'IPv4', node, nodeName: name })
    const proxier = new Proxier({
      config,
      // The kernel dataplane: the kernel takes each sync first; the interpreter follows what it took.
      ...(nft ? { nftables: kernel ? new KernelFirstNftExecutor(kernel.nftables, nft) : nft } : {}),
      source: { services: o.services, endpointSlices: o.endpointSlices },
      executor: kernel ? new KernelFirstExecutor(kernel.iptables, executor) : executor, timers: o.timers, clock: o.clock,
      // Served only after a successful sync, so serviceProxyHealthy is true whenever it answers.
      onSynced: (state) => {
        health.sync(serviceHealthChecks(state), true).catch((err: unknown) => log?.(`health server ${name}: ${err instanceof Error ? err.message : String(err)}`))
      },
      ...(o.minSyncPeriodMs !== undefined ? { minSyncPeriodMs: o.minSyncPeriodMs } : {}),
      ...(o.syncPeriodMs !== undefined ? { syncPeriodMs: o.syncPeriodMs } : {}),
      ...(log ? { log } : {}),
    })
    return { kubelet, heartbeat, health, proxier }
  }
  const register = (name: string, p: ReturnType<typeof processesOf>): void => {
    kubelets.set(name, p.kubelet)
    if (p.heartbeat) heartbeats.set(name, p.heartbeat)
    healthServers.set(name, p.health)
    proxiers.set(name, p.proxier)
  }
  /** Builds one node's agents; registers them only once all are built. */
  const addNode = (node: Node): void => {
    const name = node.metadata.name ?? ''
    const kn = kubeletNodeFrom(node)
    if (o.kernel) kernels.set(name, o.kernel.node(name, { network, seen }))
    const executor = new InterpreterExecutor({ family: 'IPv4', source: `${name} restore input` })
    // nftables mode: the loop's transactions go to the nft executor, which the dataplane samples.
    const nft = kpc.mode === 'nftables' ? new NftInterpreterExecutor({ source: `${name} nft -f input` }) : undefined
    const processes = processesOf(node, executor, nft)
    const dataplane = new NodeDataplane({ node: name, nodeIP: nodeIPs(node)[0], podCIDRs: kn.podCIDRs, executor: nft ?? executor, network, random: o.random, clock: o.clock })
    register(name, processes)
    executors.set(name, executor)
    if (nft) nftExecutors.set(name, nft)
    dataplanes.set(name, dataplane)
  }
  for (const node of o.nodes) {
    // A Node the store still holds with unreadable fields (written before validation existed)
    // gets no agents and is reported; every other node starts (issue 10: kpe up must start).
    try {
      addNode(node)
    } catch (err) {
      log?.(`node agents: Node ${String(node?.metadata?.name ?? '')} skipped, its fields cannot be read: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  const proxy = new UserspaceProxy({
    services: o.services, pods: o.pods, nodes: o.nodes, dataplanes, nodeLoopbacks: loopbacks, seen, timers: o.timers, clock: o.clock,
    ...(o.socksPort !== undefined ? { socksPort: o.socksPort } : {}),
    ...(o.httpProxyPort !== undefined ? { httpProxyPort: o.httpProxyPort } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(log ? { log } : {}),
    ...(o.resolver ? { resolver: o.resolver } : {}),
  })
  const stop = async (): Promise<void> => {
    for (const h of heartbeats.values()) h.stop()
    proxy.stop()
    for (const p of proxiers.values()) p.stop()
    await Promise.all([...healthServers.values()].map((h) => h.stop()))
    await Promise.all([...kubelets.values()].map((k) => k.stop()))
  }
  try {
    await Promise.all([...kubelets.values()].map((k) => k.start()))
    await Promise.all([...heartbeats.values()].map((h) => h.start()))
    await Promise.all([...proxiers.values()].map((p) => p.start()))
    for (const name of proxiers.keys()) {
      // kube-proxy's one event: its start, about its Node (referenced by name, as kube-proxy does).
      o.recorderFor?.({ controller: 'kube-proxy', instance: `kube-proxy-${name}`, host: name }).recordEvent({ kind: 'Node', name, uid: name }, 'Starting', '', 'Normal', 'StartKubeProxy')
    }
    await proxy.start()
  } catch (err) {
    // A failed start (a port in use) must not leave kubelets running pods and proxiers syncing
    // with no one to stop them: the caller never gets the handle, and the process would linger.
    await stop()
    throw err
  }
  const known = (name: string): Node => {
    const node = o.nodes.find((n) => n.metadata.name === name)
    if (!node || !kubelets.has(name)) throw new NotFoundError(`node "${name}" has no agents; nodes: ${[...kubelets.keys()].join(', ')}`)
    return node
  }
  const stopNode = async (name: string): Promise<void> => {
    known(name)
    if (stopped.has(name)) return
    stopped.add(name)
    heartbeats.get(name)?.stop()
    proxiers.get(name)?.stop()
    await healthServers.get(name)?.stop()
    await kubelets.get(name)?.stop()
    log?.(`node ${name}: kubelet and kube-proxy stopped (crash)`)
  }
  const startNode = async (name: string): Promise<void> => {
    const node = known(name)
    if (!stopped.has(name)) return
    const p = processesOf(node, executors.get(name)!, nftExecutors.get(name))
    register(name, p)
    stopped.delete(name)
    await p.kubelet.start()
    await p.heartbeat?.start()
    await p.proxier.start()
    o.recorderFor?.({ controller: 'kube-proxy', instance: `kube-proxy-${name}`, host: name }).recordEvent({ kind: 'Node', name, uid: name }, 'Starting', '', 'Normal', 'StartKubeProxy')
    log?.(`node ${name}: kubelet and kube-proxy started`)
  }
  return {
    network, seen, kubelets, proxiers, executors, nftExecutors, dataplanes, healthServers, proxy,
    nodeLoopbacks: new Map(loopbacks.map((l) => [l.node, l.address])),
    stopNode, startNode, stoppedNodes: () => [...stopped].sort(),
    stop,
  }
}
