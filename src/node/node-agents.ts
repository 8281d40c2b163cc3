/**
 * Composes the node agents of a cluster in one process (what `kpe up` starts after the control
 * plane): per node a kubelet, a kube-proxy loop applying to an InterpreterExecutor (in
 * nftables mode also to an NftInterpreterExecutor, which then carries the traffic), and a
 * dataplane over it; one pod network table; and the entry points. Objects come in through
 * list+watch sources, pod status goes out through a PodStatusWriter.
 */
import type { EndpointSlice, KubeProxyConfiguration, Node, Pod, Service } from '../api/index.js'
import { defaultKubeProxyConfiguration } from '../api/index.js'
import { Kubelet, kubeletNodeFrom, loopbackProber, PodNetworkTable, SeenSourceTable, type PodStatusWriter } from '../kubelet/index.js'
import type { ObjectSource } from '../client/index.js'
import { nodeIPs, resolveProxierConfig, serviceHealthChecks } from '../proxy/model/index.js'
import type { Clock, RandomSource, Timers } from '../runtime/index.js'
import { ServiceHealthServer } from '../proxy/healthcheck/index.js'
import { InterpreterExecutor, NftInterpreterExecutor } from '../proxy/netfilter/index.js'
import { syncNftables } from './nft-sync.js'
import { Proxier } from '../proxy/proxier/index.js'
import { defaultNodeLoopbacks, NodeDataplane, UserspaceProxy, type UserspaceLimits } from '../proxy/userspace/index.js'

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
  const log = o.log
  const loopbacks = defaultNodeLoopbacks(o.nodes.map((n) => n.metadata.name ?? ''), o.nodeLoopbackPrefix)
  /** Builds one node's agents; registers them only once all are built. */
  const addNode = (node: Node): void => {
    const name = node.metadata.name ?? ''
    const kn = kubeletNodeFrom(node)
    const kubelet = new Kubelet({
      node: kn, pods: o.pods, status: o.status, network, seen, timers: o.timers, clock: o.clock, prober: loopbackProber(network),
      ...(o.allowExec ? { allowExec: true } : {}),
      ...(o.maxGracePeriodSeconds !== undefined ? { maxGracePeriodSeconds: o.maxGracePeriodSeconds } : {}),
      ...(log ? { log } : {}),
    })
    const health = new ServiceHealthServer({ address: loopbacks.find((l) => l.node === name)!.address, ...(log ? { log } : {}) })
    const executor = new InterpreterExecutor({ family: 'IPv4', source: `${name} restore input` })
    const config = resolveProxierConfig({ config: kpc, ipFamily: 'IPv4', node, nodeName: name })
    const nft = kpc.mode === 'nftables' ? new NftInterpreterExecutor({ source: `${name} nft -f input` }) : undefined
    const proxier = new Proxier({
      config,
      source: { services: o.services, endpointSlices: o.endpointSlices },
      executor, timers: o.timers, clock: o.clock,
      // Served only after a successful sync, so serviceProxyHealthy is true whenever it answers.
      onSynced: (state) => {
        if (nft) syncNftables(nft, state, config).catch((err: unknown) => log?.(`nftables sync ${name}: ${err instanceof Error ? err.message : String(err)}`))
        health.sync(serviceHealthChecks(state), true).catch((err: unknown) => log?.(`health server ${name}: ${err instanceof Error ? err.message : String(err)}`))
      },
      ...(o.minSyncPeriodMs !== undefined ? { minSyncPeriodMs: o.minSyncPeriodMs } : {}),
      ...(o.syncPeriodMs !== undefined ? { syncPeriodMs: o.syncPeriodMs } : {}),
      ...(log ? { log } : {}),
    })
    const dataplane = new NodeDataplane({ node: name, nodeIP: nodeIPs(node)[0], podCIDRs: kn.podCIDRs, executor: nft ?? executor, network, random: o.random, clock: o.clock })
    kubelets.set(name, kubelet)
    healthServers.set(name, health)
    executors.set(name, executor)
    if (nft) nftExecutors.set(name, nft)
    proxiers.set(name, proxier)
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
  })
  const stop = async (): Promise<void> => {
    proxy.stop()
    for (const p of proxiers.values()) p.stop()
    await Promise.all([...healthServers.values()].map((h) => h.stop()))
    await Promise.all([...kubelets.values()].map((k) => k.stop()))
  }
  try {
    await Promise.all([...kubelets.values()].map((k) => k.start()))
    await Promise.all([...proxiers.values()].map((p) => p.start()))
    await proxy.start()
  } catch (err) {
    // A failed start (a port in use) must not leave kubelets running pods and proxiers syncing
    // with no one to stop them: the caller never gets the handle, and the process would linger.
    await stop()
    throw err
  }
  return {
    network, seen, kubelets, proxiers, executors, nftExecutors, dataplanes, healthServers, proxy,
    nodeLoopbacks: new Map(loopbacks.map((l) => [l.node, l.address])),
    stop,
  }
}
