/**
 * `kpe up --dataplane kernel`, assembled: refuses where this user cannot create a user
 * namespace, builds the node topology, and gives each node's agents a KernelExecutor (iptables
 * mode, iptables-nft) or NftKernelExecutor (nftables mode) in the node's namespace and the pod
 * sandboxes; the pod toolbox dials from the pod's own namespace through its agent.
 */
import { UsageError } from '../errors.js'
import { KernelExecutor, missingLabPrerequisites, NftKernelExecutor, rootlessUnavailable } from '../lab/index.js'
import type { NodeKernel } from '../node/index.js'
import type { KernelDataplaneContext, KernelDataplaneHandle, PodNetworkDialer } from '../up/index.js'
import { handInSources, startKernelHandIn, startNetnsAgent, type KernelHandIn } from '../netns/index.js'
import { KernelNamespaces } from './kernel-namespaces.js'
import { planKernelTopology } from './kernel-topology.js'
import type { StartPodAgent } from './pod-agent.js'
import { KernelPodSandboxes } from './pod-sandboxes.js'
import { dialFromPod, type PodDialLog } from './pod-dial.js'

export interface KernelDataplaneOptions {
  /** Starts a namespace agent in a pod's namespace; default: src/netns's agent, joined to the user namespace. */
  readonly startAgent?: StartPodAgent
  /** Root only: build the namespaces with root instead of in a user namespace (not supported yet). */
  readonly rootless?: boolean
}

/** The reason `--dataplane kernel` cannot run here, or undefined. */
export function kernelDataplaneUnavailable(o: Pick<KernelDataplaneOptions, 'rootless'> = {}): string | undefined {
  if (o.rootless === false) return '--rootless=false is not supported yet: the kernel dataplane always runs in a user namespace (it needs no root, and root can create one too)'
  const why = rootlessUnavailable()
  if (why !== undefined) return `--dataplane kernel needs a user namespace: ${why}`
  // Holders die with kpe through setpriv; nodes are entered with nsenter; rules load with either tool.
  const missing = missingLabPrerequisites({ rootless: true, commands: ['nsenter', 'setpriv', 'sysctl', 'iptables-nft-restore', 'nft'] })
  return missing === undefined ? undefined : `--dataplane kernel: ${missing}`
}

/** A StartKernelDataplane for startCluster. */
export function kernelDataplane(o: KernelDataplaneOptions = {}): (ctx: KernelDataplaneContext) => Promise<KernelDataplaneHandle> {
  return async (ctx) => {
    const why = kernelDataplaneUnavailable(o)
    if (why !== undefined) throw new UsageError(why, { hint: 'run `kpe up` without --dataplane kernel for the userspace dataplane' })
    const topology = planKernelTopology(ctx.nodes, ctx.kubeProxyConfiguration)
    const namespaces = await KernelNamespaces.start(topology, ctx.dataDir)
    ctx.log?.(`kernel dataplane: ${topology.nodes.length} node namespaces in user namespace ${namespaces.userNs}; rules through iptables-nft (iptables-legacy is refused inside a user namespace) or nft`)
    let sandboxes: KernelPodSandboxes | undefined
    const hooks = {
      node(name: string, tables: Parameters<KernelDataplaneHandle['hooks']['node']>[1]): NodeKernel {
        const node = topology.nodes.find((n) => n.name === name)
        if (!node) throw new UsageError(`node ${name} is not in the kernel dataplane's topology (nodes: ${topology.nodes.map((n) => n.name).join(', ')})`)
        const startAgent: StartPodAgent = o.startAgent ?? ((holderPid) => startNetnsAgent({ holderPid, rootless: true, ...(ctx.log ? { log: ctx.log } : {}) }))
        sandboxes ??= new KernelPodSandboxes({ namespaces, network: tables.network, seen: tables.seen, startAgent, ...(ctx.log ? { log: ctx.log } : {}) })
        const run = namespaces.runner(node.netns)
        return { iptables: new KernelExecutor({ run, family: 'IPv4', backend: 'nft' }), nftables: new NftKernelExecutor({ run }), sandboxes }
      },
    }
    let dialLog: PodDialLog | undefined
    const podDialer: PodNetworkDialer = {
      dial(pod, ip, port, signal) {
        const agent = sandboxes?.agentOf(pod.namespace, pod.name)
        const node = sandboxes?.nodeOf(pod.namespace, pod.name)
        const netns = topology.nodes.find((n) => n.name === node)?.netns
        if (!agent || node === undefined || netns === undefined) return undefined
        const podIP = sandboxes?.ipOf(pod.namespace, pod.name)
        return dialFromPod(agent, { pod: `${pod.namespace}/${pod.name} (${podIP ?? '?'})`, node, host: ip, port, signal }, dialLog && { ...dialLog, conntrack: namespaces.runner(netns) })
      },
    }
    let handIn: KernelHandIn | undefined
    return {
      hooks, podDialer,
      async startHandIn(h) {
        dialLog = { log: h.log, podByIP: h.podByIP, describeDestination: h.describeDestination }
        const nodeHolders = new Map(topology.nodes.flatMap((n) => { const pid = namespaces.holderOf(n.netns); return pid === undefined ? [] : [[n.name, pid] as const] }))
        handIn = await startKernelHandIn(
          { rootless: true, outsideHolder: namespaces.holderOf(topology.external.netns)!, nodeHolders, sources: handInSources(topology) },
          { log: h.log, clock: { now: () => Date.now() }, podByIP: h.podByIP, ...(ctx.log ? { logger: ctx.log } : {}) },
        )
        return handIn
      },
      async stop() {
        await handIn?.stop().catch(() => {})
        await sandboxes?.stop()
        await namespaces.stop()
      },
    }
  }
}
